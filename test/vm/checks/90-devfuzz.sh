#!/bin/bash
# timeout: 400
# nicbox-devfuzz (docs/devfuzz.md) against QEMU's virtio-net with split
# rings (05, partner 04), igb (08, partner 02) and virtio-net with packed
# rings (09, partner 03), as the unprivileged user, the pairs at once in
# every part, each run with --mode both (even cases on the transmit
# ring, odd cases on the receive ring):
#  1. the same seed twice on each model (8 cases): the same outcome for
#     every case both times; the cases printed to a case file (--print)
#     and run again from it (--replay): the same outcomes;
#  2. virtio-net (split) and igb: fuzzing with a random seed until each
#     pair has fuzzed 60 s in all (parts 1 and 2 together): the worker
#     exits 0 (never crashes), no NIC dies. igb with --force-wedge 2: that
#     case is "wedged": its self-test failed, the VFIO reset ran and the
#     self-test passed after it (wedges and resets >= 1 in the final --json
#     line); QEMU's virtio-net on the root bus offers no reset at all, so a
#     wedge there would end the run as "dead" (docs/devfuzz.md). A stray
#     write here is reported as a finding with its case file (part 1 fails
#     on one: its seed is fixed). Packed rings get no random seed here: one
#     case in a few dozen aborts QEMU 10.0.2 itself (docs/devfuzz.md), which
#     would end the whole boot;
#  3. afterwards each fuzzed NIC still carries a clean pktgen -> capture
#     run (500 frames, none lost, duplicated or damaged; the three pairs at
#     once), every NIC is released to its kernel driver (the policy's
#     keep-vfio keeps them on vfio-pci between runs; df_end gives them
#     back), and the guest's
#     kernel log shows no oops, stall or hang. DMAR faults (the IOMMU
#     stopping the device's DMA outside the pools) are counted, not
#     failures.
. "$NB_SRC/test/vm/lib.sh"
. "$NB_SRC/test/apps/vm-lib.sh"
. "$NB_SRC/test/devfuzz/vm-devfuzz.sh"

FUZZ_TOTAL_S=60 # the issue's "60-second run", per pair, phases 1 and 2
models=(virtio igb packed)
declare -A pair=([virtio]=DF_VIRTIO [igb]=DF_IGB [packed]=DF_PACKED)
declare -A kind=([virtio]=virtio-split [igb]=igb [packed]=virtio-packed)

df_begin keep-vfio || exit 1

# run_all NAME ARGS...: every model at once with the same arguments; ARGS
# may contain @M@, replaced by the model's name.
run_all() {
  local name=$1 m
  shift
  for m in "${models[@]}"; do
    df_run "$name-$m" 300 "${pair[$m]}" "${@//@M@/$m}"
  done
  for m in "${models[@]}"; do
    apps_wait "$name-$m"
    nb_check "$name-$m: nicbox-devfuzz exits 0" test "${APP_RC[$name-$m]}" -eq 0
  done
}

# Few jq runs: each one costs the best part of a second in the guest.
declare -A fuzzed=() # model -> whole seconds its part-1 runs fuzzed

echo "== 1 (at ${SECONDS} s): the same seed twice gives the same outcomes; so does its case file"
for m in "${models[@]}"; do
  "$APPS/nicbox-devfuzz" --print --kind "${kind[$m]}" --mode both --seed 9090 \
    --case 100 --count 8 >"$APPS_TMP/replay-$m.case"
  chmod a+r "$APPS_TMP/replay-$m.case"
done
run_all seed-a --json --mode both --seed 9090 --case 100 --count 8
echo "seed-a done at ${SECONDS} s"
run_all seed-b --json --mode both --seed 9090 --case 100 --count 8
echo "seed-b done at ${SECONDS} s"
run_all replay --json --replay "$APPS_TMP/replay-@M@.case"
for m in "${models[@]}"; do
  for run in seed-a seed-b replay; do
    df_outcomes "$run-$m" >"$APPS_TMP/outcomes-$run-$m"
    nb_check "$run-$m: no stray write" test "$(grep -c ' true$' "$APPS_TMP/outcomes-$run-$m")" -eq 0
  done
  fuzzed[$m]=$(jq -s '[.[] | select(.final == true) | .time_s] | add | floor' \
    "$APPS_TMP"/{seed-a,seed-b,replay}-"$m".json)
  echo "--- $m outcomes:"; cat "$APPS_TMP/outcomes-seed-a-$m"
  nb_check "$m: 8 cases ran, 4 tx and 4 rx" \
    test "$(grep -c ' tx ' "$APPS_TMP/outcomes-seed-a-$m") $(grep -c ' rx ' "$APPS_TMP/outcomes-seed-a-$m")" == "4 4"
  nb_check "$m: the same outcomes twice" \
    cmp "$APPS_TMP/outcomes-seed-a-$m" "$APPS_TMP/outcomes-seed-b-$m"
  nb_check "$m: the replayed case file gives the seed's outcomes" \
    cmp "$APPS_TMP/outcomes-seed-a-$m" "$APPS_TMP/outcomes-replay-$m"
done

echo "== 2 (at ${SECONDS} s): random seeds until each pair has fuzzed $FUZZ_TOTAL_S s; igb's case 2 wedged on purpose"
declare -A wedge=([virtio]="" [igb]="--force-wedge 2")
for m in virtio igb; do
  secs=$((FUZZ_TOTAL_S - fuzzed[$m]))
  ((secs >= 10)) || secs=10
  echo "$m: fuzzed ${fuzzed[$m]} s in part 1, $secs s more"
  df_run "fuzz-$m" "$secs" "${pair[$m]}" --json --mode both --seed 90$RANDOM \
    ${wedge[$m]} --findings "$APPS_TMP/findings-$m.case"
done
for m in virtio igb; do
  apps_wait "fuzz-$m"
  apps_show "fuzz-$m" | grep -v '"case"'
  read -r cases wedges resets strays secs < <(jq -r 'select(.final == true) |
    "\(.cases) \(.wedges) \(.resets) \(.stray_writes) \(.time_s | floor)"' "$APPS_TMP/fuzz-$m.json")
  nb_check "fuzz-$m: exits 0 (no crash, no dead NIC)" test "${APP_RC[fuzz-$m]}" -eq 0
  nb_check "fuzz-$m: ran cases" test "${cases:-0}" -gt 2
  if [[ $m == igb ]]; then
    forced=$(grep '^{"case":2,' "$APPS_TMP/fuzz-$m.json")
    echo "fuzz-$m case 2: $forced"
    nb_check "fuzz-$m: the forced case was detected and recovered by the VFIO reset" \
      grep -q '"outcome":"wedged".*--force-wedge' <<<"$forced"
    nb_check "fuzz-$m: wedges and VFIO resets counted in --json" \
      test "${wedges:-0}" -ge 1 -a "${resets:-0}" -ge 1
  fi
  total=$((${secs:-0} + fuzzed[$m]))
  nb_check "$m: fuzzed $total s in all, at least $FUZZ_TOTAL_S" test "$total" -ge "$FUZZ_TOTAL_S"
  # A stray write here is a finding about the device model (its case is
  # in findings-$m.case, replayable with --replay), not a failure of
  # nicbox: the random seeds reach cases the fixed seed of part 1 does not.
  if [[ ${strays:-0} != 0 ]]; then
    echo "FINDING: fuzz-$m: stray write(s); case file: findings-$m.case"
    grep '^# ' "$APPS_TMP/findings-$m.case"
  fi
done
read -r dmar irqs < <(df_dmar_since)
echo "DMAR fault lines in the kernel log: $dmar; DMAR fault interrupts: $irqs"

echo "== 3 (at ${SECONDS} s): the fuzzed NICs still work; the guest is healthy"
for m in "${models[@]}"; do
  declare -n p=${pair[$m]}
  df_traffic_start "after-$m" "${p[1]}" "${p[0]}" 500
done
for m in "${models[@]}"; do
  declare -n p=${pair[$m]}
  df_traffic_check "after-$m" "${p[0]}" 500
done
bad=$(df_guest_unhealthy)
[[ -z $bad ]] || echo "$bad"
nb_check "the guest's kernel log has no oops, stall or hang" test -z "$bad"
df_end
echo "done at ${SECONDS} s"
