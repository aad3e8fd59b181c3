#!/bin/bash
# SPDX-License-Identifier: MIT
# virtio-bench.sh - split vs packed virtqueues (and VIRTIO_F_EVENT_IDX), two
# ways. Prints two tables; not a test.
#
# 1. Software device (bench/virtio_ring.c, Release build): the virtio-net
#    receive + transmit code forwarding 60-byte frames between two queues
#    of the unit tests' software device, one thread.
#      instr/pkt   callgrind, counting only inside fwd_step() (rx burst
#                  with refill, tx burst with clean-up, mempool calls);
#                  the device's own work is not counted.
#      kicks/pkt   doorbells the driver rang per packet, with a device that
#                  handles notifications like QEMU's virtio-net; lag 1: it
#                  drains the transmit queue after every batch, lag 2: after
#                  every second one (it is still busy when the next comes).
# 2. Testbed (unless NB_BENCH_NO_VM=1): bench/virtio-packed-guest.sh in one
#    boot, nicbox-pktgen -> nicbox-capture on the packed NICs, split and
#    packed rings alternating; the median received rate per ring and the
#    ratio packed / split.
#
# Usage: bench/virtio-bench.sh [PACKETS]   (env: NB_BENCH_BUILD=dir for the
# software-device build, NB_BENCH_VM_BUILD=dir for the testbed, default
# REPO/build; NB_BENCH_RUNS, NB_BENCH_SECONDS as for vm-fwd.sh)
set -eu

packets=${1:-100000}
src=$(cd "$(dirname "$0")/.." && pwd)
build=${NB_BENCH_BUILD:-/tmp/nicbox-virtio-bench}
bin=$build/test/virtio/virtio_ring_bench

command -v valgrind >/dev/null || { echo "virtio-bench: valgrind is required" >&2; exit 1; }
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DNB_TESTS=ON >/dev/null
cmake --build "$build" -j2 --target virtio_ring_bench >/dev/null

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# field NAME LINE: the word after NAME in the program's summary line.
field() { echo "$2" | tr ' ' '\n' | sed -n "/^$1\$/{n;p;}"; }

echo "software device, $packets packets per run"
printf '%-10s %6s %10s %15s %15s\n' ring batch instr/pkt "kicks/pkt lag1" "kicks/pkt lag2"
for mode in split split-ei packed packed-ei; do
	for batch in 1 8 32; do
		out=$(valgrind --tool=callgrind --callgrind-out-file="$tmp/cg" \
			--collect-atstart=no --toggle-collect=fwd_step \
			"$bin" "$mode" "$batch" "$packets" 2>/dev/null)
		ir=$(sed -n 's/^totals: *//p' "$tmp/cg")
		fwd=$(field forwarded "$out")
		k1=$(( $(field rx_kicks "$out") + $(field tx_kicks "$out") ))
		out2=$("$bin" "$mode" "$batch" "$packets" 2)
		k2=$(( $(field rx_kicks "$out2") + $(field tx_kicks "$out2") ))
		printf '%-10s %6s %10s %15s %15s\n' "$mode" "$batch" \
			"$(echo "scale=1; $ir / $fwd" | bc)" \
			"$(echo "scale=4; $k1 / $fwd" | bc)" \
			"$(echo "scale=4; $k2 / $(field forwarded "$out2")" | bc)"
		rm -f "$tmp"/cg*
	done
done

[ "${NB_BENCH_NO_VM:-0}" = 1 ] && exit 0
vmbuild=${NB_BENCH_VM_BUILD:-$src/build}
runs=${NB_BENCH_RUNS:-3}
seconds=${NB_BENCH_SECONDS:-15}
for binary in privhelper/nicbox-helper apps/nicbox-pktgen apps/nicbox-capture; do
	[ -x "$vmbuild/$binary" ] || { echo "virtio-bench: $vmbuild/$binary is not built (run make)" >&2; exit 1; }
done
results=$vmbuild/vm-bench-packed
limit=$((300 + runs * 2 * (seconds + 90)))
echo "testbed: one boot, $runs runs x 2 rings of ${seconds} s (limit ${limit} s); console: $results/console.log"
"$src/test/vm/boot.sh" --build "$vmbuild" --results "$results" --timeout "$limit" --quiet \
	--run env NB_BENCH_RUNS="$runs" NB_BENCH_SECONDS="$seconds" bash bench/virtio-packed-guest.sh
tsv=$results/bench-packed/runs.tsv
[ -s "$tsv" ] || { echo "virtio-bench: no results in $tsv (see $results/console.log)" >&2; exit 1; }
awk -F'\t' '
	function median(list,    a, n, i, j, t) {
		n = split(list, a, " ")
		for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
		return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	NR > 1 { v[$1] = v[$1] " " $3; k[$1] = k[$1] sprintf(" %.1f", $3 / 1000) }
	END {
		print "| ring | kpps per run | median kpps |"
		print "|---|---|---:|"
		for (r = 1; r <= 2; r++) {
			ring = r == 1 ? "split" : "packed"
			printf "| %s |%s | %.1f |\n", ring, k[ring], median(v[ring]) / 1000
		}
		s = median(v["split"]); p = median(v["packed"])
		printf "packed / split: %s\n", s > 0 ? sprintf("%.2f", p / s) : "n/a"
	}' "$tsv"
