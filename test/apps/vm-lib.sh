# Shell helpers for the apps' testbed checks (test/vm/checks/4*-apps-*.sh).
# Source after test/vm/lib.sh. Each app runs as the unprivileged user in the
# background with --json; its stdout goes to $APPS_TMP/NAME.json, its stderr
# to $APPS_TMP/NAME.err. APPS_TMP is on tmpfs, owned by NB_UID (apps may
# write files there too): a write() to NB_OUT (9p) can stall an app for
# seconds under TCG, long enough for its receive ring to overflow. When the
# check exits, apps still running are killed and APPS_TMP is copied to NB_OUT.

declare -A APP_SHELL=() # NAME -> pid to wait for
declare -A APP_RC=()    # NAME -> exit status, once apps_wait returned
APPS=$NB_BUILD/apps
APPS_TMP=$(mktemp -d /tmp/nb-apps.XXXXXX)
chown "$NB_UID:$NB_GID" "$APPS_TMP"

# apps_policy FILE BDF...: a policy letting NB_UID claim exactly these NICs.
apps_policy() {
  local file=$1 bdf
  shift
  : >"$file"
  for bdf; do
    echo "allow user:$NB_UID pci:$bdf pool=256M" >>"$file"
  done
}

# apps_start NAME APP ARGS...: start nicbox-APP as NB_UID in the background.
apps_start() {
  local name=$1 app=$2
  shift 2
  nb_as_user "$APPS/nicbox-$app" --socket "$NB_SOCK" --json "$@" \
    >"$APPS_TMP/$name.json" 2>"$APPS_TMP/$name.err" &
  APP_SHELL[$name]=$!
}

# apps_pid NAME: the app's own pid, from its "ready: ..., pid N" line ($! is
# the subshell running nb_as_user). Fails once that process is gone.
apps_pid() {
  local pid
  pid=$(sed -n 's/.*: ready: .*, pid \([0-9][0-9]*\)$/\1/p' "$APPS_TMP/$1.err" | head -n 1)
  [[ -n $pid && $(cat "/proc/$pid/comm" 2>/dev/null) == nicbox-* ]] || return 1
  echo "$pid"
}

# apps_wait_ready NAME: wait up to 60 s for the app's "ready:" line (printed
# after lockdown); fail early if it exits.
apps_wait_ready() {
  local name=$1 tenths
  for ((tenths = 0; tenths < 600; tenths++)); do
    grep -q ': ready: ' "$APPS_TMP/$name.err" && return 0
    if ! kill -0 "${APP_SHELL[$name]}" 2>/dev/null; then
      echo "$name exited before it was ready:"
      cat "$APPS_TMP/$name.err"
      return 1
    fi
    sleep 0.1
  done
  echo "$name not ready after 60 s"
  return 1
}

# apps_check_sandboxed NAME: read by root from outside while the app runs:
# no effective capabilities, no_new_privs, seccomp filter mode.
apps_check_sandboxed() {
  local name=$1 pid status
  if ! pid=$(apps_pid "$name") || ! status=$(cat "/proc/$pid/status" 2>/dev/null); then
    echo "$name is not running; its stderr:"
    cat "$APPS_TMP/$name.err"
    nb_check "$name is running for the sandbox check" false
    return
  fi
  grep -E '^(Name|Uid|CapEff|CapPrm|NoNewPrivs|Seccomp):' <<<"$status"
  nb_check "$name (pid $pid) runs as uid $NB_UID" \
    grep -Eq "^Uid:[[:space:]]+$NB_UID[[:space:]]" <<<"$status"
  nb_check "$name has CapEff 0" \
    grep -Eq '^CapEff:[[:space:]]+0000000000000000$' <<<"$status"
  nb_check "$name has NoNewPrivs 1" \
    grep -Eq '^NoNewPrivs:[[:space:]]+1$' <<<"$status"
  nb_check "$name has Seccomp 2 (filter)" \
    grep -Eq '^Seccomp:[[:space:]]+2$' <<<"$status"
}

# apps_wait NAME: wait for the app to exit; its status goes to APP_RC[NAME].
# (Not in $(...): a subshell cannot wait for the check's children.)
apps_wait() {
  wait "${APP_SHELL[$1]}"
  APP_RC[$1]=$?
  unset "APP_SHELL[$1]"
}

# apps_stop NAME: SIGTERM the app (a clean stop with final stats) and wait.
apps_stop() {
  local pid
  pid=$(apps_pid "$1") && kill -TERM "$pid"
  apps_wait "$1"
}

# apps_final NAME DEV FIELD: FIELD of the app's final JSON line for DEV.
apps_final() {
  jq -r --arg dev "$2" "select(.final == true and .dev == \$dev) | .$3" \
    "$APPS_TMP/$1.json"
}

# apps_expect_final NAME DEV FIELD VALUE: nb_check that FIELD equals VALUE.
apps_expect_final() {
  local got
  got=$(apps_final "$1" "$2" "$3")
  nb_check "$1 final $3 on $2 is $4 (got '$got')" test "$got" == "$4"
}

# apps_show NAME...: the apps' stderr and last stats lines, for the log.
apps_show() {
  local name
  for name; do
    echo "--- $name stderr:"
    cat "$APPS_TMP/$name.err"
    echo "--- $name last stats:"
    tail -n 3 "$APPS_TMP/$name.json"
  done
}

# apps_chain_run GEN COUNT RATE SIZE [CAP]: with capture and fwd ready, send COUNT
# frames of SIZE bytes at RATE from pktgen on GEN, wait for pktgen and
# capture, stop fwd, show all three and check their exit statuses. With CAP
# (capture's NIC), frames reordered there are counted and printed, not
# failed: capture may then exit 1 if it reordered frames.
apps_chain_run() {
  local reordered
  apps_start pktgen pktgen --dev "$1" --count "$2" --rate "$3" --size "$4" --duration 150
  apps_wait_ready pktgen || return 1
  apps_wait pktgen
  apps_wait capture
  apps_stop fwd
  apps_show pktgen fwd capture
  nb_check "nicbox-pktgen exits 0" test "${APP_RC[pktgen]}" -eq 0
  nb_check "nicbox-fwd exits 0 on SIGTERM" test "${APP_RC[fwd]}" -eq 0
  if [[ -z ${5:-} ]]; then
    nb_check "nicbox-capture --verify exits 0" test "${APP_RC[capture]}" -eq 0
    return
  fi
  reordered=$(apps_final capture "$5" reordered)
  echo "chain: ${reordered:-?} frames reordered (QEMU's flush order around full receive rings)"
  nb_check "nicbox-capture --verify exits 0, or 3 (APP_EXIT_VERIFY) for reordering alone" \
    test "${APP_RC[capture]}" -eq 0 -o "${APP_RC[capture]}" -eq 3 -a "${reordered:-0}" -gt 0
}

apps__on_exit() {
  local name shell pid
  for name in "${!APP_SHELL[@]}"; do
    shell=${APP_SHELL[$name]}
    # Not ready yet: it is still the nb_as_user subshell's child.
    pid=$(apps_pid "$name") || pid=$(cat "/proc/$shell/task/$shell/children" 2>/dev/null)
    [[ -n $pid ]] && kill -KILL $pid 2>/dev/null
    wait "$shell" 2>/dev/null
  done
  cp -r "$APPS_TMP"/. "$NB_OUT"/
  rm -rf "$APPS_TMP"
}
nb_on_exit apps__on_exit

# apps_check_threads_sandboxed NAME MIN: read by root while the app runs:
# it has at least MIN threads and every one of them (/proc/PID/task/*) has
# no effective capabilities, no_new_privs and a seccomp filter.
apps_check_threads_sandboxed() {
  local name=$1 min=$2 pid task status n=0 bad=0
  if ! pid=$(apps_pid "$name"); then
    nb_check "$name is running for the thread sandbox check" false
    return
  fi
  for task in /proc/"$pid"/task/*; do
    status=$(cat "$task/status" 2>/dev/null) || continue
    n=$((n + 1))
    if ! grep -Eq '^CapEff:[[:space:]]+0000000000000000$' <<<"$status" ||
       ! grep -Eq '^NoNewPrivs:[[:space:]]+1$' <<<"$status" ||
       ! grep -Eq '^Seccomp:[[:space:]]+2$' <<<"$status"; then
      echo "thread ${task##*/} of $name is not sandboxed:"
      grep -E '^(CapEff|NoNewPrivs|Seccomp):' <<<"$status"
      bad=$((bad + 1))
    fi
  done
  nb_check "$name (pid $pid) has at least $min threads (has $n)" test "$n" -ge "$min"
  nb_check "all $n threads of $name have CapEff 0, NoNewPrivs 1, Seccomp 2" test "$bad" -eq 0
}

# apps_idle_round TX RX [ARGS...]: nicbox-capture --verify on RX and
# nicbox-pktgen --rate 20 on TX (apps idle_capture and idle_pktgen), both
# given ARGS and both open-ended. While each runs, root checks it from
# outside: the process (apps_check_sandboxed) and every thread. SIGINT stops
# pktgen, SIGTERM capture: both exit 0 with final stats, and capture got
# every frame pktgen sent, once, in order, intact.
apps_idle_round() {
  local tx=$1 rx=$2 pid sent field
  shift 2
  apps_start idle_capture capture --dev "$rx" "$@" --verify
  apps_wait_ready idle_capture || return 1
  apps_check_sandboxed idle_capture
  apps_check_threads_sandboxed idle_capture 1
  apps_start idle_pktgen pktgen --dev "$tx" "$@" --rate 20
  apps_wait_ready idle_pktgen || return 1
  apps_check_sandboxed idle_pktgen
  apps_check_threads_sandboxed idle_pktgen 1
  pid=$(apps_pid idle_pktgen) && kill -INT "$pid"
  apps_wait idle_pktgen
  sleep 2 # the last frames reach the capture
  apps_stop idle_capture
  apps_show idle_pktgen idle_capture
  nb_check "nicbox-pktgen exits 0 on SIGINT" test "${APP_RC[idle_pktgen]}" -eq 0
  nb_check "nicbox-capture exits 0 on SIGTERM" test "${APP_RC[idle_capture]}" -eq 0
  sent=$(apps_final idle_pktgen "$tx" sent)
  nb_check "nicbox-pktgen sent frames before SIGINT ($sent)" test "${sent:-0}" -gt 0
  apps_expect_final idle_capture "$rx" valid "$sent"
  for field in lost duplicated reordered corrupt; do
    apps_expect_final idle_capture "$rx" "$field" 0
  done
}

# apps_round TX RX COUNT RATE SIZE [ARGS...] [-- CAPTURE_ARGS...]: nicbox-pktgen
# on TX sends COUNT frames of SIZE bytes at RATE/s to nicbox-capture --verify
# on RX (apps pktgen and capture; both given ARGS, capture also CAPTURE_ARGS).
# Both exit 0; pktgen sent and transmitted COUNT, no errors or faults;
# capture got COUNT frames and COUNT * SIZE bytes, every one valid, none
# lost, duplicated, reordered, corrupt or foreign, no drops, errors or faults.
apps_round() {
  local tx=$1 rx=$2 count=$3 rate=$4 size=$5 both=() field
  shift 5
  while (($#)) && [[ $1 != -- ]]; do
    both+=("$1")
    shift
  done
  [[ ${1:-} == -- ]] && shift
  apps_start capture capture --dev "$rx" "${both[@]}" "$@" --verify --expect "$count" \
    --count "$count" --duration 200
  apps_wait_ready capture || return 1
  apps_start pktgen pktgen --dev "$tx" "${both[@]}" --count "$count" --rate "$rate" \
    --size "$size" --duration 200
  apps_wait_ready pktgen || return 1
  apps_wait pktgen
  apps_wait capture
  apps_show pktgen capture
  nb_check "nicbox-pktgen exits 0" test "${APP_RC[pktgen]}" -eq 0
  nb_check "nicbox-capture --verify exits 0" test "${APP_RC[capture]}" -eq 0
  for field in sent tx_packets; do
    apps_expect_final pktgen "$tx" "$field" "$count"
  done
  for field in errors faults; do
    apps_expect_final pktgen "$tx" "$field" 0
  done
  for field in captured valid; do
    apps_expect_final capture "$rx" "$field" "$count"
  done
  for field in lost duplicated reordered corrupt foreign drops errors faults; do
    apps_expect_final capture "$rx" "$field" 0
  done
  apps_expect_final capture "$rx" rx_bytes $((count * size))
}

# apps_chain GEN FWD_A FWD_B CAP COUNT RATE SIZE [REORDER_OK]: nicbox-pktgen
# on GEN -> FWD_A nicbox-fwd FWD_B -> nicbox-capture --verify on CAP (apps
# pktgen, fwd, capture). Capture and fwd start first, fwd is checked
# sandboxed from outside, then apps_chain_run sends COUNT frames of SIZE
# bytes at RATE/s. Every count exact: pktgen sent COUNT; fwd received COUNT
# on FWD_A and sent COUNT on FWD_B, no drops, errors or faults on either, a
# final line per device; capture got COUNT valid frames, none lost,
# duplicated, reordered, corrupt or foreign, no drops, errors or faults.
# REORDER_OK (non-empty): reordered frames are counted and printed, not
# failed (QEMU swaps neighbours around full receive rings, docs/testbed.md).
apps_chain() {
  local gen=$1 fwd_a=$2 fwd_b=$3 cap=$4 count=$5 rate=$6 size=$7 dev field
  local fields=(lost duplicated corrupt foreign drops errors faults)
  [[ -n ${8:-} ]] || fields+=(reordered)
  apps_start capture capture --dev "$cap" --verify --expect "$count" \
    --count "$count" --duration 150
  apps_wait_ready capture || return 1
  apps_start fwd fwd --dev "$fwd_a" --dev "$fwd_b" --duration 170
  apps_wait_ready fwd || return 1
  apps_check_sandboxed fwd
  apps_chain_run "$gen" "$count" "$rate" "$size" ${8:+"$cap"} || return 1
  apps_expect_final pktgen "$gen" sent "$count"
  for dev in "$fwd_a" "$fwd_b"; do
    for field in drops errors faults; do
      apps_expect_final fwd "$dev" "$field" 0
    done
  done
  apps_expect_final fwd "$fwd_a" rx_packets "$count"
  apps_expect_final fwd "$fwd_b" tx_packets "$count"
  apps_expect_final capture "$cap" valid "$count"
  for field in "${fields[@]}"; do
    apps_expect_final capture "$cap" "$field" 0
  done
  nb_check "nicbox-fwd printed a final line per device" \
    test "$(jq -c 'select(.final == true)' "$APPS_TMP/fwd.json" | wc -l)" -eq 2
}

# apps_stat NAME DEV FIELD: FIELD of the app's latest JSON line for DEV
# (empty before its first report).
apps_stat() {
  tail -n 8 "$APPS_TMP/$1.json" 2>/dev/null |
    jq -r --arg dev "$2" "select(.dev == \$dev) | .$3" 2>/dev/null | tail -n 1
}

# apps_wait_stat NAME DEV FIELD MIN SECONDS: wait until the app reports
# FIELD >= MIN for DEV (its once-a-second lines); fail after SECONDS.
apps_wait_stat() {
  local got halves
  for ((halves = 0; halves < $5 * 2; halves++)); do
    got=$(apps_stat "$1" "$2" "$3")
    [[ ${got:-0} -ge $4 ]] && return 0
    sleep 0.5
  done
  echo "$1: $3 on $2 is '$got' after $5 s, not $4 or more"
  return 1
}

# apps_wait_settled NAME DEV FIELD SECONDS: wait until FIELD for DEV stays
# the same over three reports in a row (the traffic into the app has
# ended); fail after SECONDS.
apps_wait_settled() {
  local got last= same=0 halves
  for ((halves = 0; halves < $4 * 2; halves++)); do
    got=$(apps_stat "$1" "$2" "$3")
    if [[ -n $got && $got == "$last" ]]; then
      ((++same >= 6)) && return 0
    else
      same=0
    fi
    last=$got
    sleep 0.5
  done
  echo "$1: $3 on $2 still changing after $4 s (last '$got')"
  return 1
}
