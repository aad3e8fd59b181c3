#!/bin/bash
# timeout: 180
# Lock files against a hostile local user (docs/security.md, "Threats
# tried"): uid NB_UID looks for every *.lock under /run/nicbox and holds
# each one it can open with flock, as any user could with the 0644 lock
# files of old; a claim must still succeed. The lock directory is root's,
# 0700, its files 0600. `status` run in loops beside a stream of claims
# never makes one fail with "busy".
. "$NB_SRC/test/vm/lib.sh"
. "$NB_SRC/test/privsep/vm_helper_lib.sh"

a=${nics[0]} b=${nics[1]}
write_policy "allow user:$NB_UID pci:$a
allow user:$NB_UID pci:$b"
nb_check "nicbox-helper starts" nb_helper_start "$policy"
probe_as_user first "$a"
nb_check "a first claim of $a succeeds (lock file created)" test "$probe_rc" -eq 0
nb_check "$a restored" wait_restored "$a"

mode_owner() { stat -c '%a %U' "$1"; }
nb_check "/run/nicbox/state is 0700 root" test "$(mode_owner /run/nicbox/state)" == "700 root"
nb_check "the lock file of $a is 0600 root" test "$(mode_owner "/run/nicbox/state/$a.lock")" == "600 root"

# The attacker: hold every lock file it can open, read-only, for 20 s.
attack() {
  local f n=0
  for f in $(find /run/nicbox -name '*.lock' 2>/dev/null); do
    exec {fd}<"$f" 2>/dev/null || continue
    flock -n -s "$fd" && { echo "attacker holds $f"; n=$((n + 1)); }
  done
  echo "attacker holds $n locks"
  echo "attacker pid $$"
  exec sleep 20 # same pid, same fds (and locks, if any) until killed
}
export -f attack
nb_as_user bash -c attack >"$NB_OUT/attacker.log" 2>&1 &
attacker=$!
nb_check "the attacker ran" wait_for grep -q "^attacker pid " "$NB_OUT/attacker.log"
cat "$NB_OUT/attacker.log"
nb_check "the attacker could open and lock no lock file" grep -q "^attacker holds 0 locks" "$NB_OUT/attacker.log"
nb_as_user flock -n -s "/run/nicbox/state/$a.lock" true 2>"$NB_OUT/direct.log"
nb_check "uid $NB_UID cannot open /run/nicbox/state/$a.lock ($(cat "$NB_OUT/direct.log"))" \
  grep -q "Permission denied" "$NB_OUT/direct.log"
probe_as_user during-attack "$a"
nb_check "claim of $a succeeds while the attacker runs" test "$probe_rc" -eq 0
nb_check "$a restored" wait_restored "$a"
# $attacker is nb_as_user's subshell; the attacker itself runs as uid
# $NB_UID below it and must go too (the runner fails a check that leaves
# processes behind).
kill "$(sed -n 's/^attacker pid //p' "$NB_OUT/attacker.log")" 2>/dev/null
wait "$attacker" 2>/dev/null

# `status` as root (it may open anything) and as the user, in loops, while
# claims of both NICs follow each other: no claim may see "busy". status
# checks liveness with a session of its own, which counts toward its uid's
# limit of 8 sessions open or just ended (docs/helper.md): the user's loop
# pauses between calls, as a watching user would, so it does not use up
# the quota its own claims need (EUSERS; a tight loop would, by design).
status_loop() {
  local pause=$1
  shift
  while :; do "$@" status --policy "$policy" >/dev/null 2>&1; sleep "$pause"; done
}
status_loop 0 "$NB_BUILD/privhelper/nicbox-helper" &
loop1=$!
status_loop 0.2 nb_as_user "$NB_BUILD/privhelper/nicbox-helper" &
loop2=$!
busy=0 failed=0 claims=10
for ((i = 0; i < claims; i++)); do
  for dev in "$a" "$b"; do
    nb_as_user "$probe" --socket "$NB_SOCK" --dev "$dev" --pool $((2 << 20)) >"$NB_OUT/loop.log" 2>&1 ||
      { failed=$((failed + 1)); cat "$NB_OUT/loop.log"; }
    grep -q EBUSY "$NB_OUT/loop.log" && busy=$((busy + 1))
  done
done
kill "$loop1" "$loop2" 2>/dev/null
wait "$loop1" "$loop2" 2>/dev/null
echo "$((2 * claims)) claims beside two status loops: $failed failed, $busy busy"
nb_check "no claim saw busy because of status ($busy of $((2 * claims)))" test "$busy" -eq 0
nb_check "no claim failed ($failed)" test "$failed" -eq 0
nb_check "$a restored" wait_restored "$a"
nb_check "$b restored" wait_restored "$b"
exit "$NB_FAILED"
