#!/bin/bash
# The demo, inside the testbed guest (started by demo.sh through boot.sh
# --run; output goes live to the terminal).
#
#   nicbox-pktgen (04) -> hub 0 -> FORWARDER (05 -> 06) -> hub 1 -> receiver (07)
#
# Round 1: the forwarder is nicbox-fwd; every app runs as the unprivileged
# user through nicbox-helper (root). Round 2, same boot, same traffic source
# and receiver: the forwarder is DPDK testpmd (io forwarding, root, NICs
# bound to vfio-pci directly). The forwarders' throughput is compared as a
# ratio: under TCG only ratios within one boot mean anything.
#
# Pinning: the forwarder gets vCPU 1 to itself; pktgen and the receiver
# share vCPU 0 (testpmd: main lcore 0 only prints, lcore 1 forwards). Apps
# inherit this script's CPU affinity; the live display runs at a higher
# priority so that it keeps its one-second beat among busy-polling apps.
set -u
. "$NB_SRC/test/vm/lib.sh"
export NB_OUT=$NB_RESULTS/demo
rm -rf "$NB_OUT"
mkdir -p "$NB_OUT"
chmod 1777 "$NB_OUT"
nb_on_exit 'dmesg >"$NB_OUT/dmesg.txt"'
# The apps' stats files and testpmd's log live in APPS_TMP, on the guest's
# tmpfs (9p writes would stall the apps); they reach NB_OUT at exit.
. "$NB_SRC/test/apps/vm-lib.sh"
. "$NB_SRC/test/vm/testpmd-lib.sh"

seconds=${NB_DEMO_SECONDS:-20}
nics=($NB_NICS)
gen=${nics[0]} fwd_a=${nics[1]} fwd_b=${nics[2]} rcv=${nics[3]}

banner() { printf '\n=== %s\n' "$*"; }
die() { echo "demo: $*"; exit 1; }

# show_live FORWARDER FILE...: while pktgen runs, one line per second with
# what every stage does now, from the latest stats in FILEs. One awk a
# second: forks are slow under TCG and take the CPU being measured.
show_live() (
  local forwarder=$1 row last=
  shift
  printf '%6s | %-16s | %-36s | %-16s\n' time "pktgen 04 tx" "$forwarder 05->06" "receiver 07 rx"
  renice -n -10 $BASHPID >/dev/null
  while kill -0 "${APP_SHELL[pktgen]}" 2>/dev/null; do
    sleep 1
    row=$(awk -v a="$fwd_a" -v b="$fwd_b" '
      function field(k,    v) {
        if (!match($0, "\"" k "\":[^,}]*")) return ""
        v = substr($0, RSTART + length(k) + 3, RLENGTH - length(k) - 3)
        gsub(/"/, "", v)
        return v
      }
      function kpps(v) { return v == "" ? "     -" : sprintf("%6.1f", v / 1000) }
      /"final":true/ { next }
      /"app":"nicbox-pktgen"/ { t = field("time_s"); gtx = field("tx_pps"); next }
      /"app":"nicbox-fwd"/ {
        if (field("dev") == a) { frx = field("rx_pps"); fdrops = field("drops") }
        if (field("dev") == b) ftx = field("tx_pps")
        next
      }
      /"app":"nicbox-capture"/ { rrx = field("rx_pps"); next }
      # testpmd, --stats-period 1: port 0 is 05, port 1 is 06.
      /NIC statistics for port/ { port = $(NF - 1) }
      /Rx-pps:/ && port == 0 { frx = $2 }
      /Tx-pps:/ && port == 1 { ftx = $2 }
      END {
        if (t == "") exit
        printf "%5.0fs | %11s kpps | rx %s  tx %s kpps  drops %-6s | %11s kpps\n", t,
               kpps(gtx), kpps(frx), kpps(ftx), fdrops == "" ? "-" : fdrops, kpps(rrx)
      }' "$@")
    # A new pktgen report each second; print each once.
    if [[ -n $row && ${row%%s |*} != "$last" ]]; then
      echo "$row"
      last=${row%%s |*}
    fi
  done
)

# The receiver on 07 (until stopped), then pktgen on 04 for $seconds s,
# both as the unprivileged user, pinned to vCPU 0.
start_receiver() {
  apps_start rcv capture --dev "$rcv" --verify
  apps_wait_ready rcv || die "the receiver did not start (see $NB_OUT/rcv.err)"
}
start_pktgen() {
  apps_start pktgen pktgen --dev "$gen" --duration "$seconds"
  apps_wait_ready pktgen || die "pktgen did not start (see $NB_OUT/pktgen.err)"
}

# wait_for_kernel_driver BDF...: the helper gives NICs back asynchronously.
wait_for_kernel_driver() {
  local bdf tenths
  for bdf; do
    for ((tenths = 0; tenths < 300; tenths++)); do
      [[ $(nb_nic_driver "$bdf") == "$NB_VIRTIO_DRIVER" ]] && break
      sleep 0.1
    done
    [[ $(nb_nic_driver "$bdf") == "$NB_VIRTIO_DRIVER" ]] || die "$bdf did not go back to virtio-pci"
  done
}

for app in pktgen fwd capture; do
  [[ -x $NB_BUILD/apps/nicbox-$app ]] || die "$NB_BUILD/apps/nicbox-$app is not built"
done

taskset -p -c 0 $$ >/dev/null

banner "nicbox-helper (root) starts; the policy lets uid $NB_UID claim the four NICs"
apps_policy "$NB_OUT/policy.conf" "${nics[@]}"
cat "$NB_OUT/policy.conf"
NB_HELPER_LOG=$NB_OUT/helper.log nb_helper_start "$NB_OUT/policy.conf" || die "nicbox-helper did not start"

banner "Round 1: pktgen 04 -> nicbox-fwd 05->06 -> receiver 07, all as uid $NB_UID, ${seconds} s"
start_receiver
taskset -p -c 1 $$ >/dev/null
apps_start fwd fwd --dev "$fwd_a" --dev "$fwd_b"
taskset -p -c 0 $$ >/dev/null
apps_wait_ready fwd || die "nicbox-fwd did not start (see $NB_OUT/fwd.err)"
apps_check_sandboxed fwd
start_pktgen
show_live nicbox-fwd "$APPS_TMP/pktgen.json" "$APPS_TMP/fwd.json" "$APPS_TMP/rcv.json"
apps_wait pktgen
sleep 1 # let the last frames through
apps_stop fwd
apps_stop rcv
nicbox_window=$(apps_final pktgen "$gen" time_s)
nicbox_sent=$(apps_final pktgen "$gen" sent)
nicbox_fwd=$(apps_final fwd "$fwd_b" tx_packets)
nicbox_drops=$(apps_final fwd "$fwd_a" drops)
nicbox_rcv=$(apps_final rcv "$rcv" valid)
echo "final: pktgen sent $nicbox_sent in $nicbox_window s; nicbox-fwd forwarded $nicbox_fwd" \
  "(drops $nicbox_drops); the receiver got $nicbox_rcv valid frames"
cp "$APPS_TMP/pktgen.json" "$APPS_TMP/round1-pktgen.json"
cp "$APPS_TMP/rcv.json" "$APPS_TMP/round1-rcv.json"

banner "Round 2: the same traffic through DPDK testpmd (io forwarding) on 05->06"
wait_for_kernel_driver "$fwd_a" "$fwd_b"
nb_bind_vfio "$fwd_a" "$fwd_b" || die "cannot bind $fwd_a $fwd_b to vfio-pci"
start_receiver
nb_testpmd_start "$APPS_TMP/testpmd.log" "$fwd_a" "$fwd_b" -- --forward-mode=io ||
  die "testpmd did not start"
start_pktgen
show_live testpmd "$APPS_TMP/pktgen.json" "$APPS_TMP/testpmd.log" "$APPS_TMP/rcv.json"
apps_wait pktgen
sleep 1
nb_testpmd_stop
apps_stop rcv
testpmd_window=$(apps_final pktgen "$gen" time_s)
testpmd_sent=$(apps_final pktgen "$gen" sent)
testpmd_fwd=$(nb_testpmd_forward_stat "$APPS_TMP/testpmd.log" 1 TX-packets)
testpmd_drops=$(nb_testpmd_forward_stat "$APPS_TMP/testpmd.log" 0 RX-dropped)
testpmd_rcv=$(apps_final rcv "$rcv" valid)
echo "final: pktgen sent $testpmd_sent in $testpmd_window s; testpmd forwarded $testpmd_fwd" \
  "(drops $testpmd_drops); the receiver got $testpmd_rcv valid frames"
nb_bind_kernel "$fwd_a" "$fwd_b"
nb_helper_stop

banner "Summary (64-byte frames, TCG guest: compare the ratio, not the numbers)"
awk -v nw="$nicbox_window" -v nf="$nicbox_fwd" -v nr="$nicbox_rcv" -v nd="$nicbox_drops" \
    -v tw="$testpmd_window" -v tf="$testpmd_fwd" -v tr="$testpmd_rcv" -v td="$testpmd_drops" '
  BEGIN {
    if (nw <= 0 || tw <= 0 || tf <= 0) { print "no figures to compare"; exit 1 }
    n = nf / nw; t = tf / tw
    printf "%-26s %12s %14s %10s %14s\n", "forwarder (05->06)", "forwarded", "kpps", "drops", "received (07)"
    printf "%-26s %12d %14.1f %10d %14d\n", "nicbox-fwd (uid 1000)", nf, n / 1000, nd, nr
    printf "%-26s %12d %14.1f %10d %14d\n", "dpdk-testpmd io (root)", tf, t / 1000, td, tr
    printf "\nnicbox-fwd / testpmd throughput: %.2f\n", n / t
  }'
