#!/bin/sh
# check_units.sh HELPER UNITDIR - lint the systemd units and score their
# hardening offline (no systemd as PID 1 needed). Fails on any verify
# message or an exposure score above 1.5, or when nicbox.sysusers does not
# create the group nicbox.
set -eu
helper=$1 units=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$units/nicbox-helper.socket" "$tmp/"
sed "s|@NB_HELPER_PATH@|$helper|" "$units/nicbox-helper.service.in" > "$tmp/nicbox-helper.service"
out=$(systemd-analyze verify "$tmp/nicbox-helper.socket" "$tmp/nicbox-helper.service" 2>&1) || {
	echo "$out"; exit 1; }
if [ -n "$out" ]; then echo "systemd-analyze verify complained:"; echo "$out"; exit 1; fi
score=$(systemd-analyze security --offline=yes "$tmp/nicbox-helper.service" 2>&1 |
	sed -n 's/.*Overall exposure level for nicbox-helper.service: \([0-9.]*\).*/\1/p')
echo "systemd-analyze security --offline=yes: exposure $score"
[ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 1.5) }'
# The socket's group comes from the sysusers.d file.
mkdir "$tmp/etc"
systemd-sysusers --root="$tmp" "$units/nicbox.sysusers"
grep -q '^nicbox:x:[0-9]*:$' "$tmp/etc/group" || { echo "nicbox.sysusers created no group nicbox"; exit 1; }
