#!/bin/bash
# timeout: 180
# The testbed is real: DPDK 22.11 testpmd (the reference peer) takes two
# NICs through vfio-pci and the emulated IOMMU (type 1, IOVA = VA) and keeps
# a packet loop going between them across QEMU hub 0 (io forwarding,
# --tx-first), then both NICs go back to virtio-pci with working netdevs.
. "$NB_SRC/test/vm/lib.sh"
. "$NB_SRC/test/vm/testpmd-lib.sh"

nics=($NB_NICS)
a=${nics[0]} b=${nics[1]}
seconds=15
# At least this many frames per port in $seconds s: far more than the
# first burst testpmd sends (--tx-first), so the loop has really run.
min_frames=10000

command -v dpdk-testpmd >/dev/null || { echo "SKIP: dpdk-testpmd not installed (apt-get install dpdk-dev)"; exit 77; }

nb_check "$a and $b bind to vfio-pci" nb_bind_vfio "$a" "$b" || exit 1
log=$NB_OUT/testpmd.log
if ! nb_testpmd_start "$log" "$a" "$b" -- --forward-mode=io --tx-first --stats-period 5; then
  echo "FAIL: testpmd did not start forwarding"
  exit 1
fi
sleep "$seconds"
nb_check "testpmd stops cleanly on SIGINT" nb_testpmd_stop
sed -n '/Forward statistics for port 0/,/Done\./p' "$log"

nb_check "EAL set up VFIO with IOMMU type 1" grep -q 'Using IOMMU type 1' "$log"
nb_check "testpmd drives $a as port 0 (MAC 52:54:00:00:00:04)" grep -q '^Port 0: 52:54:00:00:00:04' "$log"
nb_check "testpmd drives $b as port 1 (MAC 52:54:00:00:00:05)" grep -q '^Port 1: 52:54:00:00:00:05' "$log"
for port in 0 1; do
  rx=$(nb_testpmd_forward_stat "$log" $port RX-packets)
  dropped=$(nb_testpmd_forward_stat "$log" $port TX-dropped)
  nb_check "port $port received more than $min_frames frames in $seconds s (got '$rx')" \
    test "${rx:-0}" -gt "$min_frames"
  nb_check "port $port dropped no frame on transmit (got '$dropped')" test "${dropped:-x}" == 0
done

nb_check "$a and $b go back to virtio-pci" nb_bind_kernel "$a" "$b"
for bdf in "$a" "$b"; do
  nb_check "$bdf has a netdev again" test -d "/sys/bus/pci/devices/$bdf/virtio"*/net
done
