#!/bin/bash
# timeout: 300
# nicbox-pktgen on NIC 04 -> nicbox-capture on NIC 05 (QEMU hub 0), both as
# the unprivileged user.
#  1. Both run open-ended: root reads their /proc status from outside while
#     they run (no capabilities, no_new_privs, seccomp filter mode, in every
#     thread); SIGINT and SIGTERM stop them cleanly with final stats
#     (apps_idle_round in test/apps/vm-lib.sh).
#  2. 10,000 numbered frames (apps_round): every one arrives once, in order, intact, and
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
apps_idle_round "$tx" "$rx" || exit 1

echo "== 2: $count frames of $size bytes at $rate/s"
echo "count=$count size=$size rate=$rate" >"$NB_OUT/expected"
apps_round "$tx" "$rx" "$count" "$rate" "$size" -- --out "$APPS_TMP/capture.pcap" || exit 1
nb_check "the pcap holds $count records of $size bytes" \
  test "$(stat -c %s "$APPS_TMP/capture.pcap")" -eq $((24 + count * (16 + size)))
nb_check "the pcap belongs to uid $NB_UID" test "$(stat -c %u "$APPS_TMP/capture.pcap")" -eq "$NB_UID"
nb_check "every stats line carries the contract's fields" \
  jq -e 'has("dev") and has("rx_pps") and has("tx_pps") and has("rx_mbps") and
         has("tx_mbps") and has("rx_packets") and has("tx_packets") and
         has("drops") and has("errors") and has("final")' \
     "$APPS_TMP/capture.json" "$APPS_TMP/pktgen.json" >/dev/null
nb_check "the helper stops cleanly" nb_helper_stop
