#!/bin/bash
# The guest side of bench/vm-setup-lat-bench.sh, in one boot, the tools
# alternating (A B, B A, ...):
#   setup: process start to the first frame received on 05, with
#          nicbox-pktgen already sending into 04 (hub 0) at 200 frames/s:
#          nicbox-capture --count 1 (the helper's claim included) against
#          dpdk-testpmd rxonly (EAL init included; 05 bound to vfio-pci
#          before its clock starts, as dpdk-devbind would have done).
#          Each line a tool prints is stamped with the guest's clock as it
#          arrives; nicbox's first frame is its final report line
#          (--count 1), testpmd's its first "received N packets" line
#          (set verbose 1). nicbox-capture also prints its step times
#          (NICBOX_SETUP_TIMES=1).
#   lat:   nicbox-pktgen --timestamp on 04 at NB_LAT_RATE frames/s ->
#          forwarder 05->06 (nicbox-fwd or testpmd io) -> nicbox-capture
#          --latency on 07: one-way latency p50/p99 through the forwarder.
# Writes RESULTS/bench/setup.tsv (tool run seconds steps) and lat.tsv
# (tool run samples p50_us p99_us max_us).
bench_name=bench
. "$NB_SRC/bench/guest-setup.sh"

runs=${NB_BENCH_RUNS:-3}
lat_seconds=${NB_LAT_SECONDS:-10}
lat_rate=${NB_LAT_RATE:-1000}
printf 'tool\trun\tseconds\tsteps\n' >"$NB_OUT/setup.tsv"
printf 'tool\trun\tsamples\tp50_us\tp99_us\tmax_us\n' >"$NB_OUT/lat.tsv"

# stamp: every input line with the time it arrived (EPOCHREALTIME).
stamp() {
  local line
  while IFS= read -r line; do
    printf '%s %s\n' "$EPOCHREALTIME" "$line"
  done
}

# setup_run TOOL RUN: one measurement on 05, pktgen sending into 04.
setup_run() {
  local tool=$1 run=$2 tag=setup-$1-$2 log t0 t1 steps=-
  log=$APPS_TMP/$tag.log
  traffic_app 0 "$tag-src" pktgen --dev "$traffic_gen" --rate 200
  sleep 2
  if [[ $tool == nicbox ]]; then
    t0=$EPOCHREALTIME
    nb_as_user env NICBOX_SETUP_TIMES=1 "$APPS/nicbox-capture" --socket "$NB_SOCK" --json \
      --dev "$traffic_fwd_a" --verify --count 1 2>&1 | stamp >"$log"
    t1=$(awk '/"final":true/ { print $1; exit }' "$log")
    steps=$(sed -n 's/.*setup ms: //p' "$log" | head -n 1)
    traffic_release_to_kernel "$traffic_fwd_a"
  else
    nb_bind_vfio "$traffic_fwd_a" || traffic_die "cannot bind $traffic_fwd_a to vfio-pci"
    t0=$EPOCHREALTIME
    { printf 'set verbose 1\nset fwd rxonly\nstart\n'
      for ((i = 0; i < 600; i++)); do
        grep -q 'received [0-9]* packets' "$log" 2>/dev/null && break
        sleep 0.1
      done
      printf 'stop\nquit\n'; } |
      stdbuf -oL dpdk-testpmd -l 0-1 -n 1 --iova-mode=va --in-memory -m 256 -a "$traffic_fwd_a" -- \
        -i --nb-cores=1 --txd=512 --rxd=512 --total-num-mbufs=8192 2>&1 | stamp >"$log"
    t1=$(awk '/received [0-9]+ packets/ { print $1; exit }' "$log")
    nb_bind_kernel "$traffic_fwd_a" || traffic_die "cannot give $traffic_fwd_a back"
    NB_BOUND_NICS=()
  fi
  apps_stop "$tag-src"
  traffic_release_to_kernel "$traffic_gen"
  if [[ -z $t1 ]]; then
    echo "bench: setup $tool run $run: no frame seen (log $log):"
    tail -n 20 "$log"
    t1=$t0 steps=failed
  fi
  awk -v t0="$t0" -v t1="$t1" -v tool="$tool" -v run="$run" -v steps="$steps" \
    'BEGIN { printf "%s\t%s\t%.3f\t%s\n", tool, run, t1 - t0, steps }' | tee -a "$NB_OUT/setup.tsv"
}

# lat_run TOOL RUN: pktgen --timestamp -> forwarder -> capture --latency.
lat_run() {
  local tool=$1 run=$2 tag=lat-$1-$2 f
  TRAFFIC_RCV_ARGS=--latency TRAFFIC_GEN_ARGS="--size 64 --timestamp --rate $lat_rate" \
    traffic_fwd_round "$tool" "$lat_seconds" "$tag"
  printf '%s\t%s' "$tool" "$run" >>"$NB_OUT/lat.tsv"
  for f in lat_samples lat_p50_us lat_p99_us lat_max_us; do
    printf '\t%s' "$(apps_final "$tag-rcv" "$traffic_rcv" "$f")" >>"$NB_OUT/lat.tsv"
  done
  echo >>"$NB_OUT/lat.tsv"
  tail -n 1 "$NB_OUT/lat.tsv"
}

traffic_start_helper
for ((run = 1; run <= runs; run++)); do
  if ((run % 2)); then order=(nicbox testpmd); else order=(testpmd nicbox); fi
  for tool in "${order[@]}"; do setup_run "$tool" "$run"; done
  for tool in "${order[@]}"; do lat_run "$tool" "$run"; done
done
nb_helper_stop
cp "$APPS_TMP"/setup-* "$NB_OUT/" 2>/dev/null
