#!/bin/bash
# timeout: 240
# A worker in a rootless container: nicbox-fwd runs inside bubblewrap,
# started by the unprivileged user NB_UID, with every namespace unshared
# (user, mount, pid, net, ipc, uts, cgroup; it is root of its own user
# namespace), only /usr and the build tree read-only, a fresh /dev without
# /dev/vfio, no hugetlbfs, RLIMIT_MEMLOCK 0, and of the host's /run only the
# helper's socket bound in. It claims two NICs through that socket and
# forwards pktgen (04, outside) -> hub 0 -> 05 fwd 06 -> hub 1 -> capture
# --verify (07, outside): every frame, exact. The helper sees and checks
# the caller's host uid (the policy names NB_UID, never uid 0).
. "$NB_SRC/test/vm/lib.sh"
. "$NB_SRC/test/apps/vm-lib.sh"

nics=($NB_NICS)
gen=${nics[0]} fwd_a=${nics[1]} fwd_b=${nics[2]} cap=${nics[3]}
count=2000 rate=200 size=256 # the rate of 41-apps-fwd-chain.sh

nb_check "bwrap is installed (make deps: bubblewrap)" command -v bwrap
apps_policy "$NB_OUT/policy.conf" "${nics[@]}"
NB_HELPER_LOG=$NB_OUT/helper.log nb_helper_start "$NB_OUT/policy.conf" || exit 1

# Inside: the shell checks what the container lacks, then becomes nicbox-fwd.
inside='read -r a b c </proc/self/uid_map
echo "container: uid $(id -u), memlock $(ulimit -l), uid_map $a $b $c" >&2
for p in /dev/vfio /dev/hugepages /run/nicbox/state /sys/bus/pci; do
  [ -e "$p" ] && { echo "container: $p is visible" >&2; exit 9; }
done
exec "$@"'
# The checks run in `chroot /host` (test/vm/guest-init.sh), and the kernel
# refuses a user namespace to any chrooted process (user_namespaces(7),
# EPERM: bwrap says "No permissions to create new namespace"). So the
# container starts from a new mount namespace of pid 1's (the initramfs) in
# which /host, with everything mounted below it, is moved onto / as
# switch_root does: the same files, no chroot. busybox-static runs there
# (after the move, the old root still resolves "/": the cwd names the host's;
# full paths, as busybox's chroot prefers its own applets to PATH).
unchrooted() {
  nsenter -t 1 -m -r -- /host/usr/bin/busybox unshare -m -- /host/usr/bin/busybox sh -c \
    'b=/host/usr/bin/busybox; $b mount --make-rprivate / && cd /host &&
     $b mount --move . / && exec ./usr/bin/busybox chroot . "$@"' sh "$@"
}
container() {
  unchrooted /usr/bin/setpriv --reuid="$NB_UID" --regid="$NB_GID" --clear-groups \
    --inh-caps=-all --bounding-set=-all -- bwrap --unshare-all --die-with-parent --uid 0 --gid 0 \
    --ro-bind /usr /usr --symlink usr/lib /lib --symlink usr/lib64 /lib64 \
    --symlink usr/bin /bin --symlink usr/sbin /sbin \
    --proc /proc --dev /dev --tmpfs /tmp --ro-bind "$NB_BUILD" "$NB_BUILD" \
    --bind "$NB_SOCK" /run/nicbox/helper.sock \
    -- /bin/sh -c "ulimit -l 0 && $inside" sh "$@"
}

apps_start capture capture --dev "$cap" --verify --expect "$count" \
  --count "$count" --duration 150
apps_wait_ready capture || exit 1
container "$NB_BUILD/apps/nicbox-fwd" --json --dev "$fwd_a" --dev "$fwd_b" --duration 170 \
  >"$APPS_TMP/fwd.json" 2>"$APPS_TMP/fwd.err" &
APP_SHELL[fwd]=$!
apps_wait_ready fwd || exit 1
# The pid it prints is its own namespace's; find it from outside.
fwd_pid=$(pgrep -u "$NB_UID" -x nicbox-fwd | head -n 1)
eval "$(declare -f apps_pid | sed '1s/apps_pid/apps_pid_host/')"
apps_pid() { if [[ $1 == fwd ]]; then echo "$fwd_pid"; else apps_pid_host "$1"; fi; }
apps_check_sandboxed fwd
nb_check "nicbox-fwd (pid $fwd_pid) is in its own user namespace" \
  test "$(readlink "/proc/$fwd_pid/ns/user")" != "$(readlink /proc/self/ns/user)"
nb_check "nicbox-fwd is in its own network namespace" \
  test "$(readlink "/proc/$fwd_pid/ns/net")" != "$(readlink /proc/self/ns/net)"
nb_check "nicbox-fwd has RLIMIT_MEMLOCK 0" grep -Eq '^Max locked memory +0 +0 ' "/proc/$fwd_pid/limits"
nb_check "nicbox-fwd is root in its namespace, uid $NB_UID outside" \
  grep -q "container: uid 0, memlock 0, uid_map 0 $NB_UID 1" "$APPS_TMP/fwd.err"
nb_check "the helper saw uid $NB_UID (the host uid) claim $fwd_a" \
  grep -q "uid $NB_UID claimed $fwd_a" "$NB_OUT/helper.log"
apps_chain_run "$gen" "$count" "$rate" "$size" || exit 1
apps_expect_final pktgen "$gen" sent "$count"
apps_expect_final fwd "$fwd_a" rx_packets "$count"
apps_expect_final fwd "$fwd_b" tx_packets "$count"
apps_expect_final capture "$cap" valid "$count"
for field in lost duplicated reordered corrupt drops; do
  apps_expect_final capture "$cap" "$field" 0
done
nb_check "the helper stops cleanly" nb_helper_stop
