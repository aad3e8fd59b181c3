#!/bin/bash
# timeout: 300
# nicbox's apps on the igb NICs (QEMU's 82576 model), all as the
# unprivileged user, every frame checked by nicbox-capture --verify:
#  1. igb -> igb: nicbox-pktgen on 02 -> hub 2 -> nicbox-capture on 08,
#     1,100-byte frames (above the 1 KiB a rounded-down SRRCTL would give);
#     root reads both apps' /proc status while they run (sandbox state).
#  2. virtio -> igb: pktgen on virtio 04 -> hub 0 -> nicbox-fwd 05 (virtio)
#     <-> 02 (igb) -> hub 2 -> capture on igb 08.
#  3. igb -> virtio: pktgen on igb 0c -> hub 3 -> nicbox-fwd 0a (igb) <->
#     06 (virtio) -> hub 1 -> capture on virtio 07.
# The receiver starts first (QEMU holds back a sender whose hub peer cannot
# receive). At 200 frames/s the TCG guest keeps up, so every frame must
# arrive once, in order, intact, and the forwarder must drop none.
. "$NB_SRC/test/vm/lib.sh"
. "$NB_SRC/test/apps/vm-lib.sh"

nics=($NB_NICS)
igbs=($NB_IGB_NICS)
count=2000 rate=200

apps_policy "$NB_OUT/policy.conf" "${nics[@]}" "${igbs[@]}"
NB_HELPER_LOG=$NB_OUT/helper.log nb_helper_start "$NB_OUT/policy.conf" || exit 1

# expect_clean_capture NAME DEV: every frame valid, nothing else.
expect_clean_capture() {
  local field
  nb_check "$1 (nicbox-capture --verify) exits 0" test "${APP_RC[$1]}" -eq 0
  apps_expect_final "$1" "$2" valid "$count"
  for field in lost duplicated reordered corrupt foreign drops errors faults; do
    apps_expect_final "$1" "$2" "$field" 0
  done
}

# chain TAG GEN FWD_IN FWD_OUT CAP: pktgen GEN -> fwd FWD_IN/FWD_OUT -> CAP.
chain() {
  local tag=$1 gen=$2 fwd_in=$3 fwd_out=$4 cap=$5 dev field
  apps_start "$tag-capture" capture --dev "$cap" --verify --expect "$count" \
    --count "$count" --duration 120
  apps_wait_ready "$tag-capture" || return 1
  apps_start "$tag-fwd" fwd --dev "$fwd_in" --dev "$fwd_out" --duration 150
  apps_wait_ready "$tag-fwd" || return 1
  apps_check_sandboxed "$tag-fwd"
  apps_start "$tag-pktgen" pktgen --dev "$gen" --count "$count" --rate "$rate" \
    --size 256 --duration 120
  apps_wait_ready "$tag-pktgen" || return 1
  apps_wait "$tag-pktgen"
  apps_wait "$tag-capture"
  apps_stop "$tag-fwd"
  apps_show "$tag-pktgen" "$tag-fwd" "$tag-capture"
  nb_check "$tag: nicbox-pktgen exits 0" test "${APP_RC[$tag-pktgen]}" -eq 0
  nb_check "$tag: nicbox-fwd exits 0 on SIGTERM" test "${APP_RC[$tag-fwd]}" -eq 0
  apps_expect_final "$tag-pktgen" "$gen" sent "$count"
  for dev in "$fwd_in" "$fwd_out"; do
    for field in drops errors faults; do
      apps_expect_final "$tag-fwd" "$dev" "$field" 0
    done
  done
  apps_expect_final "$tag-fwd" "$fwd_in" rx_packets "$count"
  apps_expect_final "$tag-fwd" "$fwd_out" tx_packets "$count"
  expect_clean_capture "$tag-capture" "$cap"
}

echo "== 1: igb ${igbs[0]} -> igb ${igbs[1]}, 1,100-byte frames"
apps_start direct-capture capture --dev "${igbs[1]}" --verify --expect "$count" \
  --count "$count" --duration 120
apps_wait_ready direct-capture || exit 1
# The capture waits for frames, so it is surely running now; pktgen is
# checked the moment it is ready (it runs 10 s), the forwarders below while
# they run until stopped.
apps_check_sandboxed direct-capture
apps_start direct-pktgen pktgen --dev "${igbs[0]}" --count "$count" --rate "$rate" \
  --size 1100 --duration 120
apps_wait_ready direct-pktgen || exit 1
apps_check_sandboxed direct-pktgen
apps_wait direct-pktgen
apps_wait direct-capture
apps_show direct-pktgen direct-capture
nb_check "nicbox-pktgen on igb exits 0" test "${APP_RC[direct-pktgen]}" -eq 0
apps_expect_final direct-pktgen "${igbs[0]}" sent "$count"
apps_expect_final direct-pktgen "${igbs[0]}" errors 0
# The device's own clear-on-read counters, accumulated by the driver over
# the once-a-second reads; octet counts include the 4-byte FCS (8.19).
apps_expect_final direct-pktgen "${igbs[0]}" tx_packets "$count"
apps_expect_final direct-pktgen "${igbs[0]}" tx_bytes $((count * 1104))
apps_expect_final direct-capture "${igbs[1]}" rx_packets "$count"
apps_expect_final direct-capture "${igbs[1]}" rx_bytes $((count * 1104))
expect_clean_capture direct-capture "${igbs[1]}"

echo "== 2: virtio ${nics[0]} -> fwd ${nics[1]} (virtio) -> ${igbs[0]} (igb) -> igb ${igbs[1]}"
chain v2i "${nics[0]}" "${nics[1]}" "${igbs[0]}" "${igbs[1]}"
echo "== 3: igb ${igbs[3]} -> fwd ${igbs[2]} (igb) -> ${nics[2]} (virtio) -> virtio ${nics[3]}"
chain i2v "${igbs[3]}" "${igbs[2]}" "${nics[2]}" "${nics[3]}"
nb_check "the helper stops cleanly" nb_helper_stop
