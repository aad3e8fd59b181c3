#!/bin/bash
# timeout: 900
# Interrupt-driven receive (nicbox.h nb_rx_wait, --rx-mode) on virtio and
# igb, as the unprivileged user, sandboxed:
#  1. every frame through a forwarder and into nicbox-capture --verify in
#     interrupt mode, then in adaptive mode; a virtio chain (pktgen 04 ->
#     fwd 05/06 -> capture 07) and an igb chain (pktgen 0c -> fwd 0a/02 ->
#     capture 08) run side by side;
#  2. an idle forwarder in interrupt/adaptive mode sleeps: its CPU time
#     over a few seconds is well below a polling forwarder's on the same
#     NICs (a functional check with a generous bound, not a timing claim:
#     bench/vm-irq.sh has the numbers).
# The forwarders' threads are checked sandboxed while they wait.
. "$NB_SRC/test/vm/lib.sh"
. "$NB_SRC/test/apps/vm-lib.sh"

nics=($NB_NICS)
igbs=($NB_IGB_NICS)
count=1000 rate=200 idle_s=4

apps_policy "$NB_OUT/policy.conf" "${nics[@]}" "${igbs[@]}"
NB_HELPER_LOG=$NB_OUT/helper.log nb_helper_start "$NB_OUT/policy.conf" || exit 1

# cpu_ticks NAME: utime + stime of the app so far (clock ticks).
cpu_ticks() {
  local pid
  pid=$(apps_pid "$1") || { echo -1; return; }
  awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$pid/stat"
}

# blocks NAME: the app's voluntary context switches so far (it blocked).
blocks() {
  local pid
  pid=$(apps_pid "$1") || { echo -1; return; }
  awk '/^voluntary_ctxt_switches:/ { print $2 }' "/proc/$pid/status"
}

# measure_idle KEY=NAME...: idle[KEY] = CPU ticks app NAME burns in idle_s
# seconds without traffic (all measured over the same seconds).
# blocked[KEY]: its voluntary context switches in that time. Under TCG on a
# loaded host the tick accounting charges a descheduled vCPU's time to the
# task that was current, so CPU ticks are noisy; blocking is not.
measure_idle() {
  local pair
  declare -A before=() before_b=()
  for pair; do
    before[$pair]=$(cpu_ticks "${pair#*=}")
    before_b[$pair]=$(blocks "${pair#*=}")
  done
  sleep "$idle_s"
  for pair; do
    idle[${pair%%=*}]=$(($(cpu_ticks "${pair#*=}") - before[$pair]))
    blocked[${pair%%=*}]=$(($(blocks "${pair#*=}") - before_b[$pair]))
  done
}

# every thread of the app: CapEff 0, NoNewPrivs 1, Seccomp 2.
check_threads_sandboxed() {
  local name=$1 pid task bad=0
  pid=$(apps_pid "$name") || { nb_check "$name runs" false; return; }
  for task in /proc/"$pid"/task/*; do
    grep -Eq '^CapEff:[[:space:]]+0+$' "$task/status" &&
      grep -Eq '^NoNewPrivs:[[:space:]]+1$' "$task/status" &&
      grep -Eq '^Seccomp:[[:space:]]+2$' "$task/status" || bad=1
  done
  nb_check "$name: every thread sandboxed" test "$bad" -eq 0
}

# The apps of one chain, receivers first (QEMU holds back a sender whose
# hub peer is deaf); both chains start side by side (the testbed is slow
# to start apps under load). capture_start TAG MODE CAP, fwd_start TAG MODE
# FWD_IN FWD_OUT, chain_send TAG GEN, chain_finish, fwd_finish.
capture_start() {
  apps_start "$1-capture" capture --dev "$3" --verify --expect "$count" \
    --count "$count" --duration 150 --rx-mode "$2"
}

fwd_start() {
  apps_start "$1-fwd" fwd --dev "$3" --dev "$4" --duration 300 --rx-mode "$2"
}

chain_send() {
  local tag=$1 gen=$2
  apps_start "$tag-pktgen" pktgen --dev "$gen" --count "$count" --rate "$rate" \
    --size 256 --duration 120
}

chain_finish() {
  local tag=$1 fwd_in=$2 fwd_out=$3 cap=$4 gen=$5 dev field
  apps_wait "$tag-pktgen"
  apps_wait "$tag-capture"
  apps_show "$tag-pktgen" "$tag-fwd" "$tag-capture"
  nb_check "$tag: nicbox-pktgen exits 0" test "${APP_RC[$tag-pktgen]}" -eq 0
  apps_expect_final "$tag-pktgen" "$gen" sent "$count"
  nb_check "$tag: nicbox-capture --verify exits 0" test "${APP_RC[$tag-capture]}" -eq 0
  apps_expect_final "$tag-capture" "$cap" valid "$count"
  for field in lost duplicated reordered corrupt foreign drops errors faults; do
    apps_expect_final "$tag-capture" "$cap" "$field" 0
  done
}

fwd_finish() {
  local tag=$1 fwd_in=$2 fwd_out=$3 dev field
  apps_stop "$tag-fwd"
  nb_check "$tag: nicbox-fwd exits 0 on SIGTERM" test "${APP_RC[$tag-fwd]}" -eq 0
  for dev in "$fwd_in" "$fwd_out"; do
    for field in drops errors faults; do
      apps_expect_final "$tag-fwd" "$dev" "$field" 0
    done
  done
  apps_expect_final "$tag-fwd" "$fwd_in" rx_packets "$count"
  apps_expect_final "$tag-fwd" "$fwd_out" tx_packets "$count"
}

declare -A idle=() blocked=()
round() {
  local vmode=$1 imode=$2
  echo "== virtio chain in $vmode mode, igb chain in $imode mode"
  local v=v-$vmode i=i-$imode
  capture_start "$v" "$vmode" "${nics[3]}"
  capture_start "$i" "$imode" "${igbs[1]}"
  apps_wait_ready "$v-capture" && apps_wait_ready "$i-capture" || return 1
  fwd_start "$v" "$vmode" "${nics[1]}" "${nics[2]}"
  fwd_start "$i" "$imode" "${igbs[2]}" "${igbs[0]}"
  apps_wait_ready "$v-fwd" && apps_wait_ready "$i-fwd" || return 1
  check_threads_sandboxed "$v-fwd"
  check_threads_sandboxed "$i-fwd"
  apps_check_sandboxed "$v-capture"
  # Idle before any traffic: the forwarders have nothing to do.
  measure_idle "virtio-$vmode=$v-fwd" "igb-$imode=$i-fwd"
  chain_send "$v" "${nics[0]}"
  chain_send "$i" "${igbs[3]}"
  apps_wait_ready "$v-pktgen" && apps_wait_ready "$i-pktgen" || return 1
  chain_finish "$v" "${nics[1]}" "${nics[2]}" "${nics[3]}" "${nics[0]}"
  chain_finish "$i" "${igbs[2]}" "${igbs[0]}" "${igbs[1]}" "${igbs[3]}"
  # Idle again after traffic: back to sleep.
  measure_idle "virtio-$vmode-after-traffic=$v-fwd" "igb-$imode-after-traffic=$i-fwd"
  fwd_finish "$v" "${nics[1]}" "${nics[2]}"
  fwd_finish "$i" "${igbs[2]}" "${igbs[0]}"
}

round interrupt adaptive || exit 1
round adaptive interrupt || exit 1

echo "== reference: an idle polling forwarder on the virtio pair"
apps_start v-poll-fwd fwd --dev "${nics[1]}" --dev "${nics[2]}" --duration 60 \
  --rx-mode poll
apps_wait_ready v-poll-fwd || exit 1
measure_idle poll=v-poll-fwd
apps_stop v-poll-fwd
nb_check "nicbox-fwd --rx-mode poll exits 0" test "${APP_RC[v-poll-fwd]}" -eq 0

for key in "${!idle[@]}"; do
  echo "idle over ${idle_s} s: $key: CPU ticks ${idle[$key]}, blocked ${blocked[$key]} times"
done
# Polling spins for the whole time (idle_s * 100 ticks of one vCPU, less
# what other guests take); a sleeping forwarder wakes 10 times a second.
nb_check "the polling forwarder burns CPU while idle (${idle[poll]} ticks)" \
  test "${idle[poll]}" -ge $((idle_s * 100 / 4))
for key in "${!idle[@]}"; do
  [[ $key == poll ]] && continue
  nb_check "idle $key forwarder sleeps: ${idle[$key]} ticks, under half of polling's ${idle[poll]}" \
    test "${idle[$key]}" -ge 0 -a "$((idle[$key] * 2))" -lt "${idle[poll]}"
  # It wakes at least every 100 ms (the apps' wait timeout) and blocks again.
  nb_check "idle $key forwarder blocks (${blocked[$key]} times in ${idle_s} s)" \
    test "${blocked[$key]}" -ge "$idle_s"
done
nb_check "the helper stops cleanly" nb_helper_stop
