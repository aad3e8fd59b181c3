#!/bin/bash
# expect_exit.sh STATUS REGEX APP ARGS...: run APP with ARGS and require its
# exit status to be STATUS and REGEX (extended) to match its stderr, or its
# stdout for STATUS 0. A usage error (2) must print nothing on stdout.
# $NICBOX_SOCKET points at a path nothing listens on: an app that got past
# argument checking would fail to connect, with another status and message.
set -uo pipefail
want_status=$1 regex=$2
shift 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
NICBOX_SOCKET=$tmp/no-helper.sock "$@" >"$tmp/out" 2>"$tmp/err"
status=$?
echo "exit status $status; stdout:"; cat "$tmp/out"; echo "stderr:"; cat "$tmp/err"
if [ "$status" -ne "$want_status" ]; then
	echo "FAIL: exit status $status, expected $want_status"
	exit 1
fi
stream=$tmp/err
[ "$want_status" -eq 0 ] && stream=$tmp/out
if ! grep -Eq -- "$regex" "$stream"; then
	echo "FAIL: output does not match /$regex/"
	exit 1
fi
if [ "$want_status" -eq 2 ] && [ -s "$tmp/out" ]; then
	echo "FAIL: a usage error printed to stdout"
	exit 1
fi
