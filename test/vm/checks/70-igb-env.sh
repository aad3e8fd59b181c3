#!/bin/bash
# timeout: 60
# The igb NICs of the testbed (QEMU's 82576 model, written by others): four
# 8086:10c9 devices, each alone in its IOMMU group, bound to the guest
# kernel's igb driver with a netdev, and wired in pairs on hubs 2 and 3
# (docs/testbed.md). The later 7x checks rely on these.
. "$NB_SRC/test/vm/lib.sh"

igbs=($NB_IGB_NICS)
nb_check "four NICs in NB_IGB_NICS" test ${#igbs[@]} -eq 4
nb_check "the guest kernel has the igb driver" test -d /sys/bus/pci/drivers/igb
for bdf in "${igbs[@]}"; do
  dev=/sys/bus/pci/devices/$bdf
  nb_check "$bdf is an 82576 (8086:10c9)" test "$(cat $dev/vendor):$(cat $dev/device)" == 0x8086:0x10c9
  nb_check "$bdf is bound to igb" test "$(nb_nic_driver "$bdf")" == igb
  nb_check "$bdf has a kernel netdev" test -d "$dev/net"
  group=$(basename "$(readlink "$dev/iommu_group")")
  nb_check "$bdf is alone in IOMMU group $group" test "$(ls /sys/kernel/iommu_groups/$group/devices | wc -l)" -eq 1
  echo "  $bdf group $group driver $(nb_nic_driver "$bdf") netdev $(ls $dev/net 2>/dev/null)"
done
# Binding through driver_override to vfio-pci and back to igb, by hand.
bdf=${igbs[3]}
nb_check "$bdf binds to vfio-pci" nb_bind_vfio "$bdf"
nb_check "$bdf goes back to igb" nb_bind_kernel "$bdf"
nb_check "$bdf has its netdev back" test -d "/sys/bus/pci/devices/$bdf/net"
