#!/bin/bash
# helper_cli.sh HELPER: nicbox-helper's command line. Each mistake is named
# and exits 2; --help (also after a command) and --version exit 0; serve
# refuses to run as non-root (1); status really connects: "running" (0)
# while the helper serves, "not running" (3) for the socket file that a
# kill -9 leaves behind, and the same as JSON with --json.
set -uo pipefail
helper=$1
tmp=$(mktemp -d /tmp/nb-cli-XXXXXX)
trap 'kill -9 "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
pid=
fails=0
# expect STATUS REGEX ARGS...: exit status and a line of stdout+stderr
expect() {
	local want=$1 regex=$2 status
	shift 2
	"$@" >"$tmp/out" 2>&1
	status=$?
	if [ "$status" -ne "$want" ] || ! grep -Eq -- "$regex" "$tmp/out"; then
		echo "FAIL: $* -> $status (want $want, /$regex/):"; cat "$tmp/out"; fails=$((fails + 1))
	else
		echo "ok: $* -> $status: $(grep -E -m1 -- "$regex" "$tmp/out")"
	fi
}
h=$helper
expect 0 "^nicbox-helper \\(nicbox\\) [0-9]+\\.[0-9]+\\.[0-9]+$" $h --version
expect 0 "^usage: nicbox-helper serve" $h serve --help
expect 0 "exit status: 0 ok, 1 failure, 2 bad command line, 3" $h --help
expect 2 "unrecognized option '--bogus'" $h serve --bogus
expect 2 "invalid option -- 'x'" $h status -x
expect 2 "option '--socket' requires an argument" $h status --socket
expect 2 "option '--json' doesn't allow an argument" $h status --json=yes
expect 2 "unexpected argument 'extra'" $h status extra
expect 2 "unknown command 'stat'" $h stat
expect 2 "no command given" $h --socket /x
expect 2 "--group is an option of serve only" $h status --group nicbox
expect 2 "--json is an option of status only" $h serve --json
expect 2 "^Try 'nicbox-helper --help'" $h --bogus
expect 1 "serve needs root .*sudo" setpriv --reuid=65534 --regid=65534 --clear-groups $h serve --socket "$tmp/x.sock"

echo "allow user:$(id -u) id:dead:beef" >"$tmp/policy.conf"
expect 3 "helper socket $tmp/h.sock: not running \\(No such file" $h status --socket "$tmp/h.sock" --policy "$tmp/policy.conf"
$h serve --socket="$tmp/h.sock" --policy "$tmp/policy.conf" 2>"$tmp/helper.log" &
pid=$!
for _ in $(seq 100); do [ -S "$tmp/h.sock" ] && break; sleep 0.05; done
expect 0 "helper socket $tmp/h.sock: running$" $h status --socket "$tmp/h.sock" --policy "$tmp/policy.conf"
expect 0 '"helper":"running"' $h status --json --socket "$tmp/h.sock" --policy "$tmp/policy.conf"
$h status --json --socket "$tmp/h.sock" --policy "$tmp/policy.conf" >"$tmp/status.json"
python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); assert d["helper"] == "running" and d["policy"] == "ok" and isinstance(d["nics"], list)' "$tmp/status.json" ||
	{ echo "FAIL: status --json is not the JSON it should be:"; cat "$tmp/status.json"; fails=$((fails + 1)); }
# The start-up warning names the kernel parameter when there is no IOMMU group.
if [ -z "$(ls /sys/kernel/iommu_groups 2>/dev/null)" ]; then
	expect 0 "warning: no IOMMU group in /sys/kernel/iommu_groups.*intel_iommu=on.*amd_iommu=on" cat "$tmp/helper.log"
else
	expect 0 "serving with" cat "$tmp/helper.log"
	grep -q "no IOMMU group" "$tmp/helper.log" && { echo "FAIL: IOMMU warning with groups present"; fails=$((fails + 1)); }
fi
kill -9 "$pid"; wait "$pid" 2>/dev/null
[ -S "$tmp/h.sock" ] || { echo "FAIL: kill -9 should leave the socket file"; fails=$((fails + 1)); }
expect 3 "not running \\(Connection refused: a stale socket file\\)" $h status --socket "$tmp/h.sock" --policy "$tmp/policy.conf"
expect 3 '"helper":"not running \(Connection refused: a stale socket file\)"' $h status --json --socket "$tmp/h.sock" --policy "$tmp/policy.conf"
echo "$fails failure(s)"
[ "$fails" -eq 0 ]
