#!/bin/bash
# timeout: 240
# nicbox-capture's libpcap filter on real traffic: pktgen on NIC 04 sends
# 300 frames to UDP port 5353, then 500 to port 42424; nicbox-capture on NIC
# 05 (QEMU hub 0), given the filter as separate words (`udp port 42424`),
# writes and verifies only the 500 and counts the 300 as filtered. The
# filter runs after lockdown (pcap_offline_filter) and libpcap writes the
# pcap there: 80-capture-filter.host.sh reads it with tshark.
# Then `--out -` with a quoted filter: 100 frames to port 7777 and 100 to
# 42424; the pcap on stdout holds the 100 to port 7777 and the stats lines
# went to stderr.
. "$NB_SRC/test/vm/lib.sh"
. "$NB_SRC/test/apps/vm-lib.sh"

nics=($NB_NICS)
tx=${nics[0]} rx=${nics[1]}
# Order is 40's subject: a receiver stalled for over a ring's worth of
# frames under TCG lets QEMU's hub swap neighbours (seen here once at
# 200/s on a loaded host). This check is about which frames, so it counts
# them and sends at 100/s.
other=300 want=500 rate=100 size=100

apps_policy "$NB_OUT/policy.conf" "$tx" "$rx"
NB_HELPER_LOG=$NB_OUT/helper.log nb_helper_start "$NB_OUT/policy.conf" || exit 1

# An earlier file at the output path, longer than the capture will be: it
# is emptied once the claim succeeded (the size check below shows it).
head -c 100000 /dev/urandom >"$APPS_TMP/filtered.pcap"
chown "$NB_UID:$NB_GID" "$APPS_TMP/filtered.pcap"
echo "other=$other want=$want size=$size" >"$NB_OUT/expected"
apps_start capture capture --dev "$rx" --out "$APPS_TMP/filtered.pcap" \
  --verify --expect "$want" --count "$want" --duration 150 udp port 42424
apps_wait_ready capture || exit 1
apps_check_sandboxed capture
apps_start pktgen_other pktgen --dev "$tx" --port 5353 --count "$other" \
  --rate "$rate" --size "$size" --duration 100
apps_wait pktgen_other
apps_start pktgen pktgen --dev "$tx" --count "$want" --rate "$rate" \
  --size "$size" --duration 100
apps_wait pktgen
apps_wait capture
apps_show pktgen_other pktgen capture

nb_check "both pktgen runs exit 0" test "${APP_RC[pktgen_other]}${APP_RC[pktgen]}" == 00
apps_expect_final pktgen_other "$tx" sent "$other"
apps_expect_final pktgen "$tx" sent "$want"
nb_check "nicbox-capture exits 0" test "${APP_RC[capture]}" -eq 0
apps_expect_final capture "$rx" rx_packets $((other + want))
apps_expect_final capture "$rx" captured "$want"
apps_expect_final capture "$rx" filtered "$other"
apps_expect_final capture "$rx" valid "$want"
for field in lost duplicated corrupt foreign; do
  apps_expect_final capture "$rx" "$field" 0
done
nb_check "the pcap holds the $want matching records only" \
  test "$(stat -c %s "$APPS_TMP/filtered.pcap")" -eq $((24 + want * (16 + size)))

echo "== --out - 'udp dst port 7777'"
apps_start stdout capture --dev "$rx" --out - --count 100 --duration 100 'udp dst port 7777'
apps_wait_ready stdout || exit 1
apps_start pktgen_42424 pktgen --dev "$tx" --count 100 --rate "$rate" --size "$size"
apps_wait pktgen_42424
apps_start pktgen_7777 pktgen --dev "$tx" --port 7777 --count 100 --rate "$rate" --size "$size"
apps_wait pktgen_7777
apps_wait stdout
mv "$APPS_TMP/stdout.json" "$APPS_TMP/stdout.pcap"
grep '^{' "$APPS_TMP/stdout.err" >"$APPS_TMP/stdout.json"
echo "--- stdout capture stats (stderr):"; tail -n 1 "$APPS_TMP/stdout.json"
nb_check "nicbox-capture --out - exits 0" test "${APP_RC[stdout]}" -eq 0
apps_expect_final stdout "$rx" captured 100
apps_expect_final stdout "$rx" filtered 100
nb_check "stdout holds a pcap of 100 records, no stats text" \
  test "$(stat -c %s "$APPS_TMP/stdout.pcap")" -eq $((24 + 100 * (16 + size)))
nb_check "the helper stops cleanly" nb_helper_stop
