#!/bin/bash
# The receive-mode benchmark's guest side (bench/vm-irq.sh boots the
# testbed and runs this in it). In one boot, on the virtio NICs:
#   idle: nicbox-fwd 05<->06 with no traffic, per --rx-mode, alone on
#         vCPU 1: its CPU time (utime + stime) over NB_BENCH_IDLE_S seconds;
#   tput: nicbox-fwd at full load (traffic-lib.sh's forwarding round:
#         pktgen 04 -> fwd 05->06 -> capture 07), poll and adaptive
#         alternating (A B, B A, ...), NB_BENCH_RUNS runs of
#         NB_BENCH_SECONDS; figure: the median one-second rate sent by 06;
#   wake: nicbox-rx-wake (bench/rx_wake.c): one frame on 04 after each
#         200 ms of idle, received on 05 per --rx-mode; median and 90th
#         percentile latency from send to receive.
# Writes RESULTS/irq/irq.tsv: metric  mode  run  value
bench_name=irq
. "$NB_SRC/bench/guest-setup.sh"

runs=${NB_BENCH_RUNS:-3}
seconds=${NB_BENCH_SECONDS:-10}
idle_s=${NB_BENCH_IDLE_S:-10}
tsv=$NB_OUT/irq.tsv
hz=$(getconf CLK_TCK)
printf 'metric\tmode\trun\tvalue\n' >"$tsv"
row() { printf '%s\t%s\t%s\t%s\n' "$@" >>"$tsv"; echo "bench: $*"; }

ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }

traffic_start_helper
for mode in poll interrupt adaptive; do
  traffic_app 1 "idle-$mode" fwd --dev "$traffic_fwd_a" --dev "$traffic_fwd_b" --rx-mode "$mode"
  pid=$(apps_pid "idle-$mode")
  sleep 1
  t0=$(ticks "$pid") s0=$(date +%s%N)
  sleep "$idle_s"
  t1=$(ticks "$pid") s1=$(date +%s%N)
  apps_stop "idle-$mode"
  traffic_release_to_kernel "$traffic_fwd_a" "$traffic_fwd_b"
  row idle_cpu_pct "$mode" 1 "$(awk -v t=$((t1 - t0)) -v hz="$hz" -v ns=$((s1 - s0)) \
    'BEGIN { printf "%.2f", 100 * t / hz / (ns / 1e9) }')"
done

for ((run = 1; run <= runs; run++)); do
  if ((run % 2)); then order="poll adaptive"; else order="adaptive poll"; fi
  for mode in $order; do
    tag=tput-$mode-$run
    TRAFFIC_FWD_ARGS="--rx-mode $mode" traffic_fwd_round nicbox "$seconds" "$tag"
    row tput_pps "$mode" "$run" \
      "$(traffic_steady_rate "$APPS_TMP/$tag-fwd.json" json "$traffic_fwd_b" tx_pps)"
  done
done

for mode in poll interrupt adaptive; do
  taskset -p -c 0,1 $$ >/dev/null # sender and receiver threads: both vCPUs
  apps_start "wake-$mode" rx-wake --dev "$traffic_gen" --dev "$traffic_fwd_a" \
    --rx-mode "$mode" --count 20 --gap-ms 200
  taskset -p -c 0 $$ >/dev/null
  apps_wait "wake-$mode"
  cat "$APPS_TMP/wake-$mode.err"
  line=$(grep '"rx_mode"' "$APPS_TMP/wake-$mode.json")
  row wake_median_us "$mode" 1 "$(jq -r .median_us <<<"$line")"
  row wake_p90_us "$mode" 1 "$(jq -r .p90_us <<<"$line")"
  traffic_release_to_kernel "$traffic_gen" "$traffic_fwd_a"
done
nb_helper_stop
