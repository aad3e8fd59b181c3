#!/bin/bash
# timeout: 120
# Interrupt remapping (issue 9): the testbed's IOMMU remaps interrupts
# (intel-iommu intremap=on), so the helper's isolation check accepts a
# claim, with vfio_iommu_type1's allow_unsafe_interrupts at N and at Y (Y
# only matters where remapping is off, which this guest cannot show).
. "$NB_SRC/test/vm/lib.sh"
. "$NB_SRC/test/privsep/vm_helper_lib.sh"

a=${nics[0]}
param=/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts
nb_check "an interrupt chip is remapped (IR-* in /proc/interrupts)" grep -q " IR-" /proc/interrupts
grep -o " IR-[A-Z-]*" /proc/interrupts | sort | uniq -c
NB_HELPER_LOG=$NB_OUT/helper.log nb_helper_start "$NB_SRC/test/vm/testbed.conf" || exit 1

nb_check "allow_unsafe_interrupts is N" test "$(cat $param)" == N
probe_as_user claim-n "$a"
nb_check "claim accepted with remapping on" test "$probe_rc" -eq 0
nb_check "$a restored" wait_restored "$a"

echo Y >"$param"
nb_on_exit "echo N >$param"
probe_as_user claim-y "$a"
nb_check "claim accepted with allow_unsafe_interrupts=Y, remapping on" test "$probe_rc" -eq 0
nb_check "$a restored" wait_restored "$a"
echo N >"$param"
nb_check "the helper refused nothing for interrupts" not_grep "interrupt remapping is off" "$NB_OUT/helper.log"
exit "$NB_FAILED"
