#!/bin/bash
# timeout: 480
# Packed virtqueues (virtio 1.2, 2.8) and VIRTIO_F_EVENT_IDX on real (QEMU)
# devices: NB_PACKED_NICS, 03 and 09 on hub 4, are virtio-net with
# packed=on,event_idx=on; nothing else changes. As the unprivileged user:
#  1. The devices offer both features (the kernel driver's feature bits).
#  2. virtio_vm_loop both ways: nicbox negotiates packed rings (read back
#     from the device's driver_feature), every frame arrives
#     in order and intact; and once with NICBOX_VIRTIO_RING=split, which
#     must give split rings on the same devices.
#  3. nicbox-pktgen 03 -> nicbox-capture --verify 09: every frame once, in
#     order, intact.
#  4. A chain into the packed hub: nicbox-pktgen 07 -> hub 1 -> 06
#     nicbox-fwd 09 -> hub 4 -> nicbox-capture --verify 03: exact counts,
#     every frame checked (none lost, duplicated or corrupt), no drops.
#     Reordering is counted and printed, not failed: on the loaded
#     testbed the receive rings fill and QEMU swaps neighbours when it
#     flushes (docs/testbed.md, "Where frames go"); 41 demands order on
#     the split NICs.
#  5. DPDK testpmd (its virtio PMD drives packed rings) as the peer on a
#     packed NIC: testpmd txonly 09 -> nicbox-capture 03, with the
#     accounting of peer-lib.sh.
#  6. nicbox-pktgen 03 -> testpmd rxonly 09, with event idx: traffic keeps
#     flowing and balances (it stopped with a full transmit ring while the
#     driver took a DESC offset QEMU had left a lap behind for one ahead:
#     docs/virtio.md, packed_event_ahead).
. "$NB_SRC/test/vm/peer-lib.sh"

packed=($NB_PACKED_NICS)
nics=($NB_NICS)
a=${packed[0]} b=${packed[1]}
loop=$NB_BUILD/test/virtio/virtio_vm_loop
[[ ${#packed[@]} -eq 2 ]] || { echo "FAIL: NB_PACKED_NICS has ${#packed[@]} NICs, want 2"; exit 1; }
[[ -x $loop ]] || { echo "FAIL: $loop not built (configure the release tree with NB_TESTS=ON)"; exit 1; }
# 100 frames/s: at 200/s one boot at load 20-30 saw one neighbour swap
# (QEMU's flush order, see 40-apps-pktgen-capture.sh for the rate).
count=3000 size=200
seconds=6 min=300

echo "== 1: the devices offer packed rings and event idx"
for bdf in "$a" "$b"; do
  # virtio's sysfs "features": one character per bit, bit 0 first.
  features=$(cat /sys/bus/pci/devices/"$bdf"/virtio*/features 2>/dev/null)
  nb_check "$bdf offers VIRTIO_F_RING_PACKED (bit 34)" test "${features:34:1}" = 1
  nb_check "$bdf offers VIRTIO_F_EVENT_IDX (bit 29)" test "${features:29:1}" = 1
done

apps_policy "$NB_OUT/policy.conf" "$a" "$b" "${nics[2]}" "${nics[3]}"
NB_HELPER_LOG=$NB_OUT/helper.log nb_helper_start "$NB_OUT/policy.conf" || exit 1

echo "== 2: virtio_vm_loop on the packed NICs"
nb_check "10000 frames $a -> $b on packed rings with event idx: all arrive in order, intact, no faults" \
  env NICBOX_VIRTIO_EVENT_IDX=on setpriv --reuid="$NB_UID" --regid="$NB_GID" --clear-groups \
  --inh-caps=-all --bounding-set=-all -- "$loop" --socket "$NB_SOCK" --tx "$a" --rx "$b" --count 10000 --size 128 --expect-ring packed
nb_check "1000 full-size frames $b -> $a on packed rings" \
  nb_as_user "$loop" --socket "$NB_SOCK" --tx "$b" --rx "$a" --count 1000 --size 1514 --expect-ring packed
nb_check "NICBOX_VIRTIO_RING=split: the same devices on split rings, 5000 frames" \
  env NICBOX_VIRTIO_RING=split setpriv --reuid="$NB_UID" --regid="$NB_GID" --clear-groups \
  --inh-caps=-all --bounding-set=-all -- "$loop" --socket "$NB_SOCK" --tx "$a" --rx "$b" \
  --count 5000 --size 128 --expect-ring split

echo "== 3: nicbox-pktgen $a -> nicbox-capture $b, $count frames"
apps_start cap3 capture --dev "$b" --verify --expect "$count" --count "$count" --duration 120
apps_wait_ready cap3 || exit 1
apps_start gen3 pktgen --dev "$a" --count "$count" --rate 100 --size "$size" --duration 120
apps_wait_ready gen3 || exit 1
apps_wait gen3
apps_wait cap3
apps_show gen3 cap3
nb_check "nicbox-pktgen exits 0" test "${APP_RC[gen3]}" -eq 0
nb_check "nicbox-capture --verify exits 0" test "${APP_RC[cap3]}" -eq 0
apps_expect_final gen3 "$a" sent "$count"
apps_expect_final cap3 "$b" valid "$count"
for field in lost duplicated reordered corrupt foreign drops errors faults; do
  apps_expect_final cap3 "$b" "$field" 0
done
traffic_release_to_kernel "$a" "$b"

gen=${nics[3]} fwd_split=${nics[2]}
echo "== 4: nicbox-pktgen $gen -> nicbox-fwd $fwd_split -> $b -> nicbox-capture $a"
apps_start cap4 capture --dev "$a" --verify --expect "$count" --count "$count" --duration 120
apps_wait_ready cap4 || exit 1
apps_start fwd4 fwd --dev "$fwd_split" --dev "$b" --duration 150
apps_wait_ready fwd4 || exit 1
apps_start gen4 pktgen --dev "$gen" --count "$count" --rate 100 --size "$size" --duration 120
apps_wait_ready gen4 || exit 1
apps_wait gen4
apps_wait cap4
apps_stop fwd4
apps_show gen4 fwd4 cap4
nb_check "nicbox-pktgen exits 0" test "${APP_RC[gen4]}" -eq 0
nb_check "nicbox-fwd exits 0 on SIGTERM" test "${APP_RC[fwd4]}" -eq 0
reordered=$(apps_final cap4 "$a" reordered)
echo "chain: $reordered frames reordered (QEMU's flush order around full receive rings)"
nb_check "nicbox-capture --verify exits 0, or 3 (APP_EXIT_VERIFY) for reordering alone" \
  test "${APP_RC[cap4]}" -eq 0 -o "${APP_RC[cap4]}" -eq 3 -a "${reordered:-0}" -gt 0
apps_expect_final gen4 "$gen" sent "$count"
apps_expect_final fwd4 "$fwd_split" rx_packets "$count"
apps_expect_final fwd4 "$b" tx_packets "$count"
for dev in "$fwd_split" "$b"; do
  for field in drops errors faults; do
    apps_expect_final fwd4 "$dev" "$field" 0
  done
done
apps_expect_final cap4 "$a" valid "$count"
for field in lost duplicated corrupt foreign drops errors faults; do
  apps_expect_final cap4 "$a" "$field" 0
done
traffic_release_to_kernel "$gen" "$fwd_split" "$b" "$a"

echo "== 5: testpmd txonly on $b -> nicbox-capture on $a"
traffic_app 1 r5-capture capture --dev "$a" --out /dev/null
peer_start r5-src "$b" txonly || exit 1
peer_flowing "testpmd on $b -> nicbox-capture on $a" "peer_app_live r5-capture $a rx_packets" "$seconds" "$min"
peer_stop r5-src
sleep 1
apps_stop r5-capture
traffic_release_to_kernel "$a"
got=$(apps_final r5-capture "$a" rx_packets)
peer_from_testpmd "testpmd on $b -> capture on $a" "$(peer_stat r5-src TX-packets)" "$got"
peer_equal "capture on $a dropped nothing" "$(apps_final r5-capture "$a" drops)" 0
peer_equal "capture on $a saw no device fault" "$(apps_final r5-capture "$a" faults)" 0

echo "== 6: nicbox-pktgen on $a -> testpmd rxonly on $b"
peer_start r6-sink "$b" rxonly || exit 1
traffic_app 1 r6-pktgen pktgen --dev "$a" --size 64
peer_flowing "nicbox-pktgen on $a -> testpmd on $b" "peer_live r6-sink RX-packets" "$seconds" "$min"
apps_stop r6-pktgen
sleep 1
peer_stop r6-sink
traffic_release_to_kernel "$a"
nb_check "nicbox-pktgen exits 0 on SIGTERM" test "${APP_RC[r6-pktgen]}" -eq 0
peer_equal "pktgen sent on $a = testpmd received on $b" \
  "$(apps_final r6-pktgen "$a" tx_packets)" "$(peer_stat r6-sink RX-packets)"
peer_equal "pktgen on $a saw no device fault" "$(apps_final r6-pktgen "$a" faults)" 0

nb_check "the helper stops cleanly" nb_helper_stop
