# Shell library for the in-guest checks (test/vm/checks/*.sh); see
# docs/testbed.md and the check contract. Source it with
#   . "$NB_SRC/test/vm/lib.sh"
# It installs an EXIT trap that stops a helper the check started, gives back
# NICs the check bound with nb_bind_vfio, and turns the exit status into a
# failure when any nb_check failed. Add your own cleanup with nb_on_exit
# rather than replacing that trap.

NB_FAILED=0
NB_HELPER_PID=
NB_BOUND_NICS=()
NB_EXIT_HOOKS=()
NB_VIRTIO_DRIVER=virtio-pci

# nb_check DESCRIPTION CMD...: run CMD; report and remember a failure.
nb_check() {
  local what=$1
  shift
  if "$@"; then
    echo "ok: $what"
  else
    echo "FAIL: $what (exit $?: $*)"
    NB_FAILED=1
  fi
  return 0
}

# nb_as_user CMD...: run CMD as NB_UID:NB_GID with no capabilities (none
# permitted, inheritable or in the bounding set) and no supplementary groups.
nb_as_user() {
  setpriv --reuid="$NB_UID" --regid="$NB_GID" --clear-groups \
    --inh-caps=-all --bounding-set=-all -- "$@"
}

# nb_helper_start POLICYFILE: start nicbox-helper as root in the background
# and wait until its socket exists. Output goes to $NB_HELPER_LOG if set,
# else into the check's own log. $NB_HELPER picks another binary (an
# installed one) than the build tree's.
nb_helper_start() {
  local policy=$1 helper=${NB_HELPER:-$NB_BUILD/privhelper/nicbox-helper}
  if [[ -n $NB_HELPER_PID ]]; then
    echo "nb_helper_start: a helper is already running (pid $NB_HELPER_PID)"
    return 1
  fi
  if [[ ! -x $helper ]]; then
    echo "nb_helper_start: $helper not built"
    return 1
  fi
  mkdir -p "$(dirname "$NB_SOCK")"
  rm -f "$NB_SOCK"
  if [[ -n ${NB_HELPER_LOG:-} ]]; then
    "$helper" serve --socket "$NB_SOCK" --policy "$policy" --group "$NB_GID" >>"$NB_HELPER_LOG" 2>&1 &
  else
    "$helper" serve --socket "$NB_SOCK" --policy "$policy" --group "$NB_GID" &
  fi
  NB_HELPER_PID=$!
  local tenths
  for ((tenths = 0; tenths < 300; tenths++)); do
    [[ -S $NB_SOCK ]] && return 0
    if ! kill -0 "$NB_HELPER_PID" 2>/dev/null; then
      wait "$NB_HELPER_PID"
      echo "nb_helper_start: nicbox-helper exited with status $? before creating $NB_SOCK"
      NB_HELPER_PID=
      return 1
    fi
    sleep 0.1
  done
  echo "nb_helper_start: no socket at $NB_SOCK after 30 s"
  nb_helper_stop
  return 1
}

# nb_stop_pid PID SIGNAL SECONDS WHAT: send SIGNAL, wait up to SECONDS for
# PID to exit, SIGKILL it after that; returns its exit status.
nb_stop_pid() {
  local pid=$1 sig=$2 secs=$3 what=$4 tenths
  kill "-$sig" "$pid" 2>/dev/null
  for ((tenths = 0; tenths < secs * 10; tenths++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "$what $pid ignored SIG$sig for $secs s; killing it"
    kill -KILL "$pid"
  fi
  wait "$pid"
}

# nb_helper_stop: SIGTERM the helper and wait for it (SIGKILL after 15 s).
# Returns the helper's exit status.
nb_helper_stop() {
  local pid=$NB_HELPER_PID
  [[ -n $pid ]] || return 0
  NB_HELPER_PID=
  nb_stop_pid "$pid" TERM 15 "nb_helper_stop: helper"
}

# nb_nic_driver BDF: the driver a PCI device is bound to, or "none".
nb_nic_driver() {
  local link
  link=$(readlink "/sys/bus/pci/devices/$1/driver") || { echo none; return 0; }
  basename "$link"
}

# nb_kernel_driver BDF: the testbed kernel's driver for the device: igb for
# the Intel (igb) NICs, virtio-pci for the others.
nb_kernel_driver() {
  [[ $(cat "/sys/bus/pci/devices/$1/vendor" 2>/dev/null) == 0x8086 ]] && echo igb ||
    echo "$NB_VIRTIO_DRIVER"
}

# nb_wait_released BDF...: wait (up to NB_RELEASE_WAIT_S, default 60 s)
# until the helper gave each NIC back: bound to its kernel driver again
# (or to NB_RELEASE_DRIVER if set: vfio-pci for a policy with keep-vfio)
# AND the ended session's lock (/run/nicbox/state/BDF.lock, privhelper/) free.
# The driver comes back before the session process has gone, so a claim
# right after an app's exit can still find the NIC held ("busy").
# Returns 1 (and says which NIC) if one is still held at the end.
nb_wait_released() {
  local bdf drv tenths lock limit=$((${NB_RELEASE_WAIT_S:-60} * 10))
  for bdf; do
    lock=/run/nicbox/state/$bdf.lock
    for ((tenths = 0; ; tenths++)); do
      drv=$(nb_nic_driver "$bdf")
      [[ $drv == "$(nb_kernel_driver "$bdf")" || $drv == "${NB_RELEASE_DRIVER:-}" ]] &&
        { [[ ! -e $lock ]] || flock -n "$lock" true; } && break
      if ((tenths >= limit)); then
        echo "nb_wait_released: $bdf still held after ${NB_RELEASE_WAIT_S:-60} s" \
          "(driver $(nb_nic_driver "$bdf"), lock $lock)"
        return 1
      fi
      sleep 0.1
    done
  done
}

# nb_bind_driver BDF DRIVER: bind through driver_override (DRIVER "" means
# whatever driver matches the device, i.e. its kernel driver).
nb_bind_driver() {
  local bdf=$1 driver=$2 dev=/sys/bus/pci/devices/$1 want=$2
  [[ -e $dev ]] || { echo "nb_bind_driver: no PCI device $bdf"; return 1; }
  [[ -n $want ]] || want=$(nb_kernel_driver "$bdf")
  [[ $(nb_nic_driver "$bdf") == "$want" ]] && return 0
  printf '%s\n' "$driver" >"$dev/driver_override" || return 1
  if [[ -e $dev/driver ]]; then
    echo "$bdf" >"$dev/driver/unbind" || return 1
  fi
  echo "$bdf" >/sys/bus/pci/drivers_probe
  local now
  now=$(nb_nic_driver "$bdf")
  if [[ $now != "$want" ]]; then
    echo "nb_bind_driver: $bdf is bound to '$now', not '$want'"
    return 1
  fi
}

# nb_bind_vfio BDF...: hand NICs to vfio-pci (given back on exit).
nb_bind_vfio() {
  local bdf
  for bdf; do
    nb_bind_driver "$bdf" vfio-pci || return 1
    NB_BOUND_NICS+=("$bdf")
  done
}

# nb_bind_kernel BDF...: give NICs back to their kernel driver.
nb_bind_kernel() {
  local bdf rc=0
  for bdf; do
    nb_bind_driver "$bdf" "" || rc=1
  done
  return $rc
}

# nb_on_exit CMD: run CMD (a string for eval) when the check exits.
nb_on_exit() {
  NB_EXIT_HOOKS+=("$1")
}

nb__on_exit() {
  local rc=$? hook
  for hook in "${NB_EXIT_HOOKS[@]}"; do
    eval "$hook"
  done
  nb_helper_stop
  if ((${#NB_BOUND_NICS[@]})); then
    nb_bind_kernel "${NB_BOUND_NICS[@]}" || rc=1
  fi
  if ((NB_FAILED)) && ((rc == 0 || rc == 77)); then
    rc=1
  fi
  exit $rc
}
trap nb__on_exit EXIT
