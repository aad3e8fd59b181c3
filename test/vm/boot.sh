#!/bin/bash
# Boot the testbed guest once (QEMU/TCG, emulated intel-iommu, 4 virtio-net
# NICs on hubs, 2 multi-queue virtio-net NICs on taps, 4 igb NICs) and run
# either every check or one script inside it.
#
#   boot.sh [--build DIR] [--results DIR] [--checks-dir DIR] --checks
#   boot.sh [--build DIR] [--results DIR] [--timeout S] [--quiet] --run CMD [ARG...]
#
# --build    the release build tree the guest uses (default REPO/build); the
#            guest image is cached in DIR/vm-cache
# --results  writable directory shared with the guest (default DIR/vm-results
#            for --checks, DIR/vm-run for --run); its previous content is removed
# --checks   run test/vm/checks/*.sh (runner.sh); results in RESULTS/checks/
# --checks-dir  run the checks in DIR instead (to try the runner itself)
# --run      run CMD (a host path; it runs in the guest's chroot of the host
#            root, cwd = repo root) with its output live on this terminal;
#            exit with its status
# --timeout  overall limit for --run (default 600 s); --checks derives its
#            limit from the checks' own time limits
# --quiet    with --run, keep the console off the terminal (RESULTS/console.log)
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$src/build
results=
checks_dir=$src/test/vm/checks
mode=
timeout_s=
quiet=0
run_argv=()
die() { echo "boot.sh: $*" >&2; exit 2; }

while (($#)); do
  case $1 in
    --build) build=$(cd "${2:?}" && pwd); shift 2 ;;
    --results) results=${2:?}; shift 2 ;;
    --checks-dir) checks_dir=$(cd "${2:?}" && pwd); shift 2 ;;
    --timeout) timeout_s=${2:?}; shift 2 ;;
    --quiet) quiet=1; shift ;;
    --checks) mode=checks; shift ;;
    --run) mode=run; shift; run_argv=("$@"); break ;;
    *) die "unknown argument '$1' (see the comment at the top of $0)" ;;
  esac
done
[[ -n $mode ]] || die "say --checks or --run CMD"
[[ $mode == checks || ${#run_argv[@]} -gt 0 ]] || die "--run needs a command"
if [[ -z $results ]]; then
  [[ $mode == checks ]] && results=$build/vm-results || results=$build/vm-run
fi
mkdir -p "$results"
results=$(cd "$results" && pwd)
for path in "$src" "$build" "$results" "$checks_dir"; do
  [[ $path != *[[:space:]]* ]] || die "paths with spaces cannot be passed to the guest: '$path'"
done
((EUID == 0)) || die "run me as root: the multi-queue virtio-net NICs (0e, 0f) sit on taps in a network namespace of QEMU's own (unshare --net)"
[[ -c /dev/net/tun ]] || die "/dev/net/tun is missing: the multi-queue virtio-net NICs (0e, 0f) need a tap backend; load the tun driver (modprobe tun) or create the node (mknod /dev/net/tun c 10 200)"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found (apt-get install qemu-system-x86)"

cache=$build/vm-cache
"$src/test/vm/build-image.sh" "$cache"

rm -rf "$results/checks"
rm -f "$results"/{boot.env,times,summary,complete,run.log,run.rc,console.log,guard}

if [[ $mode == checks ]]; then
  # Every check's own limit, plus room for the runner's cleanup and the boot.
  timeout_s=120
  for check in "$checks_dir"/*.sh; do
    [[ $check == *.host.sh ]] && continue
    limit=$(head -n 5 "$check" | sed -n 's/^# *timeout: *\([0-9][0-9]*\) *$/\1/p' | head -n 1)
    timeout_s=$((timeout_s + ${limit:-300} + 30))
  done
fi
timeout_s=${timeout_s:-600}

NB_SRC=$src NB_BUILD=$build NB_MODE=$mode NB_RUN_ARGV=("${run_argv[@]}") NB_CHECKS_DIR=$checks_dir
declare -p NB_SRC NB_BUILD NB_MODE NB_RUN_ARGV NB_CHECKS_DIR >"$results/boot.env"

qemu=(qemu-system-x86_64
  -accel tcg,thread=multi -cpu max,la57=off -machine q35,kernel-irqchip=split
  -m 3072 -smp 2 -display none -monitor none -no-reboot
  -device intel-iommu,intremap=on,caching-mode=on,eim=on
  -kernel "$cache/vmlinuz" -initrd "$cache/initrd.gz"
  -append "console=ttyS0 intel_iommu=on quiet panic=-1 init_on_alloc=0 mitigations=off tsc=reliable no_timer_check nb_src=$src nb_results=$results nb_keep=$src,$build,$checks_dir")
# virtio-net 04+05 on hub 0, 06+07 on hub 1; igb (82576) 02+08 on hub 2,
# 0a+0c on hub 3. Every hub has exactly two ports, so what one NIC of a
# pair sends the other receives and nothing else (docs/testbed.md: why not
# more ports per hub). An igb reserves slots 0x10 and 0x11 past its own for
# its SR-IOV VFs, and 0x1f is the LPC bridge: hence 02, 08, 0a, 0c, placed
# before the 9p devices, which take whatever slots are left.
# MAC 52:54:00:00:00:NN for the NIC in slot 0xNN. virtio-net 03+09 on hub 4
# offer packed virtqueues and event idx (NB_PACKED_NICS).
for nic in 4:0:virtio 5:0:virtio 6:1:virtio 7:1:virtio 2:2:igb 8:2:igb 10:3:igb 12:3:igb 3:4:packed 9:4:packed; do
  IFS=: read -r slot hub model <<<"$nic"
  mac=52:54:00:00:00:$(printf %02x "$slot") addr=$(printf 0x%02x "$slot")
  qemu+=(-netdev "hubport,id=port$slot,hubid=$hub")
  if [[ $model == virtio ]]; then
    qemu+=(-device "virtio-net-pci,netdev=port$slot,mac=$mac,disable-legacy=on,iommu_platform=on,romfile=,addr=$addr")
  elif [[ $model == packed ]]; then
    qemu+=(-device "virtio-net-pci,netdev=port$slot,mac=$mac,disable-legacy=on,iommu_platform=on,romfile=,addr=$addr,packed=on,event_idx=on")
  else
    qemu+=(-device "igb,netdev=port$slot,mac=$mac,addr=$addr")
  fi
done
# Multi-queue virtio-net 0e and 0f (NB_MQ_NICS): each on a tap with
# NB_MQ_QUEUES queue pairs, the two taps joined by a bridge in a network
# namespace of QEMU's own (tapnet.sh). mq=on and rss=on make the device
# offer VIRTIO_NET_F_MQ and VIRTIO_NET_F_RSS (software RSS in QEMU: vhost is
# off), hash=on VIRTIO_NET_F_HASH_REPORT; one MSI-X vector per queue plus
# control and config (vectors=2N+2).
mq_queues=4
for slot in 14 15; do
  mac=52:54:00:00:00:$(printf %02x "$slot") addr=$(printf 0x%02x "$slot")
  qemu+=(-netdev "tap,id=mq$slot,ifname=nbtap$(printf %02x "$slot"),script=no,downscript=no,queues=$mq_queues,vhost=off"
    -device "virtio-net-pci,netdev=mq$slot,mac=$mac,disable-legacy=on,iommu_platform=on,romfile=,addr=$addr,mq=on,rss=on,hash=on,vectors=$((2 * mq_queues + 2))")
done
qemu+=(-virtfs "local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap"
  -virtfs "local,path=$results,mount_tag=results,security_model=none,multidevs=remap")
# NB_QEMU_ARGS: extra QEMU options (word-split), e.g. trace events for a
# diagnosis: NB_QEMU_ARGS="-trace virtio_set_status -D /tmp/trace.log".
read -ra extra <<<"${NB_QEMU_ARGS:-}"
qemu+=("${extra[@]}")
if [[ $mode == run && $quiet == 0 ]]; then
  qemu+=(-chardev "stdio,id=console,signal=off,logfile=$results/console.log")
else
  qemu+=(-chardev "file,id=console,path=$results/console.log")
fi
qemu+=(-serial chardev:console)

start=$(date +%s.%N)
echo "qemu_start $start" >>"$results/times"
[[ $mode == run && $quiet == 0 ]] || echo "boot.sh: booting the testbed (console: $results/console.log, limit ${timeout_s} s)"
# QEMU gets no input (the guest needs none), so the terminal stays as it
# is. timeout puts QEMU in its own process group: stop it ourselves when we
# are interrupted or killed (ctest's timeout, Ctrl-C).
timeout -k 10 "$timeout_s" unshare --net -- "$src/test/vm/tapnet.sh" "${qemu[@]}" </dev/null &
qemu_pid=$!
stop_qemu() {
  trap - INT TERM HUP
  kill -TERM "$qemu_pid" 2>/dev/null
  wait "$qemu_pid"
  echo "boot.sh: interrupted; QEMU stopped" >&2
  exit 130
}
trap stop_qemu INT TERM HUP
set +e
wait "$qemu_pid"
qemu_rc=$?
set -e
trap - INT TERM HUP
end=$(date +%s.%N)

if ((qemu_rc == 124 || qemu_rc == 137)); then
  echo "boot.sh: TIMEOUT: the guest did not power off within ${timeout_s} s; QEMU was killed." >&2
  echo "boot.sh: last console lines ($results/console.log):" >&2
  tail -n 30 "$results/console.log" | tr -d '\r' | sed 's/^/  | /' >&2
  exit 1
fi
if ((qemu_rc != 0)); then
  echo "boot.sh: QEMU failed with status $qemu_rc" >&2
  tail -n 30 "$results/console.log" 2>/dev/null | tr -d '\r' | sed 's/^/  | /' >&2
  exit 1
fi

if [[ -f $results/guard ]]; then
  cat "$results/guard" >&2
  exit 1
fi

# Timings: host clock for the start, guest clock (set from the host at boot)
# for the first check.
first=$(awk '$1 == "first_check_start" {print $2}' "$results/times")
if [[ -n $first ]]; then
  awk -v s="$start" -v f="$first" -v e="$end" 'BEGIN { printf "boot.sh: QEMU start to first check: %.1f s; whole run: %.1f s\n", f - s, e - s }'
fi

case $mode in
  checks)
    if [[ ! -f $results/complete ]]; then
      echo "boot.sh: the check runner did not finish; last console lines:" >&2
      tail -n 30 "$results/console.log" | tr -d '\r' | sed 's/^/  | /' >&2
      exit 1
    fi
    echo "boot.sh: results (name, exit status, seconds) in $results/summary:"
    sed 's/^/  /' "$results/summary"
    ;;
  run)
    if [[ ! -f $results/run.rc ]]; then
      echo "boot.sh: the guest did not finish '${run_argv[*]}'; last console lines:" >&2
      tail -n 30 "$results/console.log" | tr -d '\r' | sed 's/^/  | /' >&2
      exit 1
    fi
    exit "$(<"$results/run.rc")"
    ;;
esac
