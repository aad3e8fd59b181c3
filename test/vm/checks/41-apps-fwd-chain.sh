#!/bin/bash
# timeout: 300
# A chain across both QEMU hubs: nicbox-pktgen on 04 -> hub 0 -> 05
# nicbox-fwd 06 -> hub 1 -> nicbox-capture --verify on 07, all as the
# unprivileged user. The forwarder holds 05 and 06 in one session (one IOMMU
# container: zero-copy). At this rate the TCG guest keeps up, so the check
# demands every frame: none lost, duplicated, reordered or corrupt, and no
# drops in the forwarder.
. "$NB_SRC/test/vm/lib.sh"
. "$NB_SRC/test/apps/vm-lib.sh"

nics=($NB_NICS)
gen=${nics[0]} fwd_a=${nics[1]} fwd_b=${nics[2]} cap=${nics[3]}
count=5000 rate=200 size=256 # see 40-apps-pktgen-capture.sh for the rate

apps_policy "$NB_OUT/policy.conf" "${nics[@]}"
NB_HELPER_LOG=$NB_OUT/helper.log nb_helper_start "$NB_OUT/policy.conf" || exit 1

apps_start capture capture --dev "$cap" --verify --expect "$count" \
  --count "$count" --duration 150
apps_wait_ready capture || exit 1
apps_start fwd fwd --dev "$fwd_a" --dev "$fwd_b" --duration 170
apps_wait_ready fwd || exit 1
apps_check_sandboxed fwd
apps_chain_run "$gen" "$count" "$rate" "$size" || exit 1
apps_expect_final pktgen "$gen" sent "$count"
for dev in "$fwd_a" "$fwd_b"; do
  for field in drops errors faults; do
    apps_expect_final fwd "$dev" "$field" 0
  done
done
apps_expect_final fwd "$fwd_a" rx_packets "$count"
apps_expect_final fwd "$fwd_b" tx_packets "$count"
apps_expect_final capture "$cap" valid "$count"
for field in lost duplicated reordered corrupt foreign drops errors faults; do
  apps_expect_final capture "$cap" "$field" 0
done
nb_check "nicbox-fwd printed a final line per device" \
  test "$(jq -c 'select(.final == true)' "$APPS_TMP/fwd.json" | wc -l)" -eq 2
nb_check "the helper stops cleanly" nb_helper_stop
