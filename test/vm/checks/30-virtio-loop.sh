#!/bin/bash
# timeout: 300
# The virtio-net driver end to end on real (QEMU) virtio 1.x devices behind
# the emulated IOMMU: as the unprivileged user, one session claims NICs 04
# and 05 (QEMU hub 0), opens both (feature negotiation incl.
# ACCESS_PLATFORM, rings at IOVAs, promiscuous mode off over the control
# queue), locks down, and sends numbered frames from 04 to 05's MAC; every
# one must arrive in order and intact, with no errors or device faults,
# and every buffer must be back in its mempool after close. Frames to a
# foreign MAC must be filtered until promiscuous mode is switched on (again
# over the control queue, after lockdown), then arrive.
. "$NB_SRC/test/vm/lib.sh"

nics=($NB_NICS)
tx=${nics[0]} rx=${nics[1]}
loop=$NB_BUILD/test/virtio/virtio_vm_loop
if [[ ! -x $loop ]]; then
  echo "FAIL: $loop not built (configure the release tree with NB_TESTS=ON)"
  exit 1
fi

{
  echo "allow user:$NB_UID pci:$tx pool=256M"
  echo "allow user:$NB_UID pci:$rx pool=256M"
} >"$NB_OUT/policy.conf"
NB_HELPER_LOG=$NB_OUT/helper.log nb_helper_start "$NB_OUT/policy.conf" || exit 1

nb_check "20000 frames of 128 bytes $tx -> $rx: all arrive in order, intact, no faults" \
  nb_as_user "$loop" --socket "$NB_SOCK" --tx "$tx" --rx "$rx" --count 20000 --size 128
# The claim below comes right after the first session's exit (once: "busy").
nb_check "$tx and $rx are released after the first run" nb_wait_released "$tx" "$rx"
nb_check "2000 full-size (1514-byte) frames $rx -> $tx, the other direction" \
  nb_as_user "$loop" --socket "$NB_SOCK" --tx "$rx" --rx "$tx" --count 2000 --size 1514
nb_check "the helper stops cleanly" nb_helper_stop
for bdf in "$tx" "$rx"; do
  nb_check "$bdf is back on $NB_VIRTIO_DRIVER" test "$(nb_nic_driver "$bdf")" = "$NB_VIRTIO_DRIVER"
done
