#!/bin/bash
# VM benchmark: nicbox-fwd vs DPDK testpmd io forwarding and nicbox-pktgen vs
# testpmd txonly, on the QEMU testbed's virtio-net NICs behind the emulated
# IOMMU, in one boot (bench/vm-fwd-guest.sh). Prints a table and writes it
# into docs/performance.md between the vm-bench markers. Under TCG the
# absolute figures mean little; the ratios within one boot are the result.
#
#   bench/vm-fwd.sh [BUILD_DIR]    (default REPO/build)
# NB_BENCH_RUNS (default 3) runs per tool and test, NB_BENCH_SECONDS (15)
# of traffic per run, NB_BENCH_TESTS (default "fwd gen pfwd pgen igbfwd")
# the tests (bench/vm-fwd-guest.sh). NB_BENCH_NO_DOC=1 leaves docs/performance.md alone.
# NB_BENCH_TSV=FILE skips the boot and tabulates an earlier run's runs.tsv.
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$src/build}
. "$src/bench/lib.sh"
runs=${NB_BENCH_RUNS:-3}
seconds=${NB_BENCH_SECONDS:-15}
((runs >= 1)) || { echo "vm-fwd: NB_BENCH_RUNS must be at least 1" >&2; exit 1; }

for binary in privhelper/nicbox-helper apps/nicbox-pktgen apps/nicbox-fwd apps/nicbox-capture; do
  [[ -x $build/$binary ]] || { echo "vm-fwd: $build/$binary is not built (run make)" >&2; exit 1; }
done
command -v dpdk-testpmd >/dev/null || { echo "vm-fwd: dpdk-testpmd not found (make deps)" >&2; exit 1; }

results=$build/vm-bench
tsv=${NB_BENCH_TSV:-$results/bench/runs.tsv}
if [[ -z ${NB_BENCH_TSV:-} ]]; then
  limit=$((300 + runs * 13 * (seconds + 120)))
  echo "vm-fwd: one boot, $runs runs x 13 rounds of ${seconds} s (limit ${limit} s); console: $results/console.log"
  "$src/test/vm/boot.sh" --build "$build" --results "$results" --timeout "$limit" --quiet \
    --run env NB_BENCH_RUNS="$runs" NB_BENCH_SECONDS="$seconds" NB_BENCH_TESTS="${NB_BENCH_TESTS:-fwd gen pfwd pgen igbfwd}" bash bench/vm-fwd-guest.sh
fi

# Table: per test, each tool's runs, its median, and nicbox / testpmd.
table=$(awk -F'\t' '
  function median(list,    a, n, i, j, t) {
    n = split(list, a, " ")
    for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
    return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  NR > 1 {
    v[$1, $2] = v[$1, $2] " " $4; k[$1, $2] = k[$1, $2] sprintf(" %.1f", $4 / 1000)
    r[$1, $2, $3] = $4; if ($3 > last) last = $3
    if ($5 != "-") o[$1, $2] = o[$1, $2] " " $5
  }
  function offered(test, tool) {
    return ((test, tool) in o) ? sprintf("%.1f", median(o[test, tool]) / 1000) : "-"
  }
  # the ratios to testpmd run by run (same run number: back to back)
  function per_run(test, tool,    i, out) {
    out = ""
    for (i = 1; i <= last; i++)
      if ((test, tool, i) in r && r[test, "testpmd", i] > 0)
        out = out sprintf("%s%.2f", out == "" ? "" : " ", r[test, tool, i] / r[test, "testpmd", i])
    return out
  }
  function row(test, tool, label,    n, d) {
    if (!((test, tool) in v)) return
    n = median(v[test, tool]); d = median(v[test, "testpmd"])
    printf "| %s | %s |%s | %.1f | %s | %s | %s |\n", name[test], label, k[test, tool], n / 1000,
           tool == "testpmd" ? "" : (d > 0 ? sprintf("%.2f", n / d) : "n/a"),
           tool == "testpmd" ? "" : per_run(test, tool), offered(test, tool)
  }
  END {
    name["fwd"] = "forwarding 05->06 (split)"; name["gen"] = "generating on 04 (split)"
    name["pfwd"] = "forwarding 06->09 (split rx, packed tx)"; name["pgen"] = "generating on 03 (packed)"
    name["igbfwd"] = "forwarding igb 08->0a"
    print "| test | tool | kpps per run | median kpps | nicbox / testpmd (medians) | per run | offered kpps (median) |"
    print "|---|---|---|---:|---:|---|---:|"
    for (t = 1; t <= 5; t++) {
      test = t == 1 ? "fwd" : t == 2 ? "gen" : t == 3 ? "pfwd" : t == 4 ? "pgen" : "igbfwd"
      if (!((test, "nicbox") in v)) continue
      if (test ~ /fwd$/) {
        row(test, "nicbox", "nicbox-fwd --rx-mode poll")
        row(test, "testpmd", "testpmd io")
        row(test, "nicbox-adaptive", "nicbox-fwd (adaptive, its default)")
      } else {
        row(test, "nicbox", "nicbox-pktgen")
        row(test, "testpmd", "testpmd txonly")
      }
    }
  }' "$tsv")
echo
echo "$table"

[[ ${NB_BENCH_NO_DOC:-0} == 1 ]] && exit 0
section=$(cat <<SECTION
<!-- vm-bench begin -->
## QEMU testbed: nicbox vs DPDK testpmd on virtio-net and igb

Measured by \`bench/vm-fwd.sh\` on $(date -u +%Y-%m-%d): one boot of the test/vm
testbed (QEMU $(qemu-system-x86_64 --version | awk 'NR == 1 {print $4}') TCG, 2 vCPUs, emulated intel-iommu, modern
virtio-net NICs with iommu_platform=on, QEMU's igb (82576) NICs), $runs runs per tool and test of ${seconds} s of
traffic each, the tools alternating (A B, B A, ...). A run's figure is the
median of the device under test's own one-second rates while traffic flowed
(nicbox's --json stats, testpmd's per-port Tx-pps), without the partial first
and last seconds.

- forwarding: nicbox-pktgen on 04 (60-byte frames, as fast as it goes) ->
  forwarder 05->06 -> nicbox-capture on 07; nicbox-fwd (uid 1000, sandboxed,
  bursts of 32) against testpmd --forward-mode=io (root, polling, --burst 32
  by default). Figure: frames sent on by 06. nicbox-fwd runs twice per
  run: \`--rx-mode poll\` (spins like testpmd: the like-for-like row) and
  as it ships (adaptive: sleeps on the receive interrupt after 1 ms
  without a frame).
- forwarding through a packed ring: the same from nicbox-pktgen on 07 ->
  forwarder 06->09 -> nicbox-capture on 03: the forwarder receives on 06's
  split ring and transmits on 09's packed ring (the two packed-ring NICs
  share hub 4, so a chain cannot be packed on both sides). Figure: frames
  sent on by 09.
- generating packed: as generating, on the packed-ring NICs 03 -> 09.
- forwarding igb: the same on the igb NICs: nicbox-pktgen on 02 -> hub 2 ->
  forwarder 08->0a (nicbox-fwd with drivers/igb against testpmd io with
  DPDK's net_e1000_igb) -> hub 3 -> nicbox-capture on 0c. Figure: frames
  sent on by 0a.
- generating: nicbox-pktgen --size 64 against testpmd --forward-mode=txonly
  --txpkts=64 on 04, nicbox-capture --discard draining 05 (QEMU stalls a
  sender whose hub peer cannot receive; --discard only counts, the same
  work for both senders' frames). Figure: frames sent by 04.
- The device under test runs alone on vCPU 1; the other apps share vCPU 0.
- "offered": what nicbox-pktgen sent into 04 (07, 02) in the forwarding runs. Where a
  forwarder's rate is close to it, the source (sharing vCPU 0 with the
  receiver) limited the run, not the forwarder.
- Below the offered load, the limit can still be downstream of the
  forwarder: QEMU moves 06's frames to 07 only as fast as the receiver
  (on vCPU 0 with pktgen) empties its ring, and a full transmit ring makes a
  forwarder drop (nicbox-fwd counts these as drops on 06; \`make demo\` shows
  them, and in its runs they were a large share of what 05 received). A
  ratio near 1 then says both forwarders reach that bound, not that they
  are equally fast.

Under TCG every figure is emulation speed on a machine shared with other
work: compare the ratio, not the kpps, and only within one boot.

$table
<!-- vm-bench end -->
SECTION
)
bench_write_doc vm-bench "$section"
