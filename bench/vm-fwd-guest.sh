#!/bin/bash
# The VM benchmark's guest side (bench/vm-fwd.sh boots the testbed and runs
# this in it). In one boot, alternating (A B, B A, A B, ...):
#   fwd: nicbox-fwd vs testpmd io forwarding, 05->06, fed by nicbox-pktgen
#        on 04, drained by nicbox-capture on 07 (traffic-lib.sh);
#   gen: nicbox-pktgen vs testpmd txonly on 04 (64-byte frames), drained by
#        nicbox-capture --discard on 05 (the same work for both senders);
#   pfwd: as fwd through a packed-ring NIC: pktgen on 07 -> hub 1 ->
#        forwarder 06->09 (receives on a split ring, transmits on 09's
#        packed ring; NB_PACKED_NICS) -> hub 4 -> capture on 03;
#   pgen: as gen on the packed NICs: generator on 03, capture on 09;
#   igbfwd: as fwd on the igb NICs (QEMU's 82576 model): pktgen on 02 ->
#        forwarder 08->0a (nicbox-fwd vs testpmd io with net_e1000_igb) ->
#        capture on 0c.
# nicbox-fwd polls (--rx-mode poll) like testpmd, the like-for-like
# comparison; the forwarding tests also run nicbox-fwd as it ships
# (nicbox-adaptive: --rx-mode adaptive, which sleeps on the receive
# interrupt after 1 ms without a frame). All move bursts of 32 (APP_BATCH,
# testpmd's default --burst). NB_BENCH_TESTS picks the tests
# (default "fwd gen pfwd pgen igbfwd").
# Each run's figure is the median of the device under test's own one-second
# rates (see traffic_steady_rate); for forwarding also the load pktgen
# offered. Writes RESULTS/bench/runs.tsv:
#   test  tool  run  pps  offered_pps
bench_name=bench
. "$NB_SRC/bench/guest-setup.sh"

runs=${NB_BENCH_RUNS:-3}
tests=${NB_BENCH_TESTS:-fwd gen pfwd pgen igbfwd}
nics=($NB_NICS) packed=($NB_PACKED_NICS)
seconds=${NB_BENCH_SECONDS:-15}
tsv=$NB_OUT/runs.tsv
printf 'test\ttool\trun\tpps\toffered_pps\n' >"$tsv"

# measure TEST TOOL RUN: one round and its figure.
measure() {
  local test=$1 tool=$2 run=$3 tag=$1-$2-$3 pps offered=-
  echo "bench: $test with $tool, run $run of $runs (${seconds} s)"
  case $test in
    igbfwd) traffic_use_nics $NB_IGB_NICS ;;
    pfwd) traffic_use_nics "${nics[3]}" "${nics[2]}" "${packed[1]}" "${packed[0]}" ;;
    pgen) traffic_use_nics "${packed[0]}" "${packed[1]}" "${packed[1]}" "${packed[0]}" ;;
  esac
  case $test:$tool in
    *fwd:nicbox*)
      TRAFFIC_FWD_ARGS="--rx-mode $([[ $tool == nicbox ]] && echo poll || echo adaptive)" \
        traffic_fwd_round nicbox "$seconds" "$tag"
      pps=$(traffic_steady_rate "$APPS_TMP/$tag-fwd.json" json "$traffic_fwd_b" tx_pps) ;;
    *fwd:testpmd)
      traffic_fwd_round testpmd "$seconds" "$tag"
      pps=$(traffic_steady_rate "$APPS_TMP/$tag-testpmd.log" testpmd 1 Tx-pps) ;;
    *gen:nicbox)
      traffic_gen_round nicbox "$seconds" "$tag"
      pps=$(traffic_steady_rate "$APPS_TMP/$tag-pktgen.json" json "$traffic_gen" tx_pps) ;;
    *gen:testpmd)
      traffic_gen_round testpmd "$seconds" "$tag"
      pps=$(traffic_steady_rate "$APPS_TMP/$tag-testpmd.log" testpmd 0 Tx-pps) ;;
  esac
  if [[ $test == *fwd ]]; then
    offered=$(traffic_steady_rate "$APPS_TMP/$tag-pktgen.json" json "$traffic_gen" tx_pps)
  fi
  traffic_use_nics $NB_NICS
  echo "bench: $test $tool run $run: $pps pps (offered: $offered)"
  printf '%s\t%s\t%s\t%s\t%s\n' "$test" "$tool" "$run" "$pps" "$offered" >>"$tsv"
}

traffic_start_helper
for ((run = 1; run <= runs; run++)); do
  for test in $tests; do
    tools="nicbox testpmd"
    [[ $test == *fwd ]] && tools="nicbox testpmd nicbox-adaptive"
    ((run % 2)) || tools=$(tr ' ' '\n' <<<"$tools" | tac | tr '\n' ' ')
    for tool in $tools; do measure "$test" "$tool" "$run"; done
  done
done
nb_helper_stop
