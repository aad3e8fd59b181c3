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
# ratio: under TCG only ratios within one boot mean anything. Pinning and
# the rounds themselves: traffic-lib.sh.
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
. "$NB_SRC/test/vm/traffic-lib.sh"

seconds=${NB_DEMO_SECONDS:-20}

banner() { printf '\n=== %s\n' "$*"; }

# show_live TAG-pktgen: while pktgen runs, one line per second with what
# every stage of round TAG does now, from the latest stats. One awk a
# second (forks are slow under TCG and take the CPU being measured), at a
# higher priority than the busy-polling apps so it keeps its beat.
show_live() (
  local pktgen=$1 tag=${1%-pktgen} row last= file files=()
  for file in "$APPS_TMP/$tag"-{pktgen,fwd,rcv}.json "$APPS_TMP/$tag-testpmd.log"; do
    [[ -e $file ]] && files+=("$file")
  done
  printf '%6s | %-16s | %-36s | %-16s\n' time "pktgen 04 tx" "forwarder 05->06" "receiver 07 rx"
  renice -n -10 $BASHPID >/dev/null
  while kill -0 "${APP_SHELL[$pktgen]}" 2>/dev/null; do
    sleep 1
    row=$(awk -v a="$traffic_fwd_a" -v b="$traffic_fwd_b" '
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
        # drops: what either port could not take (rx ring full, tx ring full)
        if (field("dev") == a) { frx = field("rx_pps"); drops_a = field("drops") }
        if (field("dev") == b) { ftx = field("tx_pps"); drops_b = field("drops") }
        fdrops = drops_a + drops_b
        next
      }
      /"app":"nicbox-capture"/ { rrx = field("rx_pps"); next }
      # testpmd, --stats-period 1: port 0 is 05, port 1 is 06.
      /NIC statistics for port/ { port = $(NF - 1) }
      /Rx-pps:/ && port == 0 { frx = $2 }
      /Tx-pps:/ && port == 1 { ftx = $2 }
      END {
        if (t == "") exit
        printf "%5.0fs | %11s kpps | rx %s  tx %s kpps  dropped %-6s | %11s kpps\n", t,
               kpps(gtx), kpps(frx), kpps(ftx), fdrops == "" ? "-" : fdrops, kpps(rrx)
      }' "${files[@]}")
    # A new pktgen report each second; print each once.
    if [[ -n $row && ${row%%s |*} != "$last" ]]; then
      echo "$row"
      last=${row%%s |*}
    fi
  done
)

# final TAG FORWARDER_TX_PACKETS: print one round's totals and keep them
# in $APPS_TMP/TAG-summary for the comparison.
final() {
  local tag=$1 forwarded=$2 window sent received
  window=$(apps_final "$tag-pktgen" "$traffic_gen" time_s)
  sent=$(apps_final "$tag-pktgen" "$traffic_gen" sent)
  received=$(apps_final "$tag-rcv" "$traffic_rcv" valid)
  echo "final: pktgen sent $sent in $window s; the forwarder sent $forwarded on;" \
    "the receiver got $received valid frames"
  printf '%s %s %s\n' "$forwarded" "$window" "$received" >"$APPS_TMP/$tag-summary"
}

# Before the traffic: what the kernel says about the forwarder's privileges.
show_sandbox() {
  apps_check_sandboxed nicbox-fwd
}

banner "nicbox-helper (root) starts; the policy lets uid $NB_UID claim the four NICs"
traffic_start_helper
cat "$NB_OUT/policy.conf"

banner "Round 1: pktgen 04 -> nicbox-fwd 05->06 -> receiver 07, all as uid $NB_UID, ${seconds} s"
traffic_fwd_round nicbox "$seconds" nicbox show_live show_sandbox
final nicbox "$(apps_final nicbox-fwd "$traffic_fwd_b" tx_packets)"

banner "Round 2: the same traffic through DPDK testpmd (io forwarding) on 05->06"
traffic_fwd_round testpmd "$seconds" testpmd show_live
final testpmd "$(nb_testpmd_forward_stat "$APPS_TMP/testpmd-testpmd.log" 1 TX-packets)"
nb_helper_stop

banner "Summary (60-byte frames, TCG guest: compare the ratio, not the numbers)"
awk '
  FNR == 1 { name = (FILENAME ~ /nicbox-summary$/) ? "nicbox-fwd (uid 1000)" : "dpdk-testpmd io (root)" }
  { fwd[name] = $1; win[name] = $2; rcv[name] = $3; order[++n] = name }
  END {
    printf "%-26s %12s %10s %14s\n", "forwarder (05->06)", "forwarded", "kpps", "received (07)"
    for (i = 1; i <= n; i++) {
      k = order[i]
      if (win[k] <= 0) { print "no figures for " k; exit 1 }
      rate[k] = fwd[k] / win[k]
      printf "%-26s %12d %10.1f %14d\n", k, fwd[k], rate[k] / 1000, rcv[k]
    }
    if (rate[order[2]] <= 0) { print "testpmd forwarded nothing: no ratio"; exit 1 }
    printf "\nnicbox-fwd / testpmd throughput: %.2f\n", rate[order[1]] / rate[order[2]]
  }' "$APPS_TMP/nicbox-summary" "$APPS_TMP/testpmd-summary"
