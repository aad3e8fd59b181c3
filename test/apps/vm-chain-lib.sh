# Shell helpers for checks that send counted frames through a chain
# nicbox-pktgen -> nicbox-fwd -> nicbox-capture --verify (43-rx-interrupts,
# 71-igb-apps). Source after test/apps/vm-lib.sh. The apps of chain TAG are
# named TAG-pktgen, TAG-fwd and TAG-capture; every function counts $count
# frames (the check sets it). Start the receivers first: QEMU holds back a
# sender whose hub peer cannot receive.

# chain_capture_start TAG DEV ARGS...: nicbox-capture --verify on DEV,
# ending after $count frames.
chain_capture_start() {
  local tag=$1 dev=$2
  shift 2
  apps_start "$tag-capture" capture --dev "$dev" --verify --expect "$count" \
    --count "$count" "$@"
}

# chain_fwd_start TAG IN OUT ARGS...: nicbox-fwd between IN and OUT.
chain_fwd_start() {
  local tag=$1 in=$2 out=$3
  shift 3
  apps_start "$tag-fwd" fwd --dev "$in" --dev "$out" "$@"
}

# chain_pktgen_start TAG GEN ARGS...: nicbox-pktgen sending $count frames.
chain_pktgen_start() {
  local tag=$1 gen=$2
  shift 2
  apps_start "$tag-pktgen" pktgen --dev "$gen" --count "$count" "$@"
}

# chain_expect_capture NAME DEV: the capture exited 0 and saw $count valid
# frames, none lost, duplicated, reordered, corrupt or foreign, and neither
# the app nor the device dropped, erred or faulted.
chain_expect_capture() {
  local field
  nb_check "$1 (nicbox-capture --verify) exits 0" test "${APP_RC[$1]}" -eq 0
  apps_expect_final "$1" "$2" valid "$count"
  for field in lost duplicated reordered corrupt foreign drops errors faults; do
    apps_expect_final "$1" "$2" "$field" 0
  done
}

# chain_finish TAG GEN CAP: wait for pktgen and capture to end; pktgen exited
# 0 having sent $count frames from GEN, the capture on CAP is clean.
chain_finish() {
  local tag=$1 gen=$2 cap=$3
  apps_wait "$tag-pktgen"
  apps_wait "$tag-capture"
  apps_show "$tag-pktgen" "$tag-capture"
  nb_check "$tag: nicbox-pktgen exits 0" test "${APP_RC[$tag-pktgen]}" -eq 0
  apps_expect_final "$tag-pktgen" "$gen" sent "$count"
  chain_expect_capture "$tag-capture" "$cap"
}

# chain_fwd_finish TAG IN OUT: stop the forwarder; it exited 0, took $count
# frames in on IN and sent them all out of OUT, with no drop, error or
# device fault on either NIC.
chain_fwd_finish() {
  local tag=$1 in=$2 out=$3 dev field
  apps_stop "$tag-fwd"
  apps_show "$tag-fwd"
  nb_check "$tag: nicbox-fwd exits 0 on SIGTERM" test "${APP_RC[$tag-fwd]}" -eq 0
  for dev in "$in" "$out"; do
    for field in drops errors faults; do
      apps_expect_final "$tag-fwd" "$dev" "$field" 0
    done
  done
  apps_expect_final "$tag-fwd" "$in" rx_packets "$count"
  apps_expect_final "$tag-fwd" "$out" tx_packets "$count"
}

# chain_testpmd_txonly NAME CAP TX LOG TESTPMD_ARGS...: with nicbox-capture
# NAME ready on CAP, DPDK testpmd txonly (test/vm/testpmd-lib.sh) sends from
# TX (bound to vfio-pci here) until the capture has $count frames; then
# testpmd stops, the capture's count settles and the capture stops. testpmd
# sends as fast as it can: no fixed run time, so a loaded host only makes
# this take longer. TX stays on vfio-pci (NB_BOUND_NICS hands it back).
chain_testpmd_txonly() {
  local name=$1 cap=$2 tx=$3 log=$4
  shift 4
  nb_check "$tx binds to vfio-pci" nb_bind_vfio "$tx" || return 1
  nb_testpmd_start "$log" "$tx" -- --forward-mode=txonly "$@" || return 1
  nb_check "nicbox-capture receives $count frames within 60 s" \
    apps_wait_stat "$name" "$cap" rx_packets "$count" 60
  nb_check "testpmd stops cleanly" nb_testpmd_stop
  nb_check "the capture's count settles" apps_wait_settled "$name" "$cap" rx_packets 30
  apps_stop "$name"
  sed -n '/Forward statistics for port 0/,/Done\./p' "$log"
  apps_show "$name"
}
