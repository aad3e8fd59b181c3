#!/bin/sh
# check_man.sh GROFF PAGE...: render every page with groff's man macros and
# all warnings on (-ww); any message, or an empty rendering, fails.
set -u
groff=$1
shift
fail=0
for page; do
	msgs=$("$groff" -man -Tutf8 -ww -z "$page" 2>&1)
	lines=$("$groff" -man -Tutf8 "$page" 2>/dev/null | grep -c .)
	if [ -n "$msgs" ] || [ "$lines" -lt 10 ]; then
		echo "FAIL: $page ($lines lines):"
		echo "$msgs"
		fail=1
	else
		echo "ok: $page ($lines lines, no warnings)"
	fi
done
exit $fail
