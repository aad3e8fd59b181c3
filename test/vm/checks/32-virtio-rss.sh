#!/bin/bash
# timeout: 420
# Multi-queue virtio-net with RSS on the tap NICs (NB_MQ_NICS: 0e and 0f,
# 4 queue pairs each, joined by a bridge on the host; docs/testbed.md).
#  1. nicbox-fwd --queues 2 on both NICs, idle: every thread of the process
#     (a thread per queue pair and direction) runs without capabilities,
#     with no_new_privs and in seccomp filter mode.
#  2. The same for nicbox-capture --queues 2 and nicbox-pktgen --queues 2,
#     both open-ended (stopped by signals; apps_idle_round in
#     test/apps/vm-lib.sh): what pktgen sent, capture received, each frame
#     on the queue RSS names.
#  3. nicbox-pktgen --queues 2 on 0e sends two IPv4/UDP flows whose sources
#     the software Toeplitz (default key, all types) puts one per queue of
#     two; nicbox-capture --queues 2 on 0f receives through the driver's
#     VIRTIO_NET_CTRL_MQ_RSS_CONFIG. Every frame: on the queue the software
#     reference names, with a device hash (VIRTIO_NET_F_HASH_REPORT) equal
#     to the reference's; every frame accounted for, each flow in order,
#     both queues used, half the frames each (apps_round, plus the RSS
#     counters).
. "$NB_SRC/test/vm/lib.sh"
. "$NB_SRC/test/apps/vm-lib.sh"

nics=($NB_MQ_NICS)
tx=${nics[0]} rx=${nics[1]}
# A tap drops what its receiver cannot take (no backpressure, unlike the
# hubs), so the rate keeps the receive rings (256 each) far from full.
count=2000 rate=200 size=128

# Killed at the time limit: show what the apps said so far.
trap 'echo "== SIGTERM (time limit): the apps so far"; apps_show "${!APP_SHELL[@]}"; exit 1' TERM

apps_policy "$NB_OUT/policy.conf" "$tx" "$rx"
NB_HELPER_LOG=$NB_OUT/helper.log nb_helper_start "$NB_OUT/policy.conf" || exit 1

echo "== 1: nicbox-fwd --queues 2 on $tx and $rx (idle): every thread locked down"
apps_start fwd fwd --dev "$tx" --dev "$rx" --queues 2
if apps_wait_ready fwd; then
  apps_check_sandboxed fwd
  apps_check_threads_sandboxed fwd 5 # main thread + one per queue pair and direction
  apps_stop fwd
  nb_check "nicbox-fwd exits 0 on SIGTERM" test "${APP_RC[fwd]}" -eq 0
  apps_expect_final fwd "$rx" faults 0
fi
apps_show fwd

echo "== 2: nicbox-capture and nicbox-pktgen --queues 2, open-ended: every thread locked down"
apps_idle_round "$tx" "$rx" --queues 2 || exit 1
apps_expect_final idle_capture "$rx" rss_wrong 0

echo "== 3: $count frames in 2 flows, RSS over 2 queues"
echo "count=$count size=$size rate=$rate" >"$NB_OUT/expected"
apps_round "$tx" "$rx" "$count" "$rate" "$size" --queues 2 || exit 1
apps_expect_final capture "$rx" rss_hashed "$count"
apps_expect_final capture "$rx" rss_wrong 0
queues=$(apps_final capture "$rx" 'queue_rx | map(tostring) | join(" ")')
nb_check "capture's two queues received $((count / 2)) frames each (got $queues)" \
  test "$queues" == "$((count / 2)) $((count / 2))"
nb_check "the helper stops cleanly" nb_helper_stop
