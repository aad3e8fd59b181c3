#!/bin/bash
# `make devfuzz`, inside the testbed guest (test/devfuzz/run.sh boots it):
# nicbox-devfuzz on QEMU's virtio-net (05, partner 04) and igb (08, partner
# 02) models at once, the transmit rings for the first half of SECONDS, the
# receive rings for the second, then a clean traffic run on each fuzzed
# NIC. Writes into $NB_RESULTS/guest: each run's JSON lines and stderr, the
# findings files, the kernel log and summary.env.
#
#   guest-run.sh SECONDS [SEED]
set -u
secs=${1:?usage: guest-run.sh SECONDS [SEED]}
seed=${2:-$(date +%s)}
export NB_OUT=$NB_RESULTS/guest
mkdir -p "$NB_OUT"
. "$NB_SRC/test/vm/lib.sh"
. "$NB_SRC/test/apps/vm-lib.sh"
. "$NB_SRC/test/devfuzz/vm-devfuzz.sh"

apps_policy "$NB_OUT/policy.conf" "${DF_VIRTIO[@]}" "${DF_IGB[@]}"
NB_HELPER_LOG=$NB_OUT/helper.log nb_helper_start "$NB_OUT/policy.conf" || exit 1
read -r dmar0 irq0 < <(df_dmar_faults)
half=$((secs / 2))
for mode in tx rx; do
  echo "== $mode rings, $half s, seed $seed"
  for m in virtio igb; do
    pair=DF_${m^^}
    df_run "$mode-$m" "$half" "$pair" --json --mode "$mode" --seed "$seed" \
      --findings "$APPS_TMP/findings-$m.case"
  done
  for m in virtio igb; do
    apps_wait "$mode-$m"
    echo "$mode-$m: exit ${APP_RC[$mode-$m]}"
    echo "rc_${mode}_$m=${APP_RC[$mode-$m]}" >>"$NB_OUT/summary.env"
    grep -v '"case"' "$APPS_TMP/$mode-$m.json" | tail -n 1
    cat "$APPS_TMP/$mode-$m.err"
  done
done
read -r dmar1 irq1 < <(df_dmar_faults)
dmesg >"$APPS_TMP/dmesg.txt"
{
  echo "seed=$seed seconds=$secs"
  echo "dmar_lines=$((dmar1 - dmar0)) dmar_irqs=$((irq1 - irq0))"
  for bdf in "${DF_VIRTIO[0]}" "${DF_IGB[0]}"; do
    echo "dmar_lines_${bdf//[:.]/_}=$(grep -c "DMAR: \[DMA.*Request device \[${bdf#0000:}\]" "$APPS_TMP/dmesg.txt")"
  done
  echo "dmesg_ratelimited=$(grep -c 'dmar_fault.*callbacks suppressed\|callbacks suppressed' "$APPS_TMP/dmesg.txt")"
} | tee -a "$NB_OUT/summary.env"
df_traffic after-virtio "${DF_VIRTIO[1]}" "${DF_VIRTIO[0]}" 1000
df_traffic after-igb "${DF_IGB[1]}" "${DF_IGB[0]}" 1000
bad=$(df_guest_unhealthy)
echo "guest_unhealthy_lines=$(grep -c . <<<"$bad")" >>"$NB_OUT/summary.env"
echo "traffic_failed=$NB_FAILED" >>"$NB_OUT/summary.env"
nb_helper_stop
echo "devfuzz guest run done: traffic checks $([[ $NB_FAILED == 0 ]] && echo passed || echo FAILED)"
exit "$NB_FAILED"
