#!/bin/bash
# timeout: 300
# A chain across both QEMU hubs: nicbox-pktgen on 04 -> hub 0 -> 05
# nicbox-fwd 06 -> hub 1 -> nicbox-capture --verify on 07, all as the
# unprivileged user. The forwarder holds 05 and 06 in one session (one IOMMU
# container: zero-copy). At this rate the TCG guest keeps up, so the check
# demands every frame: none lost, duplicated, reordered or corrupt, and no
# drops in the forwarder (apps_chain in test/apps/vm-lib.sh).
. "$NB_SRC/test/vm/lib.sh"
. "$NB_SRC/test/apps/vm-lib.sh"

nics=($NB_NICS)
gen=${nics[0]} fwd_a=${nics[1]} fwd_b=${nics[2]} cap=${nics[3]}
count=5000 rate=200 size=256 # see 40-apps-pktgen-capture.sh for the rate

apps_policy "$NB_OUT/policy.conf" "${nics[@]}"
NB_HELPER_LOG=$NB_OUT/helper.log nb_helper_start "$NB_OUT/policy.conf" || exit 1

apps_chain "$gen" "$fwd_a" "$fwd_b" "$cap" "$count" "$rate" "$size" || exit 1
nb_check "the helper stops cleanly" nb_helper_stop
