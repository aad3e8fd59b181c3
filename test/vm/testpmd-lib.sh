# DPDK testpmd as the testbed's reference peer (10-dpdk-peer, the demo, the
# VM benchmark). Source after lib.sh. testpmd runs as root on NICs bound to
# vfio-pci with the type1 IOMMU and IOVA = VA, on the guest's 2 vCPUs: the
# main lcore 0 prints, lcore 1 forwards.

NB_TESTPMD_PID=
NB_TESTPMD_LOG=

# nb_testpmd_start LOG BDF... -- TESTPMD_ARGS...: start testpmd in the
# background (output to LOG) and wait until it is forwarding.
nb_testpmd_start() {
  local log=$1 eal=(-l 0-1 -n 1 --iova-mode=va --in-memory -m 256)
  shift
  while (($#)) && [[ $1 != -- ]]; do
    eal+=(-a "$1")
    shift
  done
  shift
  if [[ -n $NB_TESTPMD_PID ]]; then
    echo "nb_testpmd_start: testpmd is already running (pid $NB_TESTPMD_PID)"
    return 1
  fi
  # Non-interactive with --stats-period: testpmd forwards until SIGINT.
  dpdk-testpmd "${eal[@]}" -- --nb-cores=1 --txd=512 --rxd=512 --total-num-mbufs=8192 --stats-period 1 \
    "$@" </dev/null >"$log" 2>&1 &
  NB_TESTPMD_PID=$! NB_TESTPMD_LOG=$log
  local tenths
  for ((tenths = 0; tenths < 900; tenths++)); do
    grep -q 'start packet forwarding' "$log" && return 0
    if ! kill -0 "$NB_TESTPMD_PID" 2>/dev/null; then
      wait "$NB_TESTPMD_PID"
      echo "nb_testpmd_start: dpdk-testpmd exited with status $? before forwarding:"
      tail -n 20 "$log"
      NB_TESTPMD_PID=
      return 1
    fi
    sleep 0.1
  done
  echo "nb_testpmd_start: dpdk-testpmd did not start forwarding within 90 s"
  nb_testpmd_stop
  return 1
}

# nb_testpmd_stop: SIGINT (testpmd prints its forward statistics, releases
# the devices) and wait; returns testpmd's exit status.
nb_testpmd_stop() {
  local pid=$NB_TESTPMD_PID
  [[ -n $pid ]] || return 0
  NB_TESTPMD_PID=
  nb_stop_pid "$pid" INT 30 "nb_testpmd_stop: testpmd"
}
nb_on_exit nb_testpmd_stop

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
