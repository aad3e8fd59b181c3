#!/bin/bash
# timeout: 120
# nicbox-pktgen --stats-fd 5: the app inherits fd 5 (a file on tmpfs),
# nb_lockdown_keep keeps it for write only (NB_KEEP_WRITE), and its JSON
# stats lines arrive there while the process runs sandboxed (CapEff 0,
# NoNewPrivs 1, Seccomp 2, read by root from outside); the fd is still open
# in the locked process, and the final line on fd 5 is the one on stdout.
# That a write to any other fd kills the process is privsep_lockdown's.
. "$NB_SRC/test/vm/lib.sh"
. "$NB_SRC/test/apps/vm-lib.sh"

nics=($NB_NICS)
dev=${nics[0]}
stats=$APPS_TMP/stats-fd.jsonl

apps_policy "$NB_OUT/policy.conf" "$dev"
NB_HELPER_LOG=$NB_OUT/helper.log nb_helper_start "$NB_OUT/policy.conf" || exit 1

: >"$stats"
chown "$NB_UID:$NB_GID" "$stats"
apps_start pktgen pktgen --dev "$dev" --rate 50 --duration 6 --stats-fd 5 5>>"$stats"
apps_wait_ready pktgen || exit 1
# A stats line comes once a second; wait for the first (up to 10 s).
for ((tenths = 0; tenths < 100; tenths++)); do
  [[ -s $stats ]] && break
  sleep 0.1
done
pid=$(apps_pid pktgen)
nb_check "a stats line arrived on fd 5 while nicbox-pktgen runs" \
  test -s "$stats" -a -n "$pid"
apps_check_sandboxed pktgen
nb_check "fd 5 of the locked process is the stats file" \
  test "$(readlink "/proc/$pid/fd/5" 2>/dev/null)" == "$stats"
apps_wait pktgen
apps_show pktgen
echo "--- fd 5:"
cat "$stats"
nb_check "nicbox-pktgen exits 0" test "${APP_RC[pktgen]}" -eq 0
stats_lines_ok() {
  jq -e --arg dev "$dev" -s \
    'length > 0 and all(.[]; .app == "nicbox-pktgen" and .dev == $dev)' "$stats" >/dev/null
}
nb_check "every line on fd 5 is a JSON stats object for $dev" stats_lines_ok
nb_check "fd 5 got the same final line as stdout" \
  test "$(jq -c 'select(.final == true)' "$stats")" == \
       "$(jq -c 'select(.final == true)' "$APPS_TMP/pktgen.json")"
nb_check "the helper stops cleanly" nb_helper_stop
