#!/bin/bash
# timeout: 120
# The testbed itself: an IOMMU with one group per NIC, VFIO usable, hugepages
# reserved, the four NICs on virtio-pci. Every later check relies on these.
. "$NB_SRC/test/vm/lib.sh"

nics=($NB_NICS)
nb_check "four NICs in NB_NICS" test ${#nics[@]} -eq 4
mq_nics=($NB_MQ_NICS)
nb_check "two multi-queue tap NICs in NB_MQ_NICS" test ${#mq_nics[@]} -eq 2

iommu_groups=(/sys/kernel/iommu_groups/*)
nb_check "the IOMMU is on (/sys/kernel/iommu_groups is not empty)" test -e "${iommu_groups[0]}"

nic_group() { basename "$(readlink "/sys/bus/pci/devices/$1/iommu_group")"; }
group_size() { ls "/sys/kernel/iommu_groups/$1/devices" | wc -l; }
declare -A seen_groups=()
for bdf in "${nics[@]}" "${mq_nics[@]}"; do
  nb_check "$bdf is a modern virtio-net device (1af4:1041)" \
    test "$(cat /sys/bus/pci/devices/$bdf/vendor):$(cat /sys/bus/pci/devices/$bdf/device)" == 0x1af4:0x1041
  nb_check "$bdf is bound to virtio-pci" test "$(nb_nic_driver "$bdf")" == virtio-pci
  nb_check "$bdf has a kernel netdev" test -d "/sys/bus/pci/devices/$bdf/virtio"*/net
  group=$(nic_group "$bdf")
  nb_check "$bdf is in an IOMMU group" test -n "$group"
  nb_check "$bdf is alone in IOMMU group $group" test "$(group_size "$group")" -eq 1
  nb_check "$bdf does not share group $group with another NIC" test -z "${seen_groups[$group]:-}"
  seen_groups[$group]=$bdf
done

nb_check "/dev/vfio/vfio exists" test -c /dev/vfio/vfio
nb_check "vfio-pci is loaded" test -d /sys/bus/pci/drivers/vfio-pci
nb_check "the type1 IOMMU backend is loaded" test -d /sys/module/vfio_iommu_type1
nb_check "interrupt remapping is on (VFIO refuses group attach without it)" \
  grep -q 'Enabled IRQ remapping' <(dmesg)

hugepages=/sys/kernel/mm/hugepages/hugepages-2048kB
nb_check "512 2 MiB hugepages reserved" test "$(cat $hugepages/nr_hugepages)" -ge 512
nb_check "hugetlbfs is mounted at /dev/hugepages" grep -q ' /dev/hugepages hugetlbfs ' /proc/mounts
nb_check "/run and /tmp are writable tmpfs" \
  bash -c 'touch /run/.nb-env /tmp/.nb-env && rm /run/.nb-env /tmp/.nb-env'
nb_check "NB_OUT is writable" touch "$NB_OUT/env-ok"
nb_check "the host root is read-only" bash -c '! touch /.nb-env 2>/dev/null'

# An unprivileged user can reach a group's device node only once the helper
# hands it over: the nodes start root-only.
nb_check "nb_as_user runs as $NB_UID:$NB_GID" \
  test "$(nb_as_user id -u):$(nb_as_user id -g):$(nb_as_user id -G)" == "$NB_UID:$NB_GID:$NB_GID"
user_caps=$(nb_as_user grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb):' /proc/self/status)
echo "$user_caps"
nb_check "nb_as_user has no capabilities" \
  test "$(grep -c ':[[:space:]]*0000000000000000$' <<<"$user_caps")" -eq 5

# Binding through driver_override and back, once, by hand: /dev/vfio/<group> appears.
bdf=${nics[3]}
group=$(nic_group "$bdf")
nb_check "$bdf binds to vfio-pci" nb_bind_vfio "$bdf"
nb_check "/dev/vfio/$group appears" test -c "/dev/vfio/$group"
nb_check "$bdf goes back to virtio-pci" nb_bind_kernel "$bdf"
nb_check "/dev/vfio/$group goes away" test ! -e "/dev/vfio/$group"

echo "IOMMU groups:"
for bdf in "${nics[@]}"; do
  echo "  $bdf group $(nic_group "$bdf") driver $(nb_nic_driver "$bdf") netdev $(ls /sys/bus/pci/devices/$bdf/virtio*/net 2>/dev/null)"
done
