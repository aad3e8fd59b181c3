#!/bin/bash
# timeout: 300
# nicbox's apps on the igb NICs (QEMU's 82576 model), all as the
# unprivileged user, every frame checked by nicbox-capture --verify:
#  1. igb -> igb: nicbox-pktgen on 02 -> hub 2 -> nicbox-capture on 08,
#     1,100-byte frames (above the 1 KiB a rounded-down SRRCTL would give);
#     root reads both apps' /proc status while they run (sandbox state).
#  2. virtio -> igb: pktgen on virtio 04 -> hub 0 -> nicbox-fwd 05 (virtio)
#     <-> 02 (igb) -> hub 2 -> capture on igb 08.
#  3. igb -> virtio: pktgen on igb 0c -> hub 3 -> nicbox-fwd 0a (igb) <->
#     06 (virtio) -> hub 1 -> capture on virtio 07.
# Chains 2 and 3 use disjoint NICs and run side by side (the apps' start-up
# under TCG is most of this check's time). The receiver starts first (QEMU
# holds back a sender whose hub peer cannot receive). At 200 frames/s the
# TCG guest keeps up, so every frame must arrive once, in order, intact,
# and the forwarder must drop none.
. "$NB_SRC/test/vm/lib.sh"
. "$NB_SRC/test/apps/vm-lib.sh"
. "$NB_SRC/test/apps/vm-chain-lib.sh"

nics=($NB_NICS)
igbs=($NB_IGB_NICS)
count=2000 rate=200

apps_policy "$NB_OUT/policy.conf" "${nics[@]}" "${igbs[@]}"
NB_HELPER_LOG=$NB_OUT/helper.log nb_helper_start "$NB_OUT/policy.conf" || exit 1

echo "== 1: igb ${igbs[0]} -> igb ${igbs[1]}, 1,100-byte frames"
chain_capture_start direct "${igbs[1]}" --duration 120
apps_wait_ready direct-capture || exit 1
# The capture waits for frames, so it is surely running now; pktgen is
# checked the moment it is ready (it runs 10 s), the forwarders below while
# they run until stopped.
apps_check_sandboxed direct-capture
chain_pktgen_start direct "${igbs[0]}" --rate "$rate" --size 1100 --duration 120
apps_wait_ready direct-pktgen || exit 1
apps_check_sandboxed direct-pktgen
chain_finish direct "${igbs[0]}" "${igbs[1]}"
apps_expect_final direct-pktgen "${igbs[0]}" errors 0
# The device's own clear-on-read counters, accumulated by the driver over
# the once-a-second reads; octet counts include the 4-byte FCS (8.19).
apps_expect_final direct-pktgen "${igbs[0]}" tx_packets "$count"
apps_expect_final direct-pktgen "${igbs[0]}" tx_bytes $((count * 1104))
apps_expect_final direct-capture "${igbs[1]}" rx_packets "$count"
apps_expect_final direct-capture "${igbs[1]}" rx_bytes $((count * 1104))

echo "== 2: virtio ${nics[0]} -> fwd ${nics[1]} (virtio) -> ${igbs[0]} (igb) -> igb ${igbs[1]}"
echo "== 3: igb ${igbs[3]} -> fwd ${igbs[2]} (igb) -> ${nics[2]} (virtio) -> virtio ${nics[3]}"
chain_capture_start v2i "${igbs[1]}" --duration 120
chain_capture_start i2v "${nics[3]}" --duration 120
apps_wait_ready v2i-capture && apps_wait_ready i2v-capture || exit 1
chain_fwd_start v2i "${nics[1]}" "${igbs[0]}" --duration 150
chain_fwd_start i2v "${igbs[2]}" "${nics[2]}" --duration 150
apps_wait_ready v2i-fwd && apps_wait_ready i2v-fwd || exit 1
apps_check_sandboxed v2i-fwd
apps_check_sandboxed i2v-fwd
chain_pktgen_start v2i "${nics[0]}" --rate "$rate" --size 256 --duration 120
chain_pktgen_start i2v "${igbs[3]}" --rate "$rate" --size 256 --duration 120
apps_wait_ready v2i-pktgen && apps_wait_ready i2v-pktgen || exit 1
chain_finish v2i "${nics[0]}" "${igbs[1]}"
chain_finish i2v "${igbs[3]}" "${nics[3]}"
chain_fwd_finish v2i "${nics[1]}" "${igbs[0]}"
chain_fwd_finish i2v "${igbs[2]}" "${nics[2]}"
nb_check "the helper stops cleanly" nb_helper_stop
