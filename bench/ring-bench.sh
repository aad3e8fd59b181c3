#!/bin/sh
# SPDX-License-Identifier: MIT
# ring-bench.sh - instructions per forwarded packet (driver + mempool) on
# three rings, each with every receive/transmit path this CPU runs. Prints
# a table; not a test. Needs valgrind.
#
#   ixgbe    two 82599 models back to back (bench/ixgbe_fwd.c): the ixgbe
#            driver whole, model threads not counted;
#   igb      the Intel ring code as igb runs it, on a software device in
#            the same thread (bench/ring_fwd.c), device not counted;
#   virtio   virtio-net's split virtqueues on test/virtio/softdev.h
#            (bench/ring_fwd.c); it has one path.
#
# Counted with callgrind inside fwd_step() only: receive burst (with its
# refill), transmit burst (with its clean-up), mempool calls, and in the
# touch mode one read of each frame's first cache line. Modes:
#   full   a full batch waits at every poll (line-rate load);
#   half   every second poll finds nothing (50% load, empty polls counted);
#   touch  as full, plus the first-cache-line read.
# Paths: NB_SIMD=scalar|sse4.1|avx2 (drivers/intel/adv_path.c); a path the
# CPU lacks is shown as "-".
#
# Usage: bench/ring-bench.sh [PACKETS]   (env: NB_BENCH_BUILD=build dir)
# PACKETS (default 32000) per run at batch 32 and 64; smaller batches run
# PACKETS * batch / 32 (the counts per packet are the same from run to run;
# fewer steps keep valgrind's time down).
set -eu

packets=${1:-32000}
src=$(cd "$(dirname "$0")/.." && pwd)
build=${NB_BENCH_BUILD:-/tmp/nicbox-ring-bench}
model=$build/test/model/ixgbe_fwd_bench
ring=$build/test/model/ring_fwd_bench

command -v valgrind >/dev/null || { echo "ring-bench: valgrind is required (apt-get install valgrind)" >&2; exit 1; }
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DNB_TESTS=ON >/dev/null
cmake --build "$build" -j2 --target ixgbe_fwd_bench ring_fwd_bench >/dev/null

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# field NAME LINE: the number after NAME in the program's summary line.
field() { echo "$2" | tr ' ' '\n' | sed -n "/^$1\$/{n;p;}"; }

# ipp PATH CMD...: instructions per forwarded packet in fwd_step's thread.
ipp() {
	path=$1
	shift
	out=$(NB_SIMD=$path NB_MODEL_NO_TRAPS=1 valgrind --tool=callgrind \
		--callgrind-out-file="$tmp/cg" --collect-atstart=no \
		--toggle-collect=fwd_step --separate-threads=yes "$@" 2>/dev/null) || {
		echo "-"
		return
	}
	ir=$(sed -n 's/^totals: *//p' "$tmp"/cg-01)
	rm -f "$tmp"/cg*
	echo "scale=1; $ir / $(field forwarded "$out")" | bc
}

supported() {
	case $1 in
	scalar) return 0 ;;
	sse4.1) grep -qw sse4_1 /proc/cpuinfo ;;
	avx2) grep -qw avx2 /proc/cpuinfo ;;
	esac
}

printf '%-6s %-6s %-7s %9s %9s %9s\n' batch mode path ixgbe igb virtio
for batch in 1 8 32 64; do
	n=$((batch >= 32 ? packets : packets * batch / 32))
	for mode in full half touch; do
		v=$(ipp scalar "$ring" virtio "$mode" "$batch" "$n")
		for path in scalar sse4.1 avx2; do
			if supported $path; then
				x=$(ipp $path "$model" "$batch" "$n" "$mode")
				i=$(ipp $path "$ring" igb "$mode" "$batch" "$n")
			else
				x=- i=-
			fi
			printf '%-6s %-6s %-7s %9s %9s %9s\n' "$batch" "$mode" "$path" "$x" "$i" "$v"
			v=-
		done
	done
done
