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
. "$NB_SRC/test/apps/vm-chain-lib.sh"

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

declare -A idle=() blocked=()
# One round: both chains side by side (the testbed is slow to start apps
# under load), receivers first.
round() {
  local vmode=$1 imode=$2
  echo "== virtio chain in $vmode mode, igb chain in $imode mode"
  local v=v-$vmode i=i-$imode
  chain_capture_start "$v" "${nics[3]}" --duration 150 --rx-mode "$vmode"
  chain_capture_start "$i" "${igbs[1]}" --duration 150 --rx-mode "$imode"
  apps_wait_ready "$v-capture" && apps_wait_ready "$i-capture" || return 1
  chain_fwd_start "$v" "${nics[1]}" "${nics[2]}" --duration 300 --rx-mode "$vmode"
  chain_fwd_start "$i" "${igbs[2]}" "${igbs[0]}" --duration 300 --rx-mode "$imode"
  apps_wait_ready "$v-fwd" && apps_wait_ready "$i-fwd" || return 1
  apps_check_threads_sandboxed "$v-fwd" 1
  apps_check_threads_sandboxed "$i-fwd" 1
  apps_check_sandboxed "$v-capture"
  # Idle before any traffic: the forwarders have nothing to do.
  measure_idle "virtio-$vmode=$v-fwd" "igb-$imode=$i-fwd"
  chain_pktgen_start "$v" "${nics[0]}" --rate "$rate" --size 256 --duration 120
  chain_pktgen_start "$i" "${igbs[3]}" --rate "$rate" --size 256 --duration 120
  apps_wait_ready "$v-pktgen" && apps_wait_ready "$i-pktgen" || return 1
  chain_finish "$v" "${nics[0]}" "${nics[3]}"
  chain_finish "$i" "${igbs[3]}" "${igbs[1]}"
  # Idle again after traffic: back to sleep.
  measure_idle "virtio-$vmode-after-traffic=$v-fwd" "igb-$imode-after-traffic=$i-fwd"
  chain_fwd_finish "$v" "${nics[1]}" "${nics[2]}"
  chain_fwd_finish "$i" "${igbs[2]}" "${igbs[0]}"
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
