#!/bin/bash
# timeout: 300
# DPDK 22.11 testpmd (net_e1000_igb) as the peer of nicbox on the igb NICs,
# the receiver always started first (QEMU holds back a sender whose hub
# peer cannot receive, and DPDK takes ~10 s to start here):
#  1. nicbox-pktgen on igb 02 -> hub 2 -> testpmd rxonly on igb 08: testpmd
#     counts every frame nicbox sent.
#  2. testpmd txonly on igb 0a -> hub 3 -> nicbox-capture on igb 0c: nicbox
#     receives what DPDK's igb driver sends, without a device fault.
# No fixed sleeps: each side is stopped once the other's counters say the
# traffic arrived (testpmd's once-a-second port statistics, the capture's
# once-a-second report), so a slow, loaded host only makes it take longer.
# Part 2 cannot balance exactly: testpmd's txonly sends as fast as it can,
# QEMU's igb model sends every transmit descriptor at once, and QEMU drops
# what its queue towards a busy receiver cannot hold (10,000 frames;
# net/queue.c), without counting it anywhere (docs/igb.md).
. "$NB_SRC/test/vm/lib.sh"
. "$NB_SRC/test/apps/vm-lib.sh"
. "$NB_SRC/test/apps/vm-chain-lib.sh"
. "$NB_SRC/test/vm/testpmd-lib.sh"

command -v dpdk-testpmd >/dev/null || { echo "SKIP: dpdk-testpmd not installed (apt-get install dpdk-dev)"; exit 77; }
igbs=($NB_IGB_NICS)
count=2000

apps_policy "$NB_OUT/policy.conf" "${igbs[@]}"
NB_HELPER_LOG=$NB_OUT/helper.log nb_helper_start "$NB_OUT/policy.conf" || exit 1

echo "== 1: nicbox-pktgen ${igbs[0]} -> testpmd rxonly ${igbs[1]}"
nb_check "${igbs[1]} binds to vfio-pci" nb_bind_vfio "${igbs[1]}" || exit 1
log=$NB_OUT/rxonly.log
nb_testpmd_start "$log" "${igbs[1]}" -- --forward-mode=rxonly || exit 1
nb_check "testpmd drives ${igbs[1]} with net_e1000_igb" grep -q 'net_e1000_igb' "$log"
apps_start pktgen pktgen --dev "${igbs[0]}" --count "$count" --rate 400 --duration 60
apps_wait_ready pktgen || exit 1
apps_wait pktgen
nb_check "testpmd counts $count received frames within 60 s" nb_testpmd_wait_rx "$log" "$count" 60
nb_check "testpmd stops cleanly" nb_testpmd_stop
sed -n '/Forward statistics for port 0/,/Done\./p' "$log"
apps_show pktgen
nb_check "nicbox-pktgen exits 0" test "${APP_RC[pktgen]}" -eq 0
apps_expect_final pktgen "${igbs[0]}" sent "$count"
rx=$(nb_testpmd_forward_stat "$log" 0 RX-packets)
nb_check "testpmd received all $count frames (got '$rx')" test "${rx:-0}" -eq "$count"
nb_check "${igbs[1]} goes back to igb" nb_bind_kernel "${igbs[1]}"
NB_BOUND_NICS=()

echo "== 2: testpmd txonly ${igbs[2]} -> nicbox-capture ${igbs[3]}"
apps_start capture capture --dev "${igbs[3]}" --verify --duration 120
apps_wait_ready capture || exit 1
log=$NB_OUT/txonly.log
chain_testpmd_txonly capture "${igbs[3]}" "${igbs[2]}" "$log" --txpkts=64 || exit 1
tx=$(nb_testpmd_forward_stat "$log" 0 TX-packets)
got=$(apps_final capture "${igbs[3]}" rx_packets)
echo "testpmd sent '$tx', nicbox-capture received '$got'"
nb_check "testpmd sent at least $count frames (got '$tx')" test "${tx:-0}" -ge "$count"
nb_check "nicbox-capture received at least $count frames (got '$got')" test "${got:-0}" -ge "$count"
nb_check "nicbox-capture received no more than testpmd sent" test "${got:-0}" -le "${tx:-0}"
nb_check "every frame was seen by the verifier (captured == rx_packets)" \
  test "$(apps_final capture "${igbs[3]}" captured)" == "$got"
for field in errors faults; do
  apps_expect_final capture "${igbs[3]}" "$field" 0
done
nb_check "${igbs[2]} goes back to igb" nb_bind_kernel "${igbs[2]}"
NB_BOUND_NICS=()
nb_check "the helper stops cleanly" nb_helper_stop
