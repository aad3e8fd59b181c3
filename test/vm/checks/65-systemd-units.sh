#!/bin/bash
# timeout: 300
# The shipped units (policy/systemd/) under a real systemd: the host's
# systemd 252 runs as PID 1 of its own PID, mount and cgroup namespaces
# (test/vm/systemd/sd-init.sh), reading only this check's unit directory.
# Shown: the helper starts only when a client connects; a claim of a NIC
# whose netdev is up with an address (the link goes down, and is up again
# after release); the running helper's capabilities; `systemctl stop` of the
# service, then of the socket, during a live session gives the NIC back to
# virtio-pci within seconds.
. "$NB_SRC/test/vm/lib.sh"
. "$NB_SRC/test/privsep/vm_helper_lib.sh"

systemd=/lib/systemd/systemd
phase() { echo "== [${SECONDS} s] $*"; }
[[ -x $systemd ]] || { echo "skip: $systemd missing (apt-get install systemd)"; exit 77; }
a=${nics[0]}
write_policy "allow user:$NB_UID pci:$a pool=64M netdev-up"

# The unit directory: the shipped units as `cmake --install` configures them
# (helper path: this build), enabled as `systemctl enable` would, and the
# special units they depend on. Two drop-ins, because the read-only host root
# has no /etc/nicbox and no group nicbox: the policy path and the socket's group.
units=$NB_OUT/units shipped=${NB_UNITS_SRC:-$NB_SRC/policy/systemd}
rm -rf "$units"
mkdir -p "$units/sockets.target.wants" "$units/nicbox-helper.socket.d" "$units/nicbox-helper.service.d"
cp "$shipped/nicbox-helper.socket" "$NB_SRC/test/vm/systemd/nicbox-testbed.target" "$units/"
# What the sandboxed services run and read must be visible under the unit's
# ProtectHome=yes, and the repo and build may be a clone under /root: they
# get copies on a tmpfs at /mnt (not /run or /tmp: sd-init.sh gives systemd
# a fresh /run, and PrivateTmp hides /tmp), as an install would have them
# under /usr and /etc.
stage=/mnt/nb-sd
mount -t tmpfs -o mode=755 nb-sd /mnt || { echo "FAIL: cannot mount a tmpfs on /mnt"; exit 1; }
unmount_stage() { umount /mnt; }
nb_on_exit unmount_stage
mkdir -p -m 755 "$stage/out"
cp "$NB_BUILD/privhelper/nicbox-helper" "$NB_SRC/test/vm/systemd/sandbox-probe.sh" "$stage/"
cp "$policy" "$stage/policy.conf"
sed "s|@NB_HELPER_PATH@|$stage/nicbox-helper|" \
  "$shipped/nicbox-helper.service.in" >"$units/nicbox-helper.service"
ln -s ../nicbox-helper.socket "$units/sockets.target.wants/"
for unit in sysinit.target basic.target sockets.target shutdown.target umount.target \
  final.target exit.target systemd-exit.service; do
  ln -s "/lib/systemd/system/$unit" "$units/"
done
printf '[Socket]\nSocketGroup=%s\n' "$NB_GID" >"$units/nicbox-helper.socket.d/testbed.conf"
exec_start=$(sed -n 's|^ExecStart=||p' "$units/nicbox-helper.service")
printf '[Service]\nExecStart=\nExecStart=%s\n' "${exec_start//\/etc\/nicbox\/nicbox.conf/$stage/policy.conf}" \
  >"$units/nicbox-helper.service.d/testbed.conf"
cat "$units"/*.d/*
# A copy of the service (same sandbox, not started by anything) that runs
# test/vm/systemd/sandbox-probe.sh instead of the helper.
sed -e "s|^ExecStart=.*|ExecStart=$stage/sandbox-probe.sh /run/nicbox/probe.txt ${nics[1]} $stage/out|" \
  -e 's/^Type=simple/Type=oneshot/' -e '/^ExecStartPre=/d' "$units/nicbox-helper.service" \
  >"$units/nicbox-sandbox-probe.service"

# systemd in a child cgroup of ours, which becomes the root of its cgroup
# namespace; its own UTS namespace, since it sets the hostname.
sd_cg=/sys/fs/cgroup$(sed -n 's/^0:://p' /proc/self/cgroup)/systemd
mkdir "$sd_cg"
(
  echo "$BASHPID" >"$sd_cg/cgroup.procs"
  exec script -qfec "unshare --pid --mount --cgroup --uts --fork --mount-proc \
    $NB_SRC/test/vm/systemd/sd-init.sh $units" "$NB_OUT/systemd.log"
) >/dev/null 2>&1 &
sd_job=$!
sd_pid=
stop_systemd() {
  [[ -n $sd_job ]] || return 0
  if [[ -n $sd_pid ]] && kill -0 "$sd_pid" 2>/dev/null; then
    echo "systemd still running at exit: killing its PID namespace"
    kill -KILL "$sd_pid"
  fi
  wait "$sd_job"
  sd_job=
  find "$sd_cg" -depth -type d -exec rmdir {} + 2>/dev/null
  echo "--- systemd.log"
  cat "$NB_OUT/systemd.log"
}
nb_on_exit stop_systemd
# systemd moves itself to init.scope (outside: $sd_cg/init.scope), alone.
sd_pid_known() { read -r sd_pid <"$sd_cg/init.scope/cgroup.procs" && [[ -n $sd_pid ]]; } 2>/dev/null
# In systemd's namespaces (its /run, its /proc).
in_sd() { nsenter --target "$sd_pid" --mount --pid --root --wd -- "$@"; }
sd_as_user() {
  in_sd setpriv --reuid="$NB_UID" --regid="$NB_GID" --clear-groups --inh-caps=-all \
    --bounding-set=-all -- "$probe" --socket "$NB_SOCK" --dev "$a" "$@"
}
socket_listens() { [[ -S /proc/$sd_pid/root$NB_SOCK ]]; }
phase "starting systemd"
for ((i = 0; i < 600; i++)); do sd_pid_known && socket_listens && break; sleep 0.1; done
socket_listens || { echo "FAIL: systemd (PID 1 of its namespace) does not listen on $NB_SOCK"; exit 1; }
echo "ok: systemd (PID 1 of its namespace) listens on $NB_SOCK"
nb_check "systemd is PID 1 in its namespace" test "$(in_sd cat /proc/1/comm)" = systemd
nb_check "nicbox-helper.service is not started before a client connects" \
  test "$(in_sd systemctl show -P ActiveState nicbox-helper.service)" = inactive

ifname=$(nic_ifname "$a")
ip link set "$ifname" up && ip addr replace 10.65.0.1/24 dev "$ifname"
nb_on_exit 'ip addr del 10.65.0.1/24 dev "$(nic_ifname "$a")" 2>/dev/null'
ip addr show dev "$ifname"
link_up() { ip -o link show "$1" 2>/dev/null | grep -q '[<,]UP[,>]'; }
nb_check "$ifname is up with an address" link_up "$ifname"

phase "first client"
# 1. Activation, a claim of the up NIC, release.
sd_as_user >"$NB_OUT/first.log" 2>&1
sed 's/^/  [first] /' "$NB_OUT/first.log"
if ! grep -q "^locked cfg: $a vendor=0x1af4\$" "$NB_OUT/first.log"; then
  echo "FAIL: the first client's claim did not go through the activated helper"
  in_sd systemctl --no-pager status nicbox-helper.service
  exit 1
fi
echo "ok: the first client's claim went through the activated helper"
nb_check "nicbox-helper.service is active after the connect" \
  test "$(in_sd systemctl show -P ActiveState nicbox-helper.service)" = active
nb_check "$a back on virtio-pci" wait_restored "$a"
ifname=$(nic_ifname "$a")
nb_check "its netdev $ifname is up again" wait_for link_up "$ifname"

# What the running helper may do: exactly CAP_NET_ADMIN (bit 12), nothing more.
main_pid=$(in_sd systemctl show -P MainPID nicbox-helper.service)
in_sd grep -E '^(Uid|CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):' "/proc/$main_pid/status" |
  tee "$NB_OUT/helper-status.txt"
for field in CapPrm CapEff CapBnd CapAmb; do
  nb_check "helper $field is CAP_NET_ADMIN only" grep -q "^$field:\s*0000000000001000\$" "$NB_OUT/helper-status.txt"
done
nb_check "helper has no_new_privs and a seccomp filter" \
  grep -Pzq 'NoNewPrivs:\s*1\nSeccomp:\s*2\n' "$NB_OUT/helper-status.txt"

# What a compromised helper could do from inside the unit's sandbox
# (nicbox-sandbox-probe.service above). docs/security.md ("Threats tried")
# lists the same results.
in_sd systemctl start nicbox-sandbox-probe.service
probe_out=/proc/$sd_pid/root/run/nicbox/probe.txt
sed 's/^/  [sandbox] /' "$probe_out"
for attempt in config-write-other-device driver-override-other-device link-change-any-netdev signal-pid-1; do
  nb_check "the sandbox cannot stop $attempt (docs/security.md)" grep -q "^$attempt: allowed" "$probe_out"
done
for attempt in dev-mem sysctl-write write-outside-rw-paths inet-socket mount read-pid-1-memory; do
  nb_check "the sandbox stops $attempt" grep -q "^$attempt: denied" "$probe_out"
done
nb_check "${nics[1]} untouched: on virtio-pci, no driver_override" restored "${nics[1]}"

# 2. and 3. A client holds the NIC; stop the service, then (with a new
# client, which starts the service again) the socket.
for unit in nicbox-helper.service nicbox-helper.socket; do
  sd_as_user --hold 200 >"$NB_OUT/hold-$unit.log" 2>&1 &
  holder=$!
  nb_check "a client holds $a ($unit)" wait_for grep -q "^holding" "$NB_OUT/hold-$unit.log"
  phase "systemctl stop $unit"
  t0=$(date +%s%N)
  in_sd systemctl stop "$unit"
  ms=$((($(date +%s%N) - t0) / 1000000))
  echo "systemctl stop $unit took $ms ms"
  echo "$unit $ms" >>"$NB_OUT/stop-ms.txt"
  nb_check "systemctl stop $unit with a live session finished within 20 s (${ms} ms)" test "$ms" -le 20000
  nb_check "the helper is gone" test "$(in_sd systemctl show -P MainPID nicbox-helper.service)" = 0
  nb_check "$a back on virtio-pci" restored "$a"
  ifname=$(nic_ifname "$a")
  nb_check "its netdev $ifname is up again" link_up "$ifname"
  nb_check "the holder saw the helper end its session" wait_for grep -q "^helper ended the session" "$NB_OUT/hold-$unit.log"
  if ! wait_for test ! -d "/proc/$holder"; then
    echo "FAIL: the holder is still there 10 s later; killing it"
    NB_FAILED=1
    kill -KILL "$holder"
  fi
  wait "$holder"
  sed "s/^/  [$unit holder] /" "$NB_OUT/hold-$unit.log"
done
nb_check "the socket file is removed with nicbox-helper.socket" test ! -e "/proc/$sd_pid/root$NB_SOCK"

phase "systemctl exit"
# systemd's own way out of a container: it stops everything and exits.
in_sd systemctl exit
for ((i = 0; i < 300; i++)); do kill -0 "$sd_pid" 2>/dev/null || break; sleep 0.1; done
nb_check "systemd exited on 'systemctl exit'" test ! -d "/proc/$sd_pid"
exit "$NB_FAILED"
