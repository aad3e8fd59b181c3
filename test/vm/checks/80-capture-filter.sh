#!/bin/bash
# timeout: 240
# nicbox-capture's libpcap filter on real traffic: pktgen on NIC 04 sends
# 300 frames to UDP port 5353, then 500 to port 42424; nicbox-capture on NIC
# 05 (QEMU hub 0), given the filter as separate words (`udp port 42424`),
# writes and verifies only the 500 and counts the 300 as filtered. The
# filter runs after lockdown (pcap_offline_filter) and libpcap writes the
# pcap there: 80-capture-filter.host.sh reads it with tshark.
. "$NB_SRC/test/vm/lib.sh"
. "$NB_SRC/test/apps/vm-lib.sh"

nics=($NB_NICS)
tx=${nics[0]} rx=${nics[1]}
other=300 want=500 rate=200 size=100

apps_policy "$NB_OUT/policy.conf" "$tx" "$rx"
NB_HELPER_LOG=$NB_OUT/helper.log nb_helper_start "$NB_OUT/policy.conf" || exit 1

# An earlier file at the output path: emptied once the claim succeeded.
head -c 5000 /dev/urandom >"$APPS_TMP/filtered.pcap"
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
for field in lost duplicated reordered corrupt foreign; do
  apps_expect_final capture "$rx" "$field" 0
done
nb_check "the pcap holds the $want matching records only" \
  test "$(stat -c %s "$APPS_TMP/filtered.pcap")" -eq $((24 + want * (16 + size)))
nb_check "the helper stops cleanly" nb_helper_stop
