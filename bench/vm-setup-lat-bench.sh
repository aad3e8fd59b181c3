#!/bin/bash
# VM benchmark: setup time (process start to the first frame received) and
# one-way latency through a forwarder, nicbox against DPDK testpmd, in one
# boot of the testbed (bench/vm-setup-lat-guest.sh says how each is taken).
# Prints two tables and writes them into docs/performance.md between the
# vm-setup-lat markers. Under TCG the absolute figures mean little; the
# ratios within one boot are the result.
#
#   bench/vm-setup-lat-bench.sh [BUILD_DIR]    (default REPO/build)
# NB_BENCH_RUNS (default 3) setup runs per tool (after one warm-up run each),
# NB_LAT_RUNS (5) latency runs per forwarder;
# NB_LAT_RATE (1000) frames/s and NB_LAT_SECONDS (10) per latency run.
# NB_BENCH_NO_DOC=1 leaves the doc alone; NB_BENCH_DIR=DIR skips the boot and tabulates an earlier run's
# DIR/setup.tsv and DIR/lat.tsv.
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$src/build}
runs=${NB_BENCH_RUNS:-3}
lat_runs=${NB_LAT_RUNS:-5}
rate=${NB_LAT_RATE:-1000}
seconds=${NB_LAT_SECONDS:-10}
((runs >= 1 && lat_runs >= 1)) || { echo "vm-setup-lat: NB_BENCH_RUNS and NB_LAT_RUNS must be at least 1" >&2; exit 1; }
for binary in privhelper/nicbox-helper apps/nicbox-pktgen apps/nicbox-fwd apps/nicbox-capture; do
  [[ -x $build/$binary ]] || { echo "vm-setup-lat: $build/$binary is not built (run make)" >&2; exit 1; }
done
command -v dpdk-testpmd >/dev/null || { echo "vm-setup-lat: dpdk-testpmd not found (make deps)" >&2; exit 1; }

results=$build/vm-setup-lat
dir=${NB_BENCH_DIR:-$results/bench}
if [[ -z ${NB_BENCH_DIR:-} ]]; then
  limit=$((400 + runs * 2 * 200 + lat_runs * 3 * (seconds + 60)))
  load=$(cut -d' ' -f1-3 /proc/loadavg)
  echo "vm-setup-lat: one boot, $runs setup and $lat_runs latency runs per tool (limit ${limit} s), load average $load; console: $results/console.log"
  "$src/test/vm/boot.sh" --build "$build" --results "$results" --timeout "$limit" --quiet \
    --run env NB_BENCH_RUNS="$runs" NB_LAT_RUNS="$lat_runs" NB_LAT_RATE="$rate" NB_LAT_SECONDS="$seconds" \
    bash bench/vm-setup-lat-guest.sh
  load="$load at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end"
else
  load="not recorded (tabulated from $dir)"
fi

# median of the words of $1
median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{ a[n++] = $1 } END { print (n % 2) ? a[(n - 1) / 2] : (a[n / 2 - 1] + a[n / 2]) / 2 }'; }
col() { awk -F'\t' -v tool="$2" -v c="$3" 'NR > 1 && $1 == tool && $c != "" { printf "%s ", $c }' "$1"; }

setup_table() {
  local n d
  n=$(median "$(col "$dir/setup.tsv" nicbox 3)") d=$(median "$(col "$dir/setup.tsv" testpmd 3)")
  echo "| tool | seconds per run | median s | nicbox / testpmd |"
  echo "|---|---|---:|---:|"
  echo "| nicbox-capture | $(col "$dir/setup.tsv" nicbox 3)| $n | $(awk -v n="$n" -v d="$d" 'BEGIN { print (d > 0 ? sprintf("%.3f", n / d) : "n/a") }') |"
  echo "| testpmd rxonly | $(col "$dir/setup.tsv" testpmd 3)| $d | |"
  echo
  echo "nicbox / testpmd per run (same run number, back to back): $(awk -F'\t' '
    NR > 1 { t[$1, $2] = $3; if ($2 > last) last = $2 }
    END { for (r = 1; r <= last; r++) printf "%s%s", (r > 1 ? ", " : ""),
            (t["testpmd", r] > 0 ? sprintf("%.3f", t["nicbox", r] / t["testpmd", r]) : "n/a") }' "$dir/setup.tsv")"
  echo
  echo "nicbox-capture's steps per run (NICBOX_SETUP_TIMES=1, ms; exec+first-frame: the rest of the seconds column, i.e. exec, dynamic loading, start-up before app_start and the wait for the first frame after lockdown):"
  echo
  awk -F'\t' 'NR > 1 && $1 == "nicbox" { printf "- run %s: %s\n", $2, $4 }' "$dir/setup.tsv"
  echo
  echo "testpmd's vfio-pci bind of 05 by the harness's shell, before testpmd's clock (not counted; sysfs writes and the shell's forks), ms per run:" \
    "$(awk -F'\t' 'NR > 1 && $1 == "testpmd" { sub(/.* /, "", $4); printf "%s ", $4 }' "$dir/setup.tsv")"
}

lat_table() {
  local tool name p50 p99 n50 n99 t50 t99 a50 a99
  echo "| forwarder | samples per run | p50 us per run | p99 us per run | median p50 | median p99 |"
  echo "|---|---|---|---|---:|---:|"
  for tool in nicbox-poll testpmd nicbox-adaptive; do
    case $tool in
      nicbox-poll) name="nicbox-fwd --rx-mode poll" ;;
      testpmd) name="testpmd io" ;;
      *) name="nicbox-fwd (adaptive, its default)" ;;
    esac
    p50=$(median "$(col "$dir/lat.tsv" $tool 4)") p99=$(median "$(col "$dir/lat.tsv" $tool 5)")
    [[ $tool == nicbox-poll ]] && n50=$p50 n99=$p99
    [[ $tool == testpmd ]] && t50=$p50 t99=$p99
    [[ $tool == nicbox-adaptive ]] && a50=$p50 a99=$p99
    echo "| $name | $(col "$dir/lat.tsv" $tool 3)| $(col "$dir/lat.tsv" $tool 4)| $(col "$dir/lat.tsv" $tool 5)| $p50 | $p99 |"
  done
  awk -v a="$n50" -v b="$t50" -v c="$n99" -v d="$t99" -v e="$a50" -v f="$a99" 'BEGIN {
    r = "%.2f"
    printf "\nnicbox-fwd --rx-mode poll / testpmd io (both polling, like for like): p50 %s, p99 %s\n", (b > 0 ? sprintf(r, a / b) : "n/a"), (d > 0 ? sprintf(r, c / d) : "n/a")
    printf "\nnicbox-fwd adaptive (as it ships) / testpmd io: p50 %s, p99 %s\n", (b > 0 ? sprintf(r, e / b) : "n/a"), (d > 0 ? sprintf(r, f / d) : "n/a") }'
  echo
  echo "p99 of nicbox-fwd --rx-mode poll / testpmd io per run (same run number, back to back): $(awk -F'\t' '
    NR > 1 { t[$1, $2] = $5; if ($2 > last) last = $2 }
    END { for (r = 1; r <= last; r++) printf "%s%s", (r > 1 ? ", " : ""),
            (t["testpmd", r] > 0 ? sprintf("%.2f", t["nicbox-poll", r] / t["testpmd", r]) : "n/a") }' "$dir/lat.tsv")"
}

tables=$(printf '### Setup time: exec to the first frame received (05)\n\n%s\n\n### Latency: pktgen 04 -> forwarder 05->06 -> capture 07, %s frames/s, %s s per run\n\n%s\n' \
  "$(setup_table)" "$rate" "$seconds" "$(lat_table)")
echo
echo "$tables"

[[ ${NB_BENCH_NO_DOC:-0} == 1 ]] && exit 0
doc=$src/docs/performance.md
section=$(cat <<SECTION
<!-- vm-setup-lat begin -->
## QEMU testbed: setup time and latency, nicbox vs DPDK testpmd

Measured by \`bench/vm-setup-lat-bench.sh\` on $(date -u +%Y-%m-%d): one boot of the
test/vm testbed (QEMU $(qemu-system-x86_64 --version | awk 'NR == 1 {print $4}') TCG, 2 vCPUs, emulated intel-iommu, virtio-net
NICs), $runs setup runs and $lat_runs latency runs per tool, the tools
alternating (A B, B A, ...). Host load
average (2 cores, shared): $load.

- Both tools run as a user who installed them would: nicbox-pktgen, -fwd,
  -capture and libnicbox.so.0 (what the .debs install) and dpdk-testpmd
  copied to the guest's tmpfs, not started from the host's 9p share; the
  distribution's libraries (libc, libpcap, DPDK's librte_* and PMD
  plugins) come from the 9p root, warmed by one unrecorded run of each
  tool (9p cache=loose: the guest's page cache, as a local disk's).
- Setup: from the exec in the user's shell (after the harness's setpriv)
  to the first frame the tool receives on 05, while nicbox-pktgen already
  sends into 04 (hub 0) at 200 frames/s. nicbox-capture --count 1
  includes connecting to the running nicbox-helper, its claim (netdev
  down, bind to vfio-pci), pool, IOMMU set-up, device init and lockdown;
  dpdk-testpmd (rxonly, interactive, \`set verbose 1\`) includes EAL init,
  but 05 is bound to vfio-pci before its clock starts (what dpdk-devbind
  does for a DPDK user beforehand). Each output line is stamped as it
  arrives (bash EPOCHREALTIME). Setup runs first, then latency runs.
- Latency: one-way, pktgen --timestamp writes CLOCK_MONOTONIC at send time,
  capture --latency reads it at receive time (same guest clock); the
  forwarder on vCPU 1 alone, pktgen and capture on vCPU 0. capture waits
  with \`--rx-mode interrupt\` (asleep between frames): a receiver that
  polls, or adaptive at its 1 ms threshold with a frame every 1 ms, holds
  the host core the emulated NICs need and decides the result more than
  the forwarder does (docs/performance.md, the notes). testpmd polls,
  so the like-for-like ratio compares nicbox-fwd --rx-mode poll with it;
  nicbox-fwd's default (adaptive: sleeps on the receive interrupt after
  1 ms idle, about the gap between two frames at 1000 frames/s) is the
  third row.

$tables
<!-- vm-setup-lat end -->
SECTION
)
if grep -q '<!-- vm-setup-lat begin -->' "$doc"; then
  SECTION=$section awk '
    /<!-- vm-setup-lat begin -->/ { print ENVIRON["SECTION"]; skip = 1; next }
    /<!-- vm-setup-lat end -->/ { skip = 0; next }
    !skip { print }' "$doc" >"$doc.tmp"
  mv "$doc.tmp" "$doc"
else
  printf '\n%s\n' "$section" >>"$doc"
fi
echo "vm-setup-lat: tables written into $doc"
