#!/bin/bash
# timeout: 420
# Multi-queue virtio-net with RSS on the tap NICs (NB_MQ_NICS: 0e and 0f,
# 4 queue pairs each, joined by a bridge on the host; docs/testbed.md).
#  1. nicbox-fwd --queues 2 on both NICs, idle: every thread of the process
#     (a thread per queue pair and direction) runs without capabilities,
#     with no_new_privs and in seccomp filter mode.
#  2. The same for nicbox-capture --queues 2 and nicbox-pktgen --queues 2,
#     both open-ended (stopped by signals): what pktgen sent, capture
#     received, each frame on the queue RSS names.
#  3. nicbox-pktgen --queues 2 on 0e sends two IPv4/UDP flows whose sources
#     the software Toeplitz (default key, all types) puts one per queue of
#     two; nicbox-capture --queues 2 on 0f receives through the driver's
#     VIRTIO_NET_CTRL_MQ_RSS_CONFIG. Every frame: on the queue the software
#     reference names, with a device hash (VIRTIO_NET_F_HASH_REPORT) equal
#     to the reference's; every frame accounted for, each flow in order,
#     both queues used, half the frames each.
. "$NB_SRC/test/vm/lib.sh"
. "$NB_SRC/test/apps/vm-lib.sh"

nics=($NB_MQ_NICS)
tx=${nics[0]} rx=${nics[1]}
# A tap drops what its receiver cannot take (no backpressure, unlike the
# hubs), so the rate keeps the receive rings (256 each) far from full.
count=2000 rate=200 size=128

# Every thread of app NAME: CapEff 0, NoNewPrivs 1, Seccomp 2.
check_all_threads() {
  local name=$1 pid task n=0 bad=0 status
  pid=$(apps_pid "$name") || { nb_check "$name runs for the thread check" false; return; }
  for task in /proc/"$pid"/task/*; do
    status=$(cat "$task/status" 2>/dev/null) || continue
    n=$((n + 1))
    grep -Eq '^CapEff:[[:space:]]+0000000000000000$' <<<"$status" &&
      grep -Eq '^NoNewPrivs:[[:space:]]+1$' <<<"$status" &&
      grep -Eq '^Seccomp:[[:space:]]+2$' <<<"$status" && continue
    echo "$name thread ${task##*/} is not locked down:"
    grep -E '^(Name|CapEff|NoNewPrivs|Seccomp):' <<<"$status"
    bad=$((bad + 1))
  done
  echo "$name (pid $pid): $n threads, $bad not locked down"
  nb_check "$name: all $n threads have CapEff 0, NoNewPrivs 1, Seccomp 2" test "$n" -gt 0 -a "$bad" -eq 0
  THREADS=$n
}

# Killed at the time limit: show what the apps said so far.
trap 'echo "== SIGTERM (time limit): the apps so far"; apps_show "${!APP_SHELL[@]}"; exit 1' TERM

apps_policy "$NB_OUT/policy.conf" "$tx" "$rx"
NB_HELPER_LOG=$NB_OUT/helper.log nb_helper_start "$NB_OUT/policy.conf" || exit 1

echo "== 1: nicbox-fwd --queues 2 on $tx and $rx (idle): every thread locked down"
apps_start fwd fwd --dev "$tx" --dev "$rx" --queues 2
if apps_wait_ready fwd; then
  check_all_threads fwd
  # Main thread plus one per queue pair and direction.
  nb_check "nicbox-fwd --queues 2 runs at least 5 threads (got ${THREADS:-0})" test "${THREADS:-0}" -ge 5
  apps_stop fwd
  nb_check "nicbox-fwd exits 0 on SIGTERM" test "${APP_RC[fwd]}" -eq 0
  apps_expect_final fwd "$rx" faults 0
fi
apps_show fwd

echo "== 2: nicbox-capture and nicbox-pktgen --queues 2, open-ended: every thread locked down"
apps_start idle_capture capture --dev "$rx" --queues 2 --verify
apps_wait_ready idle_capture || exit 1
check_all_threads idle_capture
apps_start idle_pktgen pktgen --dev "$tx" --queues 2 --rate 20
apps_wait_ready idle_pktgen || exit 1
check_all_threads idle_pktgen
pktgen_pid=$(apps_pid idle_pktgen) && kill -INT "$pktgen_pid"
apps_wait idle_pktgen
sleep 2 # the last frames reach the capture
apps_stop idle_capture
apps_show idle_pktgen idle_capture
sent=$(apps_final idle_pktgen "$tx" sent)
nb_check "nicbox-pktgen sent frames before SIGINT ($sent)" test "${sent:-0}" -gt 0
apps_expect_final idle_capture "$rx" valid "$sent"
apps_expect_final idle_capture "$rx" rss_wrong 0

echo "== 3: $count frames in 2 flows, RSS over 2 queues"
echo "count=$count size=$size rate=$rate" >"$NB_OUT/expected"
apps_start capture capture --dev "$rx" --queues 2 --verify --expect "$count" \
  --count "$count" --duration 200
apps_wait_ready capture || exit 1
apps_start pktgen pktgen --dev "$tx" --queues 2 --count "$count" --rate "$rate" \
  --size "$size" --duration 200
apps_wait_ready pktgen || exit 1
apps_wait pktgen
apps_wait capture
apps_show pktgen capture

nb_check "nicbox-pktgen exits 0" test "${APP_RC[pktgen]}" -eq 0
nb_check "nicbox-capture --queues 2 --verify exits 0" test "${APP_RC[capture]}" -eq 0
apps_expect_final pktgen "$tx" sent "$count"
apps_expect_final pktgen "$tx" faults 0
for field in captured valid rss_hashed; do
  apps_expect_final capture "$rx" "$field" "$count"
done
for field in rss_wrong lost duplicated reordered corrupt foreign drops errors faults; do
  apps_expect_final capture "$rx" "$field" 0
done
queues=$(apps_final capture "$rx" 'queue_rx | map(tostring) | join(" ")')
nb_check "capture's two queues received $((count / 2)) frames each (got $queues)" \
  test "$queues" == "$((count / 2)) $((count / 2))"
nb_check "the helper stops cleanly" nb_helper_stop
