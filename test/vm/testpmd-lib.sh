# DPDK testpmd as the testbed's reference peer (10-dpdk-peer, the demo, the
# VM benchmark, the 1x DPDK-peer checks). Source after lib.sh. testpmd runs
# as root on NICs bound to vfio-pci with the type1 IOMMU and IOVA = VA, on
# the guest's 2 vCPUs: the main lcore 0 prints, lcore 1 forwards. Several
# instances may run at once (each --in-memory, NB_TESTPMD_MEM MiB of
# hugepages each, default 256); NB_TESTPMD_PID is the last one started.

NB_TESTPMD_PID=
NB_TESTPMD_LOG=
NB_TESTPMD_PIDS=()

# nb_testpmd_start LOG BDF... -- TESTPMD_ARGS...: start testpmd in the
# background (output to LOG) and wait until it is forwarding.
nb_testpmd_start() {
  local log=$1 eal=(-l 0-1 -n 1 --iova-mode=va --in-memory -m "${NB_TESTPMD_MEM:-256}") pid
  shift
  while (($#)) && [[ $1 != -- ]]; do
    eal+=(-a "$1")
    shift
  done
  shift
  # Non-interactive with --stats-period: testpmd forwards until SIGINT.
  dpdk-testpmd "${eal[@]}" -- --nb-cores=1 --txd=512 --rxd=512 --total-num-mbufs=8192 --stats-period 1 \
    "$@" </dev/null >"$log" 2>&1 &
  pid=$!
  NB_TESTPMD_PID=$pid NB_TESTPMD_LOG=$log
  NB_TESTPMD_PIDS+=("$pid")
  local tenths
  for ((tenths = 0; tenths < 900; tenths++)); do
    grep -q 'start packet forwarding' "$log" && return 0
    if ! kill -0 "$pid" 2>/dev/null; then
      wait "$pid"
      echo "nb_testpmd_start: dpdk-testpmd exited with status $? before forwarding:"
      tail -n 20 "$log"
      nb__testpmd_forget "$pid"
      return 1
    fi
    sleep 0.1
  done
  echo "nb_testpmd_start: dpdk-testpmd did not start forwarding within 90 s"
  nb_testpmd_stop "$pid"
  return 1
}

nb__testpmd_forget() {
  local pid keep=()
  for pid in "${NB_TESTPMD_PIDS[@]}"; do
    [[ $pid == "$1" ]] || keep+=("$pid")
  done
  NB_TESTPMD_PIDS=("${keep[@]}")
  [[ $NB_TESTPMD_PID != "$1" ]] || NB_TESTPMD_PID=
}

# nb_testpmd_stop [PID]: SIGINT testpmd PID (default: the last started;
# testpmd prints its forward statistics, releases the devices) and wait;
# returns testpmd's exit status.
nb_testpmd_stop() {
  local pid=${1:-$NB_TESTPMD_PID}
  [[ -n $pid ]] || return 0
  nb__testpmd_forget "$pid"
  nb_stop_pid "$pid" INT 30 "nb_testpmd_stop: testpmd"
}

nb__testpmd_stop_all() {
  while ((${#NB_TESTPMD_PIDS[@]})); do
    nb_testpmd_stop "${NB_TESTPMD_PIDS[0]}"
  done
}
nb_on_exit nb__testpmd_stop_all

# nb_testpmd_forward_stat LOG PORT FIELD: a figure from the final "Forward
# statistics for port PORT" block (FIELD: RX-packets, RX-dropped,
# TX-packets, TX-dropped).
nb_testpmd_forward_stat() {
  awk -v port="$2" -v field="$3:" '
    /Forward statistics for port/ { inblock = ($(NF - 1) == port) }
    /^ *-+ *$/ { inblock = 0 }
    inblock { for (i = 1; i < NF; i++) if ($i == field) { print $(i + 1); exit } }
  ' "$1"
}

# nb_testpmd_wait_rx LOG COUNT SECONDS: wait until testpmd's once-a-second
# NIC statistics (--stats-period 1) show at least COUNT received frames on
# its first port; fail after SECONDS.
nb_testpmd_wait_rx() {
  local got halves
  for ((halves = 0; halves < $3 * 2; halves++)); do
    got=$(awk 'BEGIN { p = -1 } /NIC statistics for port/ { p = $(NF - 1) }
               p == 0 && $1 == "RX-packets:" { v = $2 } END { print v + 0 }' "$1")
    [[ ${got:-0} -ge $2 ]] && return 0
    sleep 0.5
  done
  echo "nb_testpmd_wait_rx: testpmd received '$got' frames after $3 s, not $2"
  return 1
}
