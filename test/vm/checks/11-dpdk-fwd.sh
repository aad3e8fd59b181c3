#!/bin/bash
# timeout: 360
# DPDK testpmd on both sides of nicbox-fwd, several rounds in one boot:
#   testpmd txonly on 04 -> hub 0 -> nicbox-fwd 05 => 06 -> hub 1 -> testpmd rxonly on 07
# Each round starts once the previous round's users have released every
# NIC (all four back on virtio-pci), receivers first, and stops the sender
# first. Per round: traffic still flows in the second half (no stall after
# a burst) and every hop balances (peer-lib.sh): sent by testpmd = received
# by fwd + what testpmd's TX ring still held at its reset (at most 256);
# exactly: received by fwd = sent by fwd + dropped by fwd, sent by fwd =
# received by testpmd; nothing on the way back; no receive drops.
. "$NB_SRC/test/vm/peer-lib.sh"

nics=($NB_NICS)
src=${nics[0]} in=${nics[1]} out=${nics[2]} dst=${nics[3]}
rounds=2 seconds=6 min=500

traffic_start_helper
table=()
for ((r = 1; r <= rounds; r++)); do
  echo "== round $r"
  peer_start "r$r-dst" "$dst" rxonly || exit 1
  traffic_app 1 "r$r-fwd" fwd --dev "$in" --dev "$out"
  peer_start "r$r-src" "$src" txonly || exit 1
  peer_flowing "round $r: testpmd on $src sent" "peer_live r$r-src TX-packets" "$seconds" "$min"
  peer_stop "r$r-src"
  sleep 1 # the last frames through
  apps_stop "r$r-fwd"
  traffic_release_to_kernel "$in" "$out"
  peer_stop "r$r-dst"

  sent=$(peer_stat "r$r-src" TX-packets)
  fwd_in=$(apps_final "r$r-fwd" "$in" rx_packets)
  fwd_out=$(apps_final "r$r-fwd" "$out" tx_packets)
  fwd_drops=$(apps_final "r$r-fwd" "$out" drops)
  got=$(peer_stat "r$r-dst" RX-packets)
  table+=("$(printf '%5s %10s %10s %10s %10s %10s' "$r" "$sent" "$fwd_in" "$fwd_out" "$fwd_drops" "$got")")
  peer_from_testpmd "round $r: testpmd on $src -> fwd on $in" "$sent" "$fwd_in"
  peer_equal "round $r: fwd received on $in = fwd sent on $out + fwd dropped on $out" \
    "$fwd_in" "$((fwd_out + fwd_drops))"
  peer_equal "round $r: fwd sent on $out = testpmd received on $dst" "$fwd_out" "$got"
  peer_equal "round $r: testpmd on $dst dropped nothing on receive" "$(peer_stat "r$r-dst" RX-dropped)" 0
  peer_equal "round $r: nothing came back (fwd received on $out)" "$(apps_final "r$r-fwd" "$out" rx_packets)" 0
done
echo "round  testpmd-tx     fwd-rx     fwd-tx  fwd-drops testpmd-rx"
printf '%s\n' "${table[@]}"
