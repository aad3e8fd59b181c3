#!/bin/bash
# timeout: 240
# A NIC a nicbox app released is clean for its next user, nicbox or not.
# NIC 04 goes nicbox -> DPDK testpmd -> kernel virtio-net -> nicbox, with
# traffic both ways each time, against its hub partner 05 driven by the
# kernel throughout (interface up, promiscuous, IPv6 off: it sends nothing
# of its own). Every count is exact:
#   nicbox:  05 sends N -> nicbox-capture on 04 receives N; then
#            nicbox-pktgen --count N on 04 -> 05 receives N
#   testpmd: 05 sends N -> testpmd macswap on 04 receives N, sends them
#            back or counts them in TX-dropped -> 05 receives what it sent
#   kernel:  05 sends N -> 04's netdev receives N; 04 sends N -> 05 receives N
. "$NB_SRC/test/vm/peer-lib.sh"

nics=($NB_NICS)
nic=${nics[0]} partner=${nics[1]}
n=2000

# netdev BDF: the kernel's interface name for the NIC.
netdev() { basename /sys/bus/pci/devices/"$1"/virtio*/net/*; }
# netdev_up BDF: interface up, promiscuous, IPv6 off (no frames of its own).
netdev_up() {
  local dev
  dev=$(netdev "$1")
  sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=1" 2>/dev/null
  ip link set dev "$dev" promisc on up
}
# counter BDF rx_packets|tx_packets: the kernel netdev's counter.
counter() { cat "/sys/bus/pci/devices/$1/"virtio*/net/*/statistics/"$2"; }
# kernel_send BDF N: N frames of 60 bytes from the NIC's netdev, to the
# address nicbox-pktgen uses, with a local experimental EtherType.
kernel_send() {
  python3 - "$(netdev "$1")" "$2" <<'PY'
import errno, socket, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
frame = bytes.fromhex("026e62000002" "020000000005" "88b5") + bytes(46)
sent = 0
while sent < int(sys.argv[2]):
    try:
        s.send(frame)
        sent += 1
    except OSError as e:  # the queue is full for a moment: retry
        if e.errno not in (errno.ENOBUFS, errno.EAGAIN):
            raise
        time.sleep(0.01)
PY
}
# expect_delta WHAT BEFORE AFTER N: the counter grew by exactly N (it may
# take a moment for the last frames to arrive).
expect_delta() {
  local what=$1 before=$2 cmd=$3 want=$4 now tenths
  for ((tenths = 0; tenths < 50; tenths++)); do
    now=$($cmd)
    ((now - before >= want)) && break
    sleep 0.1
  done
  sleep 0.5
  now=$($cmd)
  peer_equal "$what" "$((now - before))" "$want"
}
# A fresh netdev for the partner when we are done (bind away and back).
nb_on_exit "nb_bind_vfio $partner && nb_bind_kernel $partner"

traffic_start_helper
netdev_up "$partner"
table=()

nicbox_turn() {
  local t=$1 before
  echo "== $t: nicbox on $nic"
  traffic_app 1 "$t-capture" capture --dev "$nic" --out /dev/null --count "$n" --duration 60
  kernel_send "$partner" "$n"
  apps_wait "$t-capture"
  traffic_release_to_kernel "$nic"
  peer_equal "$t: nicbox-capture on $nic received what 05 sent" "$(apps_final "$t-capture" "$nic" rx_packets)" "$n"
  before=$(counter "$partner" rx_packets)
  traffic_app 1 "$t-pktgen" pktgen --dev "$nic" --count "$n" --duration 60
  apps_wait "$t-pktgen"
  traffic_release_to_kernel "$nic"
  peer_equal "$t: nicbox-pktgen on $nic sent $n" "$(apps_final "$t-pktgen" "$nic" tx_packets)" "$n"
  expect_delta "$t: 05 received what nicbox-pktgen sent" "$before" "counter $partner rx_packets" "$n"
  table+=("$(printf '%-8s %-10s %8s %8s' "$t" nicbox "$(apps_final "$t-capture" "$nic" rx_packets)" "$(apps_final "$t-pktgen" "$nic" tx_packets)")")
}

testpmd_turn() {
  local t=$1 before tenths sent dropped
  echo "== $t: testpmd on $nic"
  peer_start "$t" "$nic" macswap || exit 1
  before=$(counter "$partner" rx_packets)
  kernel_send "$partner" "$n"
  for ((tenths = 0; tenths < 100; tenths++)); do
    (($(peer_live "$t" RX-packets) >= n)) && break
    sleep 0.1
  done
  sleep 1 # the last frames back
  peer_stop "$t"
  sent=$(peer_stat "$t" TX-packets) dropped=$(peer_stat "$t" TX-dropped)
  peer_equal "$t: testpmd on $nic received $n" "$(peer_stat "$t" RX-packets)" "$n"
  # testpmd frees what its full TX ring does not take (05's kernel is slow
  # to receive, QEMU pauses 04): counted in TX-dropped.
  peer_equal "$t: testpmd on $nic sent back + dropped on send = $n" "$((sent + dropped))" "$n"
  peer_equal "$t: 05 received what testpmd sent back" "$(($(counter "$partner" rx_packets) - before))" "$sent"
  table+=("$(printf '%-8s %-10s %8s %8s  (+%s dropped by testpmd on send)' "$t" testpmd "$(peer_stat "$t" RX-packets)" "$sent" "$dropped")")
}

kernel_turn() {
  local t=$1 rx0 tx0 prx0
  echo "== $t: the kernel's virtio-net on $nic"
  netdev_up "$nic"
  rx0=$(counter "$nic" rx_packets) tx0=$(counter "$nic" tx_packets)
  kernel_send "$partner" "$n"
  expect_delta "$t: $nic's netdev received what 05 sent" "$rx0" "counter $nic rx_packets" "$n"
  prx0=$(counter "$partner" rx_packets)
  kernel_send "$nic" "$n"
  expect_delta "$t: 05 received what $nic's netdev sent" "$prx0" "counter $partner rx_packets" "$n"
  peer_equal "$t: $nic's netdev sent $n" "$(($(counter "$nic" tx_packets) - tx0))" "$n"
  table+=("$(printf '%-8s %-10s %8s %8s' "$t" kernel "$(($(counter "$nic" rx_packets) - rx0))" "$(($(counter "$nic" tx_packets) - tx0))")")
  ip link set dev "$(netdev "$nic")" down
}

nicbox_turn 1
testpmd_turn 2
kernel_turn 3
nicbox_turn 4
echo "turn     user       received     sent  (on $nic)"
printf '%s\n' "${table[@]}"
