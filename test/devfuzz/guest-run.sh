#!/bin/bash
# `make devfuzz`, inside the testbed guest (test/devfuzz/run.sh boots it):
# nicbox-devfuzz on QEMU's virtio-net (05, partner 04) and igb (08, partner
# 02) models at once, the transmit rings for the first half of SECONDS, the
# receive rings for the second, then a clean traffic run on each fuzzed
# NIC. Writes into $NB_RESULTS/guest: each run's JSON lines and stderr, the
# findings files, the kernel log and summary.env.
#
#   guest-run.sh SECONDS [SEED [MODES [MODELS]]]
# MODES: "tx rx" (default; SECONDS split between them), MODELS: "virtio igb"
# (default) and/or "packed" (virtio-net with packed rings, 09 and 03).
# Each run's JSON lines are also streamed to $NB_RESULTS/guest/NAME.live.json
# as they come: if QEMU itself dies, the host still sees the last case.
set -u
secs=${1:?usage: guest-run.sh SECONDS [SEED [MODES [MODELS]]]}
seed=${2:-$(date +%s)}
modes=(${3:-tx rx})
models=(${4:-virtio igb})
export NB_OUT=$NB_RESULTS/guest
mkdir -p "$NB_OUT"
. "$NB_SRC/test/vm/lib.sh"
. "$NB_SRC/test/apps/vm-lib.sh"
. "$NB_SRC/test/devfuzz/vm-devfuzz.sh"

declare -A live=()
df_begin || exit 1
half=$((secs / ${#modes[@]}))
for mode in "${modes[@]}"; do
  echo "== $mode rings, $half s, seed $seed"
  for m in "${models[@]}"; do
    pair=DF_${m^^}
    df_run "$mode-$m" "$half" "$pair" --json --mode "$mode" --seed "$seed" \
      --findings "$APPS_TMP/findings-$m.case"
    stdbuf -oL tail -n +1 -s 0.2 -F "$APPS_TMP/$mode-$m.json" >"$NB_OUT/$mode-$m.live.json" 2>/dev/null &
    live[$m]=$!
  done
  for m in "${models[@]}"; do
    apps_wait "$mode-$m"
    sleep 0.5
    kill "${live[$m]}"
    echo "$mode-$m: exit ${APP_RC[$mode-$m]}"
    echo "rc_${mode}_$m=${APP_RC[$mode-$m]}" >>"$NB_OUT/summary.env"
    grep -v '"case"' "$APPS_TMP/$mode-$m.json" | tail -n 1
    cat "$APPS_TMP/$mode-$m.err"
  done
done
read -r dmar irqs < <(df_dmar_since)
dmesg >"$APPS_TMP/dmesg.txt"
{
  echo "seed=$seed seconds=$secs"
  echo "dmar_lines=$dmar dmar_irqs=$irqs"
  for bdf in "${DF_VIRTIO[0]}" "${DF_IGB[0]}" "${DF_PACKED[0]}"; do
    echo "dmar_lines_${bdf//[:.]/_}=$(grep -c "DMAR: \[DMA.*Request device \[${bdf#0000:}\]" "$APPS_TMP/dmesg.txt")"
  done
  echo "dmesg_ratelimited=$(grep -c 'dmar_fault.*callbacks suppressed\|callbacks suppressed' "$APPS_TMP/dmesg.txt")"
} | tee -a "$NB_OUT/summary.env"
df_traffic after-virtio "${DF_VIRTIO[1]}" "${DF_VIRTIO[0]}" 1000
df_traffic after-igb "${DF_IGB[1]}" "${DF_IGB[0]}" 1000
[[ " ${models[*]} " == *" packed "* ]] &&
  df_traffic after-packed "${DF_PACKED[1]}" "${DF_PACKED[0]}" 1000
bad=$(df_guest_unhealthy)
echo "guest_unhealthy_lines=$(grep -c . <<<"$bad")" >>"$NB_OUT/summary.env"
echo "traffic_failed=$NB_FAILED" >>"$NB_OUT/summary.env"
nb_helper_stop
echo "devfuzz guest run done: traffic checks $([[ $NB_FAILED == 0 ]] && echo passed || echo FAILED)"
exit "$NB_FAILED"
