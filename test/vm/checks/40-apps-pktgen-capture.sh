#!/bin/bash
# timeout: 300
# nicbox-pktgen on NIC 04 -> nicbox-capture --verify on NIC 05 (QEMU hub 0),
# both as the unprivileged user: every frame arrives once, in order, intact;
# both apps run with no capabilities, no_new_privs and a seccomp filter.
# The pcap goes to NB_OUT; 40-apps-pktgen-capture.host.sh reads it with tshark.
. "$NB_SRC/test/vm/lib.sh"
. "$NB_SRC/test/apps/vm-lib.sh"

nics=($NB_NICS)
tx=${nics[0]} rx=${nics[1]}
# 10 s of traffic: the receive ring never fills at this rate. (When it does,
# QEMU's net queue may deliver a new frame before the ones it held back.)
count=10000 rate=1000 size=128
# The pcap goes to tmpfs first: a write() to NB_OUT (9p) can stall the
# receive loop long enough for the ring to fill.
pcap_dir=$(mktemp -d /tmp/nb-apps.XXXXXX)
chown "$NB_UID:$NB_GID" "$pcap_dir"
nb_on_exit "rm -rf $pcap_dir"

apps_policy "$NB_OUT/policy.conf" "$tx" "$rx"
NB_HELPER_LOG=$NB_OUT/helper.log nb_helper_start "$NB_OUT/policy.conf" || exit 1
echo "count=$count size=$size" >"$NB_OUT/expected"

apps_start capture capture --dev "$rx" --out "$pcap_dir/capture.pcap" \
  --verify --expect "$count" --count "$count" --duration 120
apps_wait_ready capture || exit 1
apps_start pktgen pktgen --dev "$tx" --count "$count" --rate "$rate" \
  --size "$size" --duration 120
apps_wait_ready pktgen || exit 1

apps_check_sandboxed pktgen
apps_check_sandboxed capture

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
  test "$(stat -c %s "$pcap_dir/capture.pcap")" -eq $((24 + count * (16 + size)))
nb_check "the pcap belongs to uid $NB_UID" test "$(stat -c %u "$pcap_dir/capture.pcap")" -eq "$NB_UID"
cp "$pcap_dir/capture.pcap" "$NB_OUT/capture.pcap" # for the host's tshark
nb_check "stats lines carry the contract's fields" \
  jq -e 'has("dev") and has("rx_pps") and has("tx_pps") and has("rx_mbps") and
         has("tx_mbps") and has("rx_packets") and has("tx_packets") and
         has("drops") and has("errors") and has("final")' "$NB_OUT/capture.json"
nb_check "the helper stops cleanly" nb_helper_stop
