#!/bin/bash
# The guest side of bench/vm-setup-lat-bench.sh, in one boot, the tools
# alternating (A B, B A, ...):
#   install: as a user who installed both would run them, from the guest's
#          own filesystem: nicbox-{pktgen,fwd,capture} and libnicbox.so.0
#          (what the .debs install) and dpdk-testpmd copied to a tmpfs
#          (LD_LIBRARY_PATH and PATH point there), not started from the
#          host's 9p share; the distribution's libraries (libc, libpcap,
#          DPDK's librte_* and PMD plugins) stay on the 9p root, whose
#          page cache (cache=loose) one unrecorded warm-up run of each
#          tool fills, as a local disk's would be.
#   setup: the exec in the user's shell to the first frame received on 05, with
#          nicbox-pktgen already sending into 04 (hub 0) at 200 frames/s:
#          nicbox-capture --count 1 (the helper's claim included) against
#          dpdk-testpmd rxonly (EAL init included; 05 bound to vfio-pci
#          before its clock starts, as dpdk-devbind would have done; that
#          bind, by this shell, is timed apart and not counted). The
#          clock starts in the user's own shell just before it execs the
#          tool (the harness's setpriv, which makes uid NB_UID, is before
#          that). Each line a tool prints is stamped with the guest's clock
#          as it arrives; nicbox's first frame is its final report line
#          (--count 1), testpmd's its first "received N packets" line
#          (set verbose 1). nicbox-capture also prints its step times
#          (NICBOX_SETUP_TIMES=1; its "exec" is replaced here by what the
#          steps leave of the measured time, see below).
#   lat:   nicbox-pktgen --timestamp on 04 at NB_LAT_RATE frames/s ->
#          forwarder 05->06 -> nicbox-capture --latency --rx-mode
#          interrupt on 07 (asleep between frames, so it never spins
#          beside pktgen on vCPU 0 and takes the host core QEMU's main
#          loop needs; adaptive at 1000 frames/s sits at its 1 ms
#          threshold and flips between spinning and sleeping): one-way
#          latency p50/p99 through the forwarder: nicbox-fwd --rx-mode poll
#          (polls like testpmd: the like-for-like row), testpmd io, and
#          nicbox-fwd with its default --rx-mode adaptive.
# Writes RESULTS/bench/setup.tsv (tool run seconds steps) and lat.tsv
# (tool run samples p50_us p99_us max_us).
bench_name=bench
. "$NB_SRC/bench/guest-setup.sh"

runs=${NB_BENCH_RUNS:-3}
lat_runs=${NB_LAT_RUNS:-5}
lat_seconds=${NB_LAT_SECONDS:-10}
lat_rate=${NB_LAT_RATE:-1000}
printf 'tool\trun\tseconds\tsteps\n' >"$NB_OUT/setup.tsv"
printf 'tool\trun\tsamples\tp50_us\tp99_us\tmax_us\n' >"$NB_OUT/lat.tsv"

# The local install (tmpfs): apps_start runs $APPS/nicbox-*, testpmd-lib
# the dpdk-testpmd on PATH.
local_root=$(mktemp -d /tmp/nb-local.XXXXXX)
mkdir -p "$local_root/bin" "$local_root/lib"
cp "$NB_BUILD"/apps/nicbox-{pktgen,fwd,capture} "$(command -v dpdk-testpmd)" "$local_root/bin/"
cp -P "$NB_BUILD"/libnicbox.so.0* "$local_root/lib/"
chmod -R a+rX "$local_root"
APPS=$local_root/bin
export LD_LIBRARY_PATH=$local_root/lib PATH=$local_root/bin:$PATH

# stamp: every input line with the time it arrived (EPOCHREALTIME).
stamp() {
  local line
  while IFS= read -r line; do
    printf '%s %s\n' "$EPOCHREALTIME" "$line"
  done
}

# The user's shell: prints "start TIME" and execs the tool.
# shellcheck disable=SC2016
user_shell=(bash -c 'echo "start $EPOCHREALTIME"; exec "$@"' user-shell)

# setup_run TOOL RUN: one measurement on 05, pktgen sending into 04 (RUN 0:
# the warm-up, not recorded).
setup_run() {
  local tool=$1 run=$2 tag=setup-$1-$2 log launch t0 t1 steps=- line
  log=$APPS_TMP/$tag.log
  traffic_app 0 "$tag-src" pktgen --dev "$traffic_gen" --rate 200
  sleep 2
  launch=$EPOCHREALTIME
  if [[ $tool == nicbox ]]; then
    nb_as_user env NICBOX_SETUP_TIMES=1 "${user_shell[@]}" "$APPS/nicbox-capture" --socket "$NB_SOCK" --json \
      --dev "$traffic_fwd_a" --verify --count 1 2>&1 | stamp >"$log"
    t1=$(awk '/"final":true/ { print $1; exit }' "$log")
    steps=$(sed -n 's/.*setup ms: //p' "$log" | head -n 1)
    traffic_release_to_kernel "$traffic_fwd_a"
  else
    nb_bind_vfio "$traffic_fwd_a" || traffic_die "cannot bind $traffic_fwd_a to vfio-pci"
    # What nicbox's claim also does (the helper), done here before the clock.
    steps=$(awk -v a="$launch" -v b="$EPOCHREALTIME" 'BEGIN { printf "vfio-pci bind before the clock %.1f", (b - a) * 1000 }')
    launch=$EPOCHREALTIME
    { printf 'set verbose 1\nset fwd rxonly\nstart\n'
      for ((i = 0; i < 600; i++)); do
        grep -q 'received [0-9]* packets' "$log" 2>/dev/null && break
        sleep 0.1
      done
      printf 'stop\nquit\n'; } |
      stdbuf -oL "${user_shell[@]}" dpdk-testpmd -l 0-1 -n 1 --iova-mode=va --in-memory -m 256 -a "$traffic_fwd_a" -- \
        -i --nb-cores=1 --txd=512 --rxd=512 --total-num-mbufs=8192 2>&1 | stamp >"$log"
    t1=$(awk '/received [0-9]+ packets/ { print $1; exit }' "$log")
    nb_bind_kernel "$traffic_fwd_a" || traffic_die "cannot give $traffic_fwd_a back"
    NB_BOUND_NICS=()
  fi
  t0=$(awk '$2 == "start" { print $3; exit }' "$log")
  apps_stop "$tag-src"
  traffic_release_to_kernel "$traffic_gen"
  if [[ -z $t1 || -z $t0 ]]; then
    echo "bench: setup $tool run $run: no frame seen (log $log):"
    tail -n 20 "$log"
    t0=$launch t1=$launch steps=failed
  fi
  # The app's own "exec" counts from setpriv's fork: replace it by the
  # rest of the measured time (the shell's exec, the dynamic loader, the
  # app's start-up before app_start and the wait for the first frame
  # after lockdown), so that the steps add up to the seconds column.
  steps=$(awk -v s="$steps" -v t0="$t0" -v t1="$t1" 'BEGIN {
    n = split(s, w, " ")
    if (w[1] != "exec" || w[n - 1] != "total") { print s; exit }
    out = sprintf("exec+first-frame %.0f", (t1 - t0) * 1000 - w[n])
    for (i = 3; i <= n; i++) out = out " " w[i]
    print out }')
  line=$(awk -v t0="$t0" -v t1="$t1" -v tool="$tool" -v run="$run" -v steps="$steps" \
    'BEGIN { printf "%s\t%s\t%.3f\t%s\n", tool, run, t1 - t0, steps }')
  if ((run == 0)); then
    echo "warm-up (not recorded): $line"
  else
    echo "$line" | tee -a "$NB_OUT/setup.tsv"
  fi
}

# lat_run TOOL RUN: pktgen --timestamp -> forwarder -> capture --latency;
# TOOL nicbox-poll, nicbox-adaptive or testpmd.
lat_run() {
  local tool=$1 run=$2 tag=lat-$1-$2 f
  TRAFFIC_FWD_ARGS="--rx-mode ${tool#nicbox-}" TRAFFIC_RCV_ARGS="--latency --rx-mode interrupt" \
    TRAFFIC_GEN_ARGS="--size 64 --timestamp --rate $lat_rate" \
    traffic_fwd_round "${tool%%-*}" "$lat_seconds" "$tag"
  printf '%s\t%s' "$tool" "$run" >>"$NB_OUT/lat.tsv"
  for f in lat_samples lat_p50_us lat_p99_us lat_max_us; do
    printf '\t%s' "$(apps_final "$tag-rcv" "$traffic_rcv" "$f")" >>"$NB_OUT/lat.tsv"
  done
  echo >>"$NB_OUT/lat.tsv"
  tail -n 1 "$NB_OUT/lat.tsv"
}

traffic_start_helper
setup_run nicbox 0
setup_run testpmd 0
for ((run = 1; run <= runs; run++)); do
  if ((run % 2)); then order=(nicbox testpmd); else order=(testpmd nicbox); fi
  for tool in "${order[@]}"; do setup_run "$tool" "$run"; done
done
for ((run = 1; run <= lat_runs; run++)); do
  if ((run % 2)); then order=(nicbox-poll testpmd nicbox-adaptive); else order=(nicbox-adaptive testpmd nicbox-poll); fi
  for tool in "${order[@]}"; do lat_run "$tool" "$run"; done
done
nb_helper_stop
cp "$APPS_TMP"/setup-* "$NB_OUT/" 2>/dev/null
