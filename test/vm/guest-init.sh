#!/bin/sh
# /init of the testbed guest (busybox sh, inside the initramfs).
# Loads the drivers, mounts the host's root read-only at /host (9p tag
# "host") and the writable results directory (tag "results") at the same path
# it has on the host, then chroots into the host root and runs guest-main.sh.
# Kernel command line (host paths): nb_src=REPO nb_results=DIR
# nb_keep=DIR,DIR... (the repo, build tree, checks: kept visible, and
# reachable for uid 1000, wherever they lie; see "covers" below).
/bin/busybox --install -s /bin
export PATH=/bin

say() { echo "nb-init: [$(cut -d' ' -f1 /proc/uptime)] $*" >/dev/console; }
halt() { say "$*"; sync; poweroff -f; sleep 10; }

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
say "started"

for arg in $(cat /proc/cmdline); do
  case $arg in
    nb_src=*) nb_src=${arg#nb_src=} ;;
    nb_results=*) nb_results=${arg#nb_results=} ;;
    nb_keep=*) nb_keep=$(echo "${arg#nb_keep=}" | tr , ' ') ;;
  esac
done
[ -n "$nb_src" ] && [ -n "$nb_results" ] ||
  halt "nb_src= or nb_results= missing on the kernel command line"

for m in $(cat /etc/nb-modules); do
  modprobe "$m" || halt "modprobe $m failed"
done

say "modules loaded"
# 512 x 2 MiB hugepages, reserved before memory fragments.
echo 512 >/proc/sys/vm/nr_hugepages
say "hugepages reserved"

# The host root changes little during a run, so let the guest cache it
# (cache=loose); results must reach the host at once (no cache).
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose host /host ||
  halt "cannot mount the host root (9p tag host)"
mount -t proc proc /host/proc
mount -t sysfs sysfs /host/sys
mount -t cgroup2 cgroup2 /host/sys/fs/cgroup
mount -t devtmpfs devtmpfs /host/dev
ln -s /proc/self/fd /host/dev/fd
ln -s /proc/self/fd/0 /host/dev/stdin
ln -s /proc/self/fd/1 /host/dev/stdout
ln -s /proc/self/fd/2 /host/dev/stderr
mkdir -p /host/dev/pts /host/dev/shm /host/dev/hugepages
mount -t devpts devpts /host/dev/pts
mount -t tmpfs -o mode=1777 tmpfs /host/dev/shm
mount -t hugetlbfs -o mode=1777 hugetlbfs /host/dev/hugepages
# The guest mounts fresh tmpfs "covers" over /run and /tmp, and over the
# highest ancestor of each kept path (repo, build, checks) that others may
# not traverse (a clone under /root, mode 0700): uid 1000 runs the apps
# straight from these paths. Kept paths under a cover are bind-mounted away
# first and moved back onto directories the cover gets (mode 755), so the
# guest sees them at their host paths; the rest of a covered directory is
# hidden, in the guest only.
covers="/run /tmp"
for dir in $nb_keep; do
  cur=
  for comp in $(echo "${dir#/}" | tr / ' '); do
    case $cur/ in /run/*|/tmp/*) break ;; esac
    [ "$cur/$comp" = "$dir" ] && break # the kept path itself stays as it is
    cur=$cur/$comp
    case $(stat -c %A "/host$cur") in
      *x|*t) ;;
      *) echo " $covers " | grep -q " $cur " || covers="$covers $cur"; break ;;
    esac
  done
done
under_cover() {
  for cover in $covers; do
    case $1 in "$cover"/*) return 0 ;; esac
  done
  return 1
}
kept=0
for dir in $nb_keep; do
  under_cover "$dir" || continue
  kept=$((kept + 1))
  mkdir -p "/kept/$kept"
  mount --bind "/host$dir" "/kept/$kept"
done
for cover in $covers; do
  mode=755
  [ "$cover" = /tmp ] && mode=1777
  mount -t tmpfs -o mode=$mode tmpfs "/host$cover" || halt "cannot mount a tmpfs on /host$cover"
  [ "$cover" = /run ] || [ "$cover" = /tmp ] || say "made $cover traversable in the guest (it hides the rest of $cover)"
done
kept=0
for dir in $nb_keep; do
  under_cover "$dir" || continue
  kept=$((kept + 1))
  mkdir -p "/host$dir"
  mount --move "/kept/$kept" "/host$dir"
done

mkdir -p "/host$nb_results" 2>/dev/null
mount -t 9p -o trans=virtio,version=9p2000.L,rw,msize=512000 results "/host$nb_results" ||
  halt "cannot mount the results directory at /host$nb_results"

say "host root mounted; running guest-main.sh"
chroot /host /bin/bash "$nb_src/test/vm/guest-main.sh" "$nb_results" </dev/console >/dev/console 2>&1
halt "guest-main.sh exited with status $?; powering off"
