#!/bin/bash
# timeout: 360
# The IOMMU confines a hostile worker's device (docs/security.md, "The
# containment proof"). A victim session (uid 1001) claims NIC 06 and a
# 64 MiB pool, fills it with a sentinel and waits. A hostile worker
# (NB_UID) claims 04 and 05 (hub 0), locks down, rewrites every receive
# descriptor of 04 to a forged IOVA and sends frames from 05 to 04. First a
# control round: a spare buffer of its own pool, where the frame must land.
# Then two attacks: (a) an IOVA outside every pool of its session, (b) an
# IOVA inside the victim's pool (and outside its own). Each attack: the
# guest kernel logs a DMAR write fault for 00:04.0 at that address, and
# the worker exits
# cleanly (no hang, no crash) with no frame byte anywhere in its own
# buffers. (QEMU 10 completes a receive buffer whose write the IOMMU
# refused, with nothing written: see docs/security.md.) Then the victim's
# sentinel is unchanged, and all three NICs can be claimed again.
. "$NB_SRC/test/vm/lib.sh"
. "$NB_SRC/test/privsep/vm_helper_lib.sh"

attacker=$NB_BUILD/test/virtio/iommu_attack
victim_uid=1001
rx=${nics[0]} tx=${nics[1]} victim_nic=${nics[2]}
if [[ ! -x $attacker ]]; then
  echo "FAIL: $attacker not built (configure the release tree with NB_TESTS=ON)"
  exit 1
fi
write_policy "allow user:$NB_UID pci:$rx pool=64M
allow user:$NB_UID pci:$tx pool=64M
allow user:$victim_uid pci:$victim_nic pool=128M"
NB_HELPER_LOG=$NB_OUT/helper.log nb_helper_start "$policy" || exit 1

# The victim: another uid (in the socket's group $NB_GID), no capabilities.
fifo=/tmp/nb-victim.in
rm -f "$fifo" && mkfifo "$fifo"
setpriv --reuid=$victim_uid --regid=$victim_uid --groups="$NB_GID" \
  --inh-caps=-all --bounding-set=-all -- \
  "$attacker" victim --socket "$NB_SOCK" --dev "$victim_nic" --pool $((64 << 20)) \
  <"$fifo" >"$NB_OUT/victim.log" 2>&1 &
victim_job=$!
exec 3>"$fifo"
nb_on_exit 'exec 3>&-; wait $victim_job 2>/dev/null; rm -f "$fifo"'
victim_ready() { grep -q "^victim: .* sentinel written" "$NB_OUT/victim.log"; }
for ((i = 0; i < 600; i++)); do victim_ready || ! kill -0 $victim_job 2>/dev/null && break; sleep 0.1; done
nb_check "the victim (uid $victim_uid) holds $victim_nic with a sentinel-filled pool" victim_ready
cat "$NB_OUT/victim.log"
read -r victim_iova victim_size < <(sed -n 's/^victim: .* iova=\(0x[0-9a-f]*\) size=\([0-9]*\).*/\1 \2/p' "$NB_OUT/victim.log")
[[ -n $victim_iova ]] || { echo "FAIL: no victim pool address"; exit 1; }

# run_attacker NAME ARGS...: one hostile worker run against $rx; sets rc,
# log and the new dmesg lines in new_dmesg.
run_attacker() {
  local name=$1 before
  shift
  log=$NB_OUT/$name.log
  before=$(dmesg | wc -l)
  timeout 60 setpriv --reuid="$NB_UID" --regid="$NB_GID" --clear-groups \
    --inh-caps=-all --bounding-set=-all -- \
    "$attacker" attack --socket "$NB_SOCK" --rx "$rx" --tx "$tx" "$@" >"$log" 2>&1
  rc=$?
  sed "s/^/  [$name rc=$rc ${SECONDS}s] /" "$log"
  new_dmesg=$(dmesg | tail -n +"$((before + 1))")
  nb_check "$name: the worker exited 0 (not a hang, not a signal)" test "$rc" -eq 0
  nb_check "$name: the worker forged its descriptors after lockdown" \
    grep -q "^attack: locked down; forging the descriptors" "$log"
  nb_check "$name: the worker sent its frames into the forged ring" \
    grep -q "^attack: sent [1-9][0-9]* frames" "$log"
  nb_check "$name: the worker closed its devices and released the session" \
    grep -q "^attack: devices closed, session released" "$log"
}

# Controls: forged to a spare buffer in the worker's own pool, the write
# lands there / the read sends its bytes, and nothing faults. They show the
# device follows forged addresses, so the attacks below would see a write
# or a read that got through.
run_attacker control --control
nb_check "control: the frame landed at the forged address in the worker's own pool" \
  grep -q "^attack: control: frame bytes at the forged iova" "$log"
nb_check "control: no DMAR fault" test -z "$(grep DMAR <<<"$new_dmesg")"
run_attacker read-control --read --control
nb_check "read-control: the frames $tx sent carry the spare buffer's bytes" \
  grep -Eq "^attack: read: received ([1-9][0-9]*) frames from the forged ring; \1 carry" "$log"
nb_check "read-control: no DMAR fault" test -z "$(grep DMAR <<<"$new_dmesg")"

# expect_fault NAME KIND BDF IOVA: the guest kernel logged a DMAR fault.
expect_fault() {
  local name=$1 kind=$2 bdf=${3#0000:} page
  page=$(printf '0x%x' $(($4 & ~0xfff))) # the fault address is the page
  echo "$name: DMAR lines logged by the guest kernel:"
  grep -A1 DMAR <<<"$new_dmesg" | sed 's/^/    /'
  nb_check "$name: the guest kernel logged a DMAR $kind fault for $bdf at $page" \
    grep -Eq "DMAR: \[DMA $kind[^]]*\] Request device \[$bdf\] .*fault addr (0x)?0*${page#0x}\b" <<<"$new_dmesg"
}

# write_round NAME IOVA: receive descriptors of $rx forged to IOVA.
write_round() {
  run_attacker "$1" --iova "$2"
  nb_check "$1: no buffer the device returned holds a frame byte" \
    grep -q "^attack: reaped [0-9]* buffers: 0 hold frame bytes" "$log"
  expect_fault "$1" Write "$rx" "$2"
}

victim_target=$((victim_iova + victim_size - (2 << 20)))
write_round outside-every-pool 0x40000000
write_round victim-pool "$(printf '0x%x' "$victim_target")"

# Reading the victim's pool: transmit descriptors of $tx forged to it.
run_attacker read-victim --read --iova "$(printf '0x%x' "$victim_target")" --victim-iova "$victim_iova"
nb_check "read-victim: no frame $tx sent carries the victim's bytes" \
  grep -q "^attack: read: received [0-9]* frames from the forged ring; 0 carry" "$log"
expect_fault read-victim Read "$tx" "$victim_target"

echo go >&3
exec 3>&-
wait "$victim_job"
victim_rc=$?
sed "s/^/  [victim rc=$victim_rc] /" "$NB_OUT/victim.log"
nb_check "the victim's sentinel is unchanged" grep -q "^sentinel: intact" "$NB_OUT/victim.log"
nb_check "the victim exited 0" test "$victim_rc" -eq 0
nb_check "the helper stops cleanly" nb_helper_stop

# Both attacked NICs and the victim's can be claimed again.
write_policy "allow user:$NB_UID pci:$rx pool=64M
allow user:$NB_UID pci:$tx pool=64M
allow user:$NB_UID pci:$victim_nic pool=64M"
nb_check "nicbox-helper restarts" nb_helper_start "$policy"
for bdf in "$rx" "$tx" "$victim_nic"; do
  probe_as_user "reclaim-${bdf##*:}" "$bdf"
  nb_check "$bdf can be claimed and locked down again" grep -q "^locked cfg: $bdf vendor=0x1af4\$" "$probe_log"
  nb_check "$bdf restored to virtio-pci" wait_restored "$bdf"
done
exit "$NB_FAILED"
