#!/bin/bash
# Where reordering and stalls on the virtio hubs come from (issue 13; the
# evidence in docs/virtio.md, "EVENT_IDX and reordering"). Run it with
#   test/vm/boot.sh --run test/vm/virtio-order-probe.sh [PART...]
# PART: order (default) and/or rxonly. To see QEMU's rings in the rxonly
# part add NB_QEMU_ARGS="-monitor unix:SOCK,server=on,wait=off" and ask
# "info virtio-queue-status PATH 1" when it prints STALLED.
#
# order: nicbox-pktgen 04 -> nicbox-capture --verify 05 (hub 0, split
#   rings), NICBOX_VIRTIO_EVENT_IDX off and on alternating, two kinds of
#   round: "steady" (2,000 frames at 200/s, the receiver never pauses on
#   purpose) and "pause" (the same, with the capture stopped by SIGSTOP
#   for 2 s in the middle: its 256 receive buffers fill in 1.3 s, so QEMU
#   must hold frames back). Prints lost/reordered per round.
# rxonly: nicbox-pktgen 03 -> DPDK testpmd rxonly 09 (hub 4, packed rings),
#   event idx off and on (NB_PROBE_EVENT_IDX="off on off on"), 20 s each;
#   prints testpmd's received count and pktgen's sent count every 2 s and
#   STALLED when testpmd's count stops growing.
export NB_OUT=$NB_RESULTS/order-probe
rm -rf "$NB_OUT" && mkdir -p "$NB_OUT" && chmod 1777 "$NB_OUT"
. "$NB_SRC/test/vm/peer-lib.sh"

parts=("$@")
((${#parts[@]})) || parts=(order)
nics=($NB_NICS) packed=($NB_PACKED_NICS)
apps_policy "$NB_OUT/policy.conf" "${nics[0]}" "${nics[1]}" "${packed[@]}"
NB_HELPER_LOG=$NB_OUT/helper.log nb_helper_start "$NB_OUT/policy.conf" || exit 1

order_round() { # TAG EVENT_IDX PAUSE
  local tag=$1 pid
  export NICBOX_VIRTIO_EVENT_IDX=$2
  apps_start "$tag-cap" capture --dev "${nics[1]}" --verify --count 2000 --duration 60
  apps_wait_ready "$tag-cap" || return 1
  apps_start "$tag-gen" pktgen --dev "${nics[0]}" --count 2000 --rate 200 --size 128 --duration 60
  apps_wait_ready "$tag-gen" || return 1
  if (($3)); then
    sleep 4
    pid=$(apps_pid "$tag-cap") && kill -STOP "$pid" && sleep 2 && kill -CONT "$pid"
  fi
  apps_wait "$tag-gen"
  apps_wait "$tag-cap"
  printf 'ORDER %-12s event_idx=%-3s pause=%s sent=%s valid=%s lost=%s reordered=%s\n' \
    "$tag" "$2" "$3" "$(apps_final "$tag-gen" "${nics[0]}" sent)" \
    "$(apps_final "$tag-cap" "${nics[1]}" valid)" "$(apps_final "$tag-cap" "${nics[1]}" lost)" \
    "$(apps_final "$tag-cap" "${nics[1]}" reordered)"
  traffic_release_to_kernel "${nics[0]}" "${nics[1]}"
}

rxonly_round() { # TAG EVENT_IDX
  local tag=$1 t last=-1 now
  export NICBOX_VIRTIO_EVENT_IDX=$2
  peer_start "$tag-sink" "${packed[1]}" rxonly || return 1
  apps_start "$tag-gen" pktgen --dev "${packed[0]}" --size 64 --duration 300
  apps_wait_ready "$tag-gen" || return 1
  for ((t = 2; t <= 20; t += 2)); do
    sleep 2
    now=$(peer_live "$tag-sink" RX-packets)
    echo "RXONLY $tag event_idx=$2 t=${t}s testpmd received $now, pktgen sent $(jq -r .tx_packets "$APPS_TMP/$tag-gen.json" | tail -n 1)"
    [[ $now == "$last" ]] && echo "RXONLY $tag STALLED at $now"
    last=$now
  done
  apps_stop "$tag-gen"
  sleep 1
  peer_stop "$tag-sink"
  echo "RXONLY $tag final: pktgen tx_packets $(apps_final "$tag-gen" "${packed[0]}" tx_packets)," \
    "testpmd RX-packets $(peer_stat "$tag-sink" RX-packets)"
  traffic_release_to_kernel "${packed[0]}"
}

for part in "${parts[@]}"; do
  case $part in
  order)
    for i in 1 2; do
      for ev in off on; do
        order_round "s$i-$ev" "$ev" 0
        order_round "p$i-$ev" "$ev" 1
      done
    done ;;
  rxonly)
    for ev in ${NB_PROBE_EVENT_IDX:-off on off on}; do rxonly_round "r-$ev-$RANDOM" "$ev"; done ;;
  *) echo "unknown part $part (order, rxonly)"; exit 2 ;;
  esac
done
nb_helper_stop
