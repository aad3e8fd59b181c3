#!/bin/bash
# timeout: 360
# RSS over two receive queues on the igb NICs (QEMU's 82576 model: a
# third-party RSS implementation), every frame's queue (and the hash QEMU
# writes into the descriptor) compared with nicbox's software Toeplitz
# (nicbox-capture --queues 2 counts mismatches as rss_wrong):
#  1. nicbox-pktgen --queues 2 on 02 -> hub 2 -> nicbox-capture --queues 2
#     --verify on 08, one pcap: two flows (pktgen picks sources the default
#     key sends to queues 0 and 1), 1,000 frames each on their queue, none
#     lost, duplicated, reordered within its queue or corrupt.
#  2. the same two flows through nicbox-fwd --queues 2 (08 <-> 0a: a
#     thread per queue pair and direction, all sandboxed) -> hub 3 ->
#     capture --queues 2 --verify on 0c: 1,000 frames received on each of
#     08's queues, sent on the same queue of 0a, and each arriving on its
#     queue at 0c, none lost. (Until 2026-11-30 this part had no capture:
#     in some boots hub 3 stopped delivering to 0c, with the link up and
#     0a's GPTC counting; not seen with this tree's binaries in 7 runs,
#     cause not found: docs/igb.md.)
#  3. a sender we did not write: DPDK testpmd txonly --txonly-multi-flow on
#     0a -> hub 3 -> capture --queues 2 on 0c: both queues used, no frame
#     on another queue than the hash says, received + dropped <= sent.
#     Not exact, and it cannot be on this model: testpmd sends as fast as
#     it can, and what the receiver cannot take is dropped uncounted, by
#     QEMU's net queue (beyond 10,000 frames queued) and by the igb model
#     when the queue RSS picks is full (it never counts RQDPC, which the
#     driver reads); one run: 775,296 sent, 244,728 received, dropped 0.
#     Parts 1 and 2 balance exactly.
# No fixed sleeps: each app is stopped once the counters of the one behind
# it say the frames arrived.
# Receivers start first (QEMU holds back a sender whose hub peer cannot
# receive).
. "$NB_SRC/test/vm/lib.sh"
. "$NB_SRC/test/apps/vm-lib.sh"
. "$NB_SRC/test/apps/vm-chain-lib.sh"
. "$NB_SRC/test/vm/testpmd-lib.sh"

igbs=($NB_IGB_NICS)
count=2000 rate=200 half=1000

apps_policy "$NB_OUT/policy.conf" "${igbs[@]}"
NB_HELPER_LOG=$NB_OUT/helper.log nb_helper_start "$NB_OUT/policy.conf" || exit 1

# expect_rss_capture NAME DEV: a clean --verify run with each flow on its queue.
expect_rss_capture() {
  local field
  nb_check "$1 (nicbox-capture --verify --queues 2) exits 0" test "${APP_RC[$1]}" -eq 0
  apps_expect_final "$1" "$2" valid "$count"
  for field in lost duplicated reordered corrupt foreign rss_wrong drops errors faults; do
    apps_expect_final "$1" "$2" "$field" 0
  done
  apps_expect_final "$1" "$2" "queue_rx[0]" "$half"
  apps_expect_final "$1" "$2" "queue_rx[1]" "$half"
  # QEMU's igb wrote its hash into every descriptor (RXCSUM.PCSD), and
  # each one equalled the reference's (rss_wrong 0).
  apps_expect_final "$1" "$2" rss_hashed "$count"
}

echo "== 1: pktgen ${igbs[0]} (2 flows) -> capture ${igbs[1]} --queues 2"
apps_start direct-capture capture --dev "${igbs[1]}" --queues 2 --verify \
  --expect "$count" --count "$count" --out "$APPS_TMP/rss.pcap" --duration 60
apps_wait_ready direct-capture || exit 1
apps_check_sandboxed direct-capture
apps_start direct-pktgen pktgen --dev "${igbs[0]}" --queues 2 --count "$count" \
  --rate "$rate" --size 128 --duration 60
apps_wait_ready direct-pktgen || exit 1
apps_wait direct-pktgen
apps_wait direct-capture
apps_show direct-pktgen direct-capture
nb_check "nicbox-pktgen exits 0" test "${APP_RC[direct-pktgen]}" -eq 0
apps_expect_final direct-pktgen "${igbs[0]}" sent "$count"
expect_rss_capture direct-capture "${igbs[1]}"
frames=$(tshark -r "$APPS_TMP/rss.pcap" -T fields -e frame.number 2>/dev/null | wc -l)
nb_check "both queues' frames are in the one pcap ($frames)" test "$frames" -eq "$count"

echo "== 2: pktgen ${igbs[0]} (2 flows) -> fwd ${igbs[1]} <-> ${igbs[2]} --queues 2 -> capture ${igbs[3]}"
apps_start fwd-capture capture --dev "${igbs[3]}" --queues 2 --verify \
  --expect "$count" --count "$count" --duration 60
apps_wait_ready fwd-capture || exit 1
apps_start fwd fwd --dev "${igbs[1]}" --dev "${igbs[2]}" --queues 2 --duration 80
apps_wait_ready fwd || exit 1
# main + one thread per queue pair and direction: 1 + 2 * 2
apps_check_threads_sandboxed fwd 5
apps_start fwd-pktgen pktgen --dev "${igbs[0]}" --queues 2 --count "$count" \
  --rate "$rate" --size 128 --duration 60
apps_wait_ready fwd-pktgen || exit 1
apps_wait fwd-pktgen
# The capture ends with the last frame, so fwd has sent them all.
apps_wait fwd-capture
apps_stop fwd
apps_show fwd-pktgen fwd fwd-capture
nb_check "nicbox-fwd --queues 2 exits 0 on SIGTERM" test "${APP_RC[fwd]}" -eq 0
apps_expect_final fwd-pktgen "${igbs[0]}" sent "$count"
apps_expect_final fwd "${igbs[1]}" rx_packets "$count"
apps_expect_final fwd "${igbs[1]}" "queue_rx[0]" "$half"
apps_expect_final fwd "${igbs[1]}" "queue_rx[1]" "$half"
apps_expect_final fwd "${igbs[2]}" tx_packets "$count"
apps_expect_final fwd "${igbs[2]}" "queue_tx[0]" "$half"
apps_expect_final fwd "${igbs[2]}" "queue_tx[1]" "$half"
for dev in "${igbs[1]}" "${igbs[2]}"; do
  for field in drops errors faults; do
    apps_expect_final fwd "$dev" "$field" 0
  done
done
# Every frame nicbox-fwd sent out of 0a arrived at 0c, on the queue its
# hash names.
expect_rss_capture fwd-capture "${igbs[3]}"

echo "== 3: testpmd txonly --txonly-multi-flow ${igbs[2]} -> capture ${igbs[3]} --queues 2"
if ! command -v dpdk-testpmd >/dev/null; then
  echo "SKIP part 3: dpdk-testpmd not installed (apt-get install dpdk-dev)"
  nb_check "the helper stops cleanly" nb_helper_stop
  exit 77
fi
apps_start dpdk-capture capture --dev "${igbs[3]}" --queues 2 --verify --duration 60
apps_wait_ready dpdk-capture || exit 1
log=$NB_OUT/txonly.log
chain_testpmd_txonly dpdk-capture "${igbs[3]}" "${igbs[2]}" "$log" --txpkts=64 \
  --txonly-multi-flow || exit 1
tx=$(nb_testpmd_forward_stat "$log" 0 TX-packets)
got=$(apps_final dpdk-capture "${igbs[3]}" rx_packets)
drops=$(apps_final dpdk-capture "${igbs[3]}" drops)
q0=$(apps_final dpdk-capture "${igbs[3]}" "queue_rx[0]")
q1=$(apps_final dpdk-capture "${igbs[3]}" "queue_rx[1]")
echo "testpmd sent '$tx'; capture received '$got' (queue 0 '$q0', queue 1 '$q1'), dropped '$drops'"
nb_check "testpmd sent at least $count frames (got '$tx')" test "${tx:-0}" -ge "$count"
nb_check "queue 0 received frames" test "${q0:-0}" -gt 0
nb_check "queue 1 received frames" test "${q1:-0}" -gt 0
nb_check "queues add up to rx_packets" test "$((q0 + q1))" -eq "${got:--1}"
apps_expect_final dpdk-capture "${igbs[3]}" rss_wrong 0
nb_check "received + dropped <= sent" test "$((got + drops))" -le "${tx:-0}"
echo "dropped uncounted by QEMU (its net queue, the igb model's full queue): $((tx - got - drops)) frames"
for field in errors faults; do
  apps_expect_final dpdk-capture "${igbs[3]}" "$field" 0
done
nb_check "${igbs[2]} goes back to igb" nb_bind_kernel "${igbs[2]}"
NB_BOUND_NICS=()
nb_check "the helper stops cleanly" nb_helper_stop
