#!/bin/bash
# timeout: 420
# DPDK testpmd as the outside sink and source of the nicbox apps on hub 0,
# in both directions, each NIC taking both roles, four rounds in one boot:
#   1. nicbox-pktgen on 05 -> testpmd rxonly on 04
#   2. testpmd txonly on 04 -> nicbox-capture on 05
#   3. nicbox-pktgen on 04 -> testpmd rxonly on 05
#   4. testpmd txonly on 05 -> nicbox-capture --discard on 04 (the load
#      tests' sink: counts only)
# Each round starts once the previous round's users have released both
# NICs, the receiver first. Per round: traffic still flows in the second
# half (no stall after a burst), frames sent = frames received (from
# testpmd: less what its TX ring still held at its reset, peer-lib.sh), and
# no receive drops.
. "$NB_SRC/test/vm/peer-lib.sh"

nics=($NB_NICS)
seconds=6 min=500

traffic_start_helper
table=()

# pktgen_round N NICBOX_NIC TESTPMD_NIC
pktgen_round() {
  local r=$1 gen=$2 sink=$3 sent got
  echo "== round $r: nicbox-pktgen on $gen -> testpmd rxonly on $sink"
  peer_start "r$r-sink" "$sink" rxonly || exit 1
  # Open-ended, stopped from here: the window peer_flowing watches lies
  # inside pktgen's run even when this shell is slow to get going.
  traffic_app 1 "r$r-pktgen" pktgen --dev "$gen" --size 64
  peer_flowing "round $r: testpmd on $sink received" "peer_live r$r-sink RX-packets" "$seconds" "$min"
  apps_stop "r$r-pktgen"
  sleep 1
  peer_stop "r$r-sink"
  traffic_release_to_kernel "$gen"
  sent=$(apps_final "r$r-pktgen" "$gen" tx_packets)
  got=$(peer_stat "r$r-sink" RX-packets)
  table+=("$(printf '%5s %-22s %10s %10s' "$r" "pktgen->testpmd" "$sent" "$got")")
  nb_check "round $r: nicbox-pktgen exits 0 on SIGTERM" test "${APP_RC[r$r-pktgen]}" -eq 0
  peer_equal "round $r: pktgen sent on $gen = testpmd received on $sink" "$sent" "$got"
  peer_equal "round $r: testpmd on $sink dropped nothing on receive" "$(peer_stat "r$r-sink" RX-dropped)" 0
}

# capture_round N TESTPMD_NIC NICBOX_NIC CAPTURE_ARGS...
capture_round() {
  local r=$1 src=$2 cap=$3 sent got
  shift 3
  echo "== round $r: testpmd txonly on $src -> nicbox-capture $* on $cap"
  traffic_app 1 "r$r-capture" capture --dev "$cap" "$@"
  peer_start "r$r-src" "$src" txonly || exit 1
  peer_flowing "round $r: nicbox-capture on $cap received" "peer_app_live r$r-capture $cap rx_packets" "$seconds" "$min"
  peer_stop "r$r-src"
  sleep 1
  apps_stop "r$r-capture"
  traffic_release_to_kernel "$cap"
  sent=$(peer_stat "r$r-src" TX-packets)
  got=$(apps_final "r$r-capture" "$cap" rx_packets)
  table+=("$(printf '%5s %-22s %10s %10s' "$r" "testpmd->capture" "$sent" "$got")")
  peer_from_testpmd "round $r: testpmd on $src -> capture on $cap" "$sent" "$got"
  peer_equal "round $r: capture ($*) took every frame it received" "$(apps_final "r$r-capture" "$cap" captured)" "$got"
  peer_equal "round $r: capture on $cap dropped nothing" "$(apps_final "r$r-capture" "$cap" drops)" 0
}

pktgen_round 1 "${nics[1]}" "${nics[0]}"
capture_round 2 "${nics[0]}" "${nics[1]}" --out /dev/null
pktgen_round 3 "${nics[0]}" "${nics[1]}"
capture_round 4 "${nics[1]}" "${nics[0]}" --discard
echo "round direction                    sent   received"
printf '%s\n' "${table[@]}"
