#!/bin/sh
# run-tests.sh - what `make test` runs, from the repository root.
#
# Three suites, each in its own tree: unit + model tests (ASan/UBSan),
# fuzz smoke runs (clang/libFuzzer), the QEMU testbed (release). Every
# suite runs even if an earlier one failed; a suite whose tree does not
# build, or that has no tests at all, counts as failed. Exits non-zero if
# any suite failed and ends with one summary line.
set -u
MAKE=${MAKE:-make}
JOBS=${JOBS:-2}
summary=""
failed=0
n_passed=0
n_failed=0

# suite NAME TREE MAKE-TARGET CTEST-ARGS...
suite() {
	name=$1 tree=$2 target=$3
	shift 3
	echo "=== $name: building $tree/"
	if ! $MAKE --no-print-directory JOBS="$JOBS" "$target"; then
		summary="$summary $name=BUILD-FAILED"
		failed=1
		n_failed=$((n_failed + 1))
		return
	fi
	count=$(ctest --test-dir "$tree" -N "$@" | sed -n 's/^Total Tests: //p')
	if [ "${count:-0}" -eq 0 ]; then
		echo "=== $name: no tests registered in $tree/"
		summary="$summary $name=NO-TESTS"
		failed=1
		n_failed=$((n_failed + 1))
		return
	fi
	echo "=== $name: $count tests in $tree/"
	failed_list="$tree/Testing/Temporary/LastTestsFailed.log"
	rm -f "$failed_list"
	if ctest --test-dir "$tree" "$@"; then
		summary="$summary $name=PASS($count)"
	else
		summary="$summary $name=FAIL"
		failed=1
	fi
	bad=0
	[ -f "$failed_list" ] && bad=$(wc -l < "$failed_list")
	n_failed=$((n_failed + bad))
	n_passed=$((n_passed + count - bad))
}

# -V so the cmocka summaries ("[  PASSED  ] N test(s).") are shown.
suite unit+model build-asan build-asan -LE 'vm|fuzz' -V
suite fuzz build-fuzz build-fuzz -L fuzz --output-on-failure
suite vm build build-testbed -L vm --output-on-failure

if [ "$failed" -eq 0 ]; then
	echo "make test: PASSED:$summary"
else
	echo "make test: FAILED:$summary"
fi
# One plain closing line over all three suites (ctest tests, not cmocka
# cases; a suite that did not build or has no tests counts as one failure).
echo "total: $n_passed passed, $n_failed failed"
exit "$failed"
