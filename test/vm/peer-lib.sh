# DPDK testpmd and the kernel as outside peers of the nicbox apps (checks
# 11-13): `. "$NB_SRC/test/vm/peer-lib.sh"` brings lib.sh,
# test/apps/vm-lib.sh, testpmd-lib.sh and traffic-lib.sh (traffic_app,
# traffic_start_helper, traffic_release_to_kernel) too, and skips the
# check when testpmd is not installed.
#
# Accounting on the testbed (docs/testbed.md, "Where frames go"): a NIC's
# frames reach its hub partner and nothing else. While the receiver's queue
# is running QEMU never drops: a receiver out of buffers pauses the sender.
# So with every receiver up before its sender starts and stopped only after
# the sender stopped, each hop balances exactly: frames sent = frames
# received (+ drops the receiving app counts itself), except a hop from a
# testpmd sender (peer_from_testpmd).

. "$NB_SRC/test/vm/lib.sh"
. "$NB_SRC/test/apps/vm-lib.sh"
. "$NB_SRC/test/vm/testpmd-lib.sh"
. "$NB_SRC/test/vm/traffic-lib.sh"
command -v dpdk-testpmd >/dev/null || { echo "SKIP: dpdk-testpmd not installed (apt-get install dpdk-dev)"; exit 77; }

# Two testpmd instances and a nicbox app share the guest's hugepages.
NB_TESTPMD_MEM=96
declare -A PEER_PID=() PEER_BDF=() PEER_LOG=()

# peer_start TAG BDF MODE [ARGS...]: testpmd alone on BDF (through vfio-pci)
# in forward mode MODE, forwarding when this returns.
peer_start() {
  local tag=$1 bdf=$2 mode=$3
  shift 3
  nb_bind_vfio "$bdf" || return 1
  PEER_BDF[$tag]=$bdf PEER_LOG[$tag]=$APPS_TMP/$tag-testpmd.log
  nb_testpmd_start "${PEER_LOG[$tag]}" "$bdf" -- --forward-mode="$mode" --txpkts=64 "$@" || return 1
  PEER_PID[$tag]=$NB_TESTPMD_PID
}

# peer_stop TAG: stop that testpmd and give its NIC back to virtio-pci.
peer_stop() {
  local tag=$1
  nb_testpmd_stop "${PEER_PID[$tag]}"
  nb_bind_kernel "${PEER_BDF[$tag]}"
}

# peer_stat TAG FIELD: FIELD of testpmd's final forward statistics
# (RX-packets, RX-dropped, TX-packets, TX-dropped).
peer_stat() {
  nb_testpmd_forward_stat "${PEER_LOG[$1]}" 0 "$2"
}

# peer_live TAG RX-packets|TX-packets: the running total in testpmd's last
# periodic NIC statistics (0 before the first).
peer_live() {
  awk -v field="$2:" '
    BEGIN { port = -1 }
    /NIC statistics for port/ { port = $(NF - 1) }
    port == 0 && $1 == field { v = $2 }
    END { print v + 0 }' "${PEER_LOG[$1]}"
}

# peer_flowing WHAT CMD SECONDS MIN: CMD prints a running total; it must
# grow by at least MIN from half-way through SECONDS (which this sleeps).
# A stall after a burst never recovers; a guest vCPU the loaded host does
# not run for a few seconds does (seen: nicbox-fwd and testpmd's lcore on
# vCPU 1 both still for 5.7 s), so a short count gets up to 20 s more.
peer_flowing() {
  local what=$1 cmd=$2 secs=$3 min=$4 half mid end waited=0
  half=$(awk -v s="$secs" 'BEGIN { print s / 2 }')
  sleep "$half"
  mid=$($cmd)
  sleep "$half"
  end=$($cmd)
  while ((end - mid < min && waited < 20)); do
    sleep 1
    waited=$((waited + 1))
    end=$($cmd)
  done
  echo "$what: $mid frames after $half s, $end after $secs s + $waited s"
  nb_check "$what: at least $min frames after the first $half s (got $((end - mid)))" \
    test $((end - mid)) -ge "$min"
}

# peer_app_live NAME DEV FIELD: FIELD (a running total such as rx_packets)
# in the app's last JSON stats line for DEV.
peer_app_live() {
  jq -r --arg dev "$2" "select(.dev == \$dev) | .$3" "$APPS_TMP/$1.json" | tail -n 1
}

# peer_from_testpmd WHAT SENT GOT: the hop from a testpmd sender. testpmd
# counts a frame as sent when its TX ring takes it; when testpmd stops it
# resets the device, and QEMU discards what the ring still held (it had
# paused the sender while its partner was out of buffers). So GOT <= SENT
# <= GOT + 256 (one ring); the difference is printed.
peer_from_testpmd() {
  local what=$1 sent=$2 got=$3
  echo "$what: $sent sent, $got received, $((sent - got)) left on testpmd's TX ring at its reset"
  nb_check "$what: received <= sent <= received + 256 ($got <= $sent <= $((got + 256)))" \
    test "${got:-x}" -le "${sent:-y}" -a "${sent:-y}" -le $((got + 256))
}

# peer_equal WHAT A B: nb_check that two counts are the same number.
peer_equal() {
  nb_check "$1: $2 = $3" test "${2:-x}" -eq "${3:-y}" 2>/dev/null
}
