#!/bin/bash
# The one-burst stall of issue 8, without nicbox (docs/testbed.md, "Where
# frames go"). testpmd txonly on 04 while its hub partner 05 stays on the
# kernel's virtio-net with the interface down (no receive buffers posted):
# QEMU pauses 04 after one ring (and one frame it holds); bringing 05 up
# (the kernel posts buffers and notifies) resumes it at once. Then 05
# filters testpmd's frames by MAC (not promiscuous): QEMU drops them
# silently, 04 keeps sending. Run it with
#   test/vm/boot.sh --run test/vm/hub-stall.sh
# and, to see the rings, NB_QEMU_ARGS="-monitor unix:SOCK,server=on,wait=off"
# plus "info virtio-queue-status /machine/peripheral-anon/device[3]/virtio-backend 1"
# (device[3..6] are the NICs in slots 4..7; queue 0 rx, 1 tx).
. "$NB_SRC/test/vm/lib.sh"
. "$NB_SRC/test/vm/testpmd-lib.sh"

nics=($NB_NICS)
tx=${nics[0]} partner=${nics[1]}
log=$NB_RESULTS/hub-stall-testpmd.log
dev=$(basename /sys/bus/pci/devices/"$partner"/virtio*/net/*)
live() {
  awk 'BEGIN { p = -1 } /NIC statistics for port/ { p = $(NF - 1) }
       p == 0 && $1 == "TX-packets:" { v = $2 } END { print v + 0 }' "$log"
}
show() {
  echo "$(date +%T) $1: testpmd on $tx sent $(live); $dev ($partner) received" \
    "$(cat "/sys/class/net/$dev/statistics/rx_packets"), $(cat "/sys/class/net/$dev/operstate")"
}

nb_bind_vfio "$tx" || exit 1
nb_testpmd_start "$log" "$tx" -- --forward-mode=txonly --txpkts=64 || exit 1
show "sending; partner down"
sleep 4; show "4 s later"
sleep 4; show "8 s later"
ip link set dev "$dev" up
sleep 4; show "partner up for 4 s"
ip link set dev "$dev" down
sleep 4; show "partner down again for 4 s"
nb_testpmd_stop
