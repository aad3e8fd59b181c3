#!/bin/bash
# timeout: 300
# nicbox-pktgen on NIC 04 -> nicbox-capture on NIC 05 (QEMU hub 0), both as
# the unprivileged user.
#  1. Both run open-ended: root reads their /proc status from outside while
#     they run (no capabilities, no_new_privs, seccomp filter mode); SIGINT
#     and SIGTERM stop them cleanly with final stats.
#  2. 10,000 numbered frames: every one arrives once, in order, intact, and
#     lands in a pcap that 40-apps-pktgen-capture.host.sh reads with tshark
#     (from NB_OUT, where vm-lib.sh copies APPS_TMP at exit).
. "$NB_SRC/test/vm/lib.sh"
. "$NB_SRC/test/apps/vm-lib.sh"

nics=($NB_NICS)
tx=${nics[0]} rx=${nics[1]}
# 50 s of traffic. The receive ring (256 frames) then holds over a second;
# under TCG on a loaded host the receiver stalls for up to ~0.8 s. Once the
# ring is full QEMU holds frames back, and when it flushes them the hub's
# queue goes before the receiving NIC's own: neighbours swap. That would be
# QEMU reordering, not nicbox, so the rate keeps the ring from filling.
count=10000 rate=200 size=128

apps_policy "$NB_OUT/policy.conf" "$tx" "$rx"
NB_HELPER_LOG=$NB_OUT/helper.log nb_helper_start "$NB_OUT/policy.conf" || exit 1

echo "== 1: sandbox state and clean stops"
apps_start idle_capture capture --dev "$rx" --verify
apps_wait_ready idle_capture || exit 1
apps_check_sandboxed idle_capture
apps_start idle_pktgen pktgen --dev "$tx" --rate 20
apps_wait_ready idle_pktgen || exit 1
apps_check_sandboxed idle_pktgen
pktgen_pid=$(apps_pid idle_pktgen) && kill -INT "$pktgen_pid"
apps_wait idle_pktgen
sleep 2 # the last frames reach the capture
apps_stop idle_capture
apps_show idle_pktgen idle_capture
nb_check "nicbox-pktgen exits 0 on SIGINT" test "${APP_RC[idle_pktgen]}" -eq 0
nb_check "nicbox-capture exits 0 on SIGTERM" test "${APP_RC[idle_capture]}" -eq 0
sent=$(apps_final idle_pktgen "$tx" sent)
nb_check "nicbox-pktgen sent frames before SIGINT ($sent)" test "${sent:-0}" -gt 0
apps_expect_final idle_capture "$rx" valid "$sent"
for field in lost duplicated reordered corrupt; do
  apps_expect_final idle_capture "$rx" "$field" 0
done

echo "== 2: $count frames of $size bytes at $rate/s"
echo "count=$count size=$size rate=$rate" >"$NB_OUT/expected"
apps_start capture capture --dev "$rx" --out "$APPS_TMP/capture.pcap" \
  --verify --expect "$count" --count "$count" --duration 200
apps_wait_ready capture || exit 1
apps_start pktgen pktgen --dev "$tx" --count "$count" --rate "$rate" \
  --size "$size" --duration 200
apps_wait_ready pktgen || exit 1
apps_wait pktgen
apps_wait capture
apps_show pktgen capture

nb_check "nicbox-pktgen exits 0" test "${APP_RC[pktgen]}" -eq 0
nb_check "nicbox-capture --verify exits 0" test "${APP_RC[capture]}" -eq 0
apps_expect_final pktgen "$tx" sent "$count"
apps_expect_final pktgen "$tx" tx_packets "$count"
apps_expect_final pktgen "$tx" errors 0
apps_expect_final pktgen "$tx" faults 0
apps_expect_final capture "$rx" captured "$count"
apps_expect_final capture "$rx" valid "$count"
for field in lost duplicated reordered corrupt foreign drops errors faults; do
  apps_expect_final capture "$rx" "$field" 0
done
apps_expect_final capture "$rx" rx_bytes $((count * size))
nb_check "the pcap holds $count records of $size bytes" \
  test "$(stat -c %s "$APPS_TMP/capture.pcap")" -eq $((24 + count * (16 + size)))
nb_check "the pcap belongs to uid $NB_UID" test "$(stat -c %u "$APPS_TMP/capture.pcap")" -eq "$NB_UID"
nb_check "every stats line carries the contract's fields" \
  jq -e 'has("dev") and has("rx_pps") and has("tx_pps") and has("rx_mbps") and
         has("tx_mbps") and has("rx_packets") and has("tx_packets") and
         has("drops") and has("errors") and has("final")' \
     "$APPS_TMP/capture.json" "$APPS_TMP/pktgen.json" >/dev/null
nb_check "the helper stops cleanly" nb_helper_stop
