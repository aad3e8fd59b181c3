#!/bin/sh
# SPDX-License-Identifier: MIT
# ixgbe-bench.sh - cost per forwarded packet of the ixgbe driver + mempool,
# forwarding between two 82599 models (bench/ixgbe_fwd.c). Prints a table;
# not a test. Needs valgrind; uses perf where it can read cycles.
#
#   instr/pkt    callgrind, counting only inside fwd_step() (rx burst, tx
#                burst with its clean-up, mempool alloc/free), in the
#                forwarding thread: the models' threads are not counted.
#   mempool      the part of instr/pkt spent in nb_pkt_alloc_bulk and
#                nb_pkt_free_bulk.
#   tsc/pkt      TSC ticks inside fwd_step(), best of three native runs (not core
#                cycles; the models run on the other CPU and move the
#                descriptor and buffer cache lines like a NIC's DMA would).
#   cycles/pkt   perf stat cycles:u of the whole native run (models and
#                waiting included: an upper bound), only where perf can.
#
# Usage: bench/ixgbe-bench.sh [PACKETS]   (env: NB_BENCH_BUILD=build dir)
set -eu

packets=${1:-200000}
src=$(cd "$(dirname "$0")/.." && pwd)
build=${NB_BENCH_BUILD:-/tmp/nicbox-ixgbe-bench}
bin=$build/test/model/ixgbe_fwd_bench

command -v valgrind >/dev/null || { echo "ixgbe-bench: valgrind is required" >&2; exit 1; }
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DNB_TESTS=ON >/dev/null
cmake --build "$build" -j2 --target ixgbe_fwd_bench >/dev/null

if perf stat -x, -e cycles:u true 2>&1 | grep -q '^[0-9]'; then
	have_perf=1
else
	have_perf=0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# field NAME LINE: the number after NAME in the program's summary line.
field() { echo "$2" | tr ' ' '\n' | sed -n "/^$1\$/{n;p;}"; }

printf '%-6s %10s %9s %9s %11s %7s\n' batch instr/pkt mempool tsc/pkt cycles/pkt short
for batch in 1 8 32 64; do
	# valgrind does not single-step: the model polls for register writes.
	out=$(NB_MODEL_NO_TRAPS=1 valgrind --tool=callgrind --callgrind-out-file="$tmp/cg" \
		--collect-atstart=no --toggle-collect=fwd_step \
		--separate-threads=yes "$bin" "$batch" "$packets" 2>/dev/null)
	fwd=$(field forwarded "$out")
	short=$(field short "$out")
	main=$tmp/cg-01 # thread 1: the forwarder
	ir=$(sed -n 's/^totals: *//p' "$main")
	mp=$(callgrind_annotate "$main" 2>/dev/null |
		awk '/nb_pkt_(alloc|free)_bulk/ { gsub(",", "", $1); s += $1 } END { print s + 0 }')
	# TSC: best of three native runs (the machine is shared).
	tsc_pkt=
	for run in 1 2 3; do
		native=$("$bin" "$batch" "$packets")
		t=$(echo "scale=1; $(field tsc "$native") / $(field forwarded "$native")" | bc)
		if [ -z "$tsc_pkt" ] || [ "$(echo "$t < $tsc_pkt" | bc)" = 1 ]; then
			tsc_pkt=$t
		fi
	done
	cycles=n/a
	if [ "$have_perf" = 1 ]; then
		c=$(perf stat -x, -e cycles:u "$bin" "$batch" "$packets" 2>&1 >/dev/null |
			awk -F, '/cycles/ { print $1 }')
		cycles=$(echo "scale=1; $c / $packets" | bc)
	fi
	printf '%-6s %10s %9s %9s %11s %7s\n' "$batch" \
		"$(echo "scale=1; $ir / $fwd" | bc)" \
		"$(echo "scale=1; $mp / $fwd" | bc)" \
		"$tsc_pkt" \
		"$cycles" "$short"
	rm -f "$tmp"/cg*
done
[ "$have_perf" = 1 ] || echo "(perf stat cannot read cycles here: cycles/pkt is n/a)"
