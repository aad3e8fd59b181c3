# Shared by the in-guest checks test/vm/checks/2*-helper-*.sh (sourced after
# test/vm/lib.sh); it lives here because the runner runs every checks/*.sh.
nics=($NB_NICS)
probe=$NB_BUILD/test/privsep/claim_probe
policy=$NB_OUT/policy.conf
HOLDER_PID= HOLDER_JOB=

write_policy() { printf '%s\n' "$1" >"$policy"; cat "$policy"; }
huge_free() { awk '/^HugePages_Free/ { print $2 }' /proc/meminfo; }

# wait_for CMD...: retry CMD for up to 10 s.
wait_for() {
  local i
  for ((i = 0; i < 100; i++)); do "$@" && return 0; sleep 0.1; done
  return 1
}
huge_free_is() { [[ $(huge_free) == "$1" ]]; }
wait_huge_free() { wait_for huge_free_is "$1" || { echo "HugePages_Free $(huge_free), want $1"; return 1; }; }
restored() {
  [[ $(nb_nic_driver "$1") == "$(nb_kernel_driver "$1")" &&
     $(cat "/sys/bus/pci/devices/$1/driver_override") == "(null)" ]]
}
wait_restored() { wait_for restored "$1" || { echo "$1: driver $(nb_nic_driver "$1")"; return 1; }; }
not_grep() { ! grep -q "$@"; }
nic_ifname() { basename "$(ls -d /sys/bus/pci/devices/$1/virtio*/net/* /sys/bus/pci/devices/$1/net/* 2>/dev/null | head -n 1)" 2>/dev/null; }

# probe_as_user NAME DEV [ARGS...]: run claim_probe as NB_UID; sets probe_rc
# and probe_log ($NB_OUT/NAME.log).
probe_as_user() {
  local name=$1 dev=$2
  shift 2
  probe_log=$NB_OUT/$name.log
  nb_as_user "$probe" --socket "$NB_SOCK" --dev "$dev" "$@" >"$probe_log" 2>&1
  probe_rc=$?
  sed "s/^/  [$name rc=$probe_rc] /" "$probe_log"
}

# start_holder NAME DEV SECONDS [ARGS...]: a client holding DEV in the
# background; once it prints "holding", HOLDER_PID is the client process
# itself (nb_as_user is a shell function, so $! is only its subshell).
start_holder() {
  local name=$1 dev=$2 secs=$3
  shift 3
  nb_as_user "$probe" --socket "$NB_SOCK" --dev "$dev" --hold "$secs" "$@" \
    >"$NB_OUT/$name.log" 2>&1 &
  HOLDER_JOB=$!
  nb_on_exit stop_holder
  wait_for grep -q "^holding" "$NB_OUT/$name.log" || return 1
  HOLDER_PID=$(sed -n 's/^pid: //p' "$NB_OUT/$name.log")
}
# kill_holder BDF: check that the holder's lock on BDF is held, SIGKILL the
# holder and wait (up to 20 s) until the helper drops the lock; kill_ms is
# how long that took (flock blocks: no polling delay in the measurement).
kill_holder() {
  local bdf=$1 t0 t1
  nb_check "the NIC's lock is held" not_flock "/run/nicbox/state/$bdf.lock"
  t0=$(date +%s%N)
  kill -KILL "$HOLDER_PID"
  flock -s -w 20 "/run/nicbox/state/$bdf.lock" true
  t1=$(date +%s%N)
  wait "$HOLDER_JOB" 2>/dev/null
  HOLDER_JOB= HOLDER_PID=
  kill_ms=$(((t1 - t0) / 1000000))
  echo "lock on $bdf free ${kill_ms} ms after kill -9"
}
not_flock() { ! flock -n -s "$1" true; }
stop_holder() {
  [[ -n ${HOLDER_JOB:-} ]] || return 0
  [[ -n $HOLDER_PID ]] && kill -TERM "$HOLDER_PID" 2>/dev/null
  wait "$HOLDER_JOB" 2>/dev/null
  HOLDER_JOB= HOLDER_PID=
}
