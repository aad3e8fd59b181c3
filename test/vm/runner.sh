#!/bin/bash
# In-guest check runner (started by guest-main.sh). Runs every
# $NB_CHECKS_DIR/*.sh (test/vm/checks) except *.host.sh in lexical order, each in its own
# cgroup with its time limit, and writes RESULTS/checks/<name>/{log,rc,seconds}.
# After each check it kills what the check left running and gives back NICs
# it left away from virtio-pci; either counts as a failure of that check.
set -u
. "$NB_SRC/test/vm/lib.sh"
trap - EXIT # the runner is not a check

checks=()
for check in "$NB_CHECKS_DIR"/*.sh; do
  [[ $check == *.host.sh ]] || checks+=("$check")
done

# "# timeout: N" near the top of a check (after the #! line) sets its limit.
check_timeout() {
  local limit
  limit=$(head -n 5 "$1" | sed -n 's/^# *timeout: *\([0-9][0-9]*\) *$/\1/p' | head -n 1)
  echo "${limit:-300}"
}

# Processes the check left in its cgroup: report, kill, wait until gone.
reap_leftovers() {
  local cg=$1 pids tenths
  pids=$(cat "$cg/cgroup.procs")
  [[ -n $pids ]] || return 0
  echo "nb-runner: the check left processes running; killing them:"
  ps -o pid=,args= -p "$(echo $pids | tr ' ' ,)" | sed 's/^/nb-runner:   /'
  echo 1 >"$cg/cgroup.kill"
  for ((tenths = 0; tenths < 100; tenths++)); do
    grep -q '^populated 0' "$cg/cgroup.events" && return 1
    sleep 0.1
  done
  echo "nb-runner: processes in $cg survived SIGKILL for 10 s"
  return 1
}

# NICs not on their kernel driver (or with a driver_override left set):
# report, restore.
restore_nics() {
  local bdf drv want override rc=0
  for bdf in $NB_NICS ${NB_IGB_NICS:-} ${NB_MQ_NICS:-} ${NB_PACKED_NICS:-}; do
    drv=$(nb_nic_driver "$bdf")
    want=$(nb_kernel_driver "$bdf")
    override=$(cat "/sys/bus/pci/devices/$bdf/driver_override")
    if [[ $drv != "$want" || $override != "(null)" ]]; then
      echo "nb-runner: $bdf was left on driver '$drv' (driver_override '$override'); restoring $want"
      nb_bind_kernel "$bdf" || echo "nb-runner: could not restore $bdf"
      rc=1
    fi
  done
  return $rc
}

# Every testbed NIC's netdev down again: a link a check left up (the helper
# restores a link to the state it found) makes the kernel send IPv6
# router solicitations and MLD reports, which the hub hands to whatever
# the next check runs on the partner NIC (seen: 3 stray frames in a
# forwarder's exact counts). Not a failure: restoring a link is correct.
quiet_netdevs() {
  local bdf dev
  for bdf in $NB_NICS ${NB_IGB_NICS:-} ${NB_MQ_NICS:-} ${NB_PACKED_NICS:-}; do
    for dev in /sys/bus/pci/devices/"$bdf"/net/* /sys/bus/pci/devices/"$bdf"/virtio*/net/*; do
      [[ -e $dev ]] && ip link set dev "${dev##*/}" down
    done
  done
}

total=${#checks[@]}
index=0
passed=0 failed=0 skipped=0
echo "nb-vm: $total checks"
for check in "${checks[@]}"; do
  index=$((index + 1))
  name=$(basename "$check" .sh)
  out=$NB_RESULTS/checks/$name
  mkdir -p "$out"
  chmod 1777 "$out"
  limit=$(check_timeout "$check")
  rm -rf /run/nicbox
  mkdir -m 755 /run/nicbox
  cg=/sys/fs/cgroup/nb-check-$name
  mkdir "$cg"

  ((index == 1)) && echo "first_check_start $(date +%s.%N)" >>"$NB_RESULTS/times"
  start=$(date +%s%N)
  (
    echo "$BASHPID" >"$cg/cgroup.procs"
    export NB_OUT=$out
    exec timeout -k 10 "$limit" bash "$check"
  ) >"$out/log" 2>&1 </dev/null
  rc=$?
  elapsed_ms=$((($(date +%s%N) - start) / 1000000))
  seconds=$(printf '%d.%01d' $((elapsed_ms / 1000)) $((elapsed_ms % 1000 / 100)))

  {
    if ((rc == 124 || rc == 137)) && ((elapsed_ms >= limit * 1000)); then
      echo "nb-runner: TIMEOUT: the check ran longer than its limit of $limit s and was killed"
    fi
    reap_leftovers "$cg" || rc_cleanup=1
    restore_nics || rc_cleanup=1
    quiet_netdevs
  } >>"$out/log" 2>&1
  rmdir "$cg" 2>/dev/null
  if ((${rc_cleanup:-0})) && ((rc == 0 || rc == 77)); then
    echo "nb-runner: failing the check: it did not clean up after itself (see above)" >>"$out/log"
    rc=1
  fi
  unset rc_cleanup
  rm -rf /dev/hugepages/* 2>/dev/null

  echo "$rc" >"$out/rc"
  echo "$seconds" >"$out/seconds"
  case $rc in
    0) verdict=PASS passed=$((passed + 1)) ;;
    77) verdict=SKIP skipped=$((skipped + 1)) ;;
    *) verdict="FAIL (exit $rc)" failed=$((failed + 1)) ;;
  esac
  printf 'nb-vm: [%d/%d] %-28s %s  %ss\n' "$index" "$total" "$name" "$verdict" "$seconds"
  printf '%s %s %s\n' "$name" "$rc" "$seconds" >>"$NB_RESULTS/summary"
done
echo "nb-vm: $passed passed, $failed failed, $skipped skipped"
echo "$total" >"$NB_RESULTS/complete"
