#!/bin/sh
# run-fuzz.sh TREE - what `make fuzz` runs: every libFuzzer harness built in
# TREE/test/fuzz/ for $FUZZ_SECONDS each, one after the other, on a scratch
# copy of its seed corpus (test/fuzz/corpus/<name>/, never modified), then a
# table of harness / executions / exec/s / result. Crash inputs and logs
# stay in TREE/fuzz-run/<name>/. Exits non-zero if any harness failed.
set -u
tree=${1:?usage: run-fuzz.sh BUILD-FUZZ-TREE}
seconds=${FUZZ_SECONDS:-600}
src=$(pwd)
rows=""
failed=0

for bin in "$tree"/test/fuzz/fuzz_*; do
	[ -x "$bin" ] || continue
	name=$(basename "$bin")
	name=${name#fuzz_}
	work="$tree/fuzz-run/$name"
	rm -rf "$work"
	mkdir -p "$work/corpus" "$work/artifacts"
	if [ -d "$src/test/fuzz/corpus/$name" ]; then
		cp -r "$src/test/fuzz/corpus/$name/." "$work/corpus/"
	fi
	echo "=== fuzz $name for ${seconds}s (log: $work/log)"
	if "$bin" -max_total_time="$seconds" -print_final_stats=1 \
		-artifact_prefix="$work/artifacts/" "$work/corpus" >"$work/log" 2>&1; then
		result=PASS
	else
		result="FAIL (see $work/log)"
		failed=1
	fi
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -n 1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/log" | tail -n 1)
	rows="$rows$(printf '%-24s %14s %10s  %s' "$name" "${execs:-?}" "${rate:-?}" "$result")
"
done

if [ -z "$rows" ]; then
	echo "make fuzz: no harnesses in $tree/test/fuzz/" >&2
	exit 1
fi
printf '\n%-24s %14s %10s  %s\n' harness executions exec/s result
printf '%s' "$rows"
exit "$failed"
