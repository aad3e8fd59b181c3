#!/bin/bash
# check_out_kept.sh CAPTURE: nicbox-capture --out on an existing file with no
# helper to claim from fails (exit 1) and leaves the file's bytes as they
# were: the file is opened before the claim but emptied only after it.
set -uo pipefail
capture=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf 'an earlier capture\n' >"$tmp/old.pcap"
NICBOX_SOCKET=$tmp/no-helper.sock "$capture" --dev eth0 --out "$tmp/old.pcap" 2>"$tmp/err"
status=$?
cat "$tmp/err"
if [ "$status" -ne 1 ] || ! grep -q 'is nicbox-helper running' "$tmp/err"; then
	echo "FAIL: exit status $status, expected 1 with a connect error"
	exit 1
fi
if [ "$(cat "$tmp/old.pcap")" != "an earlier capture" ]; then
	echo "FAIL: the existing file was changed: $(od -c "$tmp/old.pcap" | head -3)"
	exit 1
fi
echo "ok: the existing file is unchanged"
