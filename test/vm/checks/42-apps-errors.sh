#!/bin/bash
# timeout: 240
# The apps' error paths against a live helper, as the unprivileged user:
# a device the policy does not grant, devices that do not exist, a pool over
# the policy's limit, a NIC another app holds, a partial claim. Each gives a
# clear message with the helper's reason and a non-zero exit, and leaves the
# NIC with its kernel driver. A bad command line claims nothing.
. "$NB_SRC/test/vm/lib.sh"
. "$NB_SRC/test/apps/vm-lib.sh"

nics=($NB_NICS)
granted=${nics[0]} small_pool=${nics[1]} refused=${nics[2]}

policy=$NB_OUT/policy.conf
echo "allow user:$NB_UID pci:$granted pool=256M" >"$policy"
echo "allow user:$NB_UID pci:$small_pool pool=4M" >>"$policy"
NB_HELPER_LOG=$NB_OUT/helper.log nb_helper_start "$policy" || exit 1

# expect_failure NAME STATUS REGEX APP ARGS...: the app exits with STATUS
# and its stderr matches REGEX.
expect_failure() {
  local name=$1 status=$2 regex=$3
  shift 3
  apps_start "$name" "$@"
  apps_wait "$name"
  echo "--- $name (exit ${APP_RC[$name]}):"
  cat "$APPS_TMP/$name.err"
  nb_check "$name exits $status" test "${APP_RC[$name]}" -eq "$status"
  nb_check "$name says /$regex/" grep -Eq -- "$regex" "$APPS_TMP/$name.err"
}

# nic_back_on_kernel BDF: the helper gave the NIC back (within 15 s).
nic_back_on_kernel() {
  local tenths
  for ((tenths = 0; tenths < 150; tenths++)); do
    [[ $(nb_nic_driver "$1") == virtio-pci ]] && return 0
    sleep 0.1
  done
  return 1
}

expect_failure refused 1 \
  "cannot claim $refused: nicbox-helper: policy .*uid $NB_UID .*$refused" \
  capture --dev "$refused" --verify
nb_check "$refused stays on virtio-pci" test "$(nb_nic_driver "$refused")" == virtio-pci

expect_failure no_such_pci 1 "cannot claim 0000:00:1f.7: nicbox-helper: .*0000:00:1f.7" \
  pktgen --dev 0000:00:1f.7
expect_failure no_such_if 1 "cannot claim nosuch0: nicbox-helper: .*'nosuch0'" \
  pktgen --dev nosuch0

expect_failure pool_limit 1 "cannot get a [0-9]+ MiB DMA pool: nicbox-helper: .*policy's limit" \
  capture --dev "$small_pool" --verify
nb_check "$small_pool is given back to virtio-pci" nic_back_on_kernel "$small_pool"

# A partial claim: fwd gets the first NIC, is refused the second, and the
# helper gives the first one back.
expect_failure fwd_partial 1 "cannot claim $refused: nicbox-helper: policy .*$refused" \
  fwd --dev "$granted" --dev "$refused"
nb_check "$granted is given back to virtio-pci" nic_back_on_kernel "$granted"

# A NIC held by a running app is busy for a second one.
apps_start holder capture --dev "$granted" --verify --duration 120
apps_wait_ready holder || exit 1
expect_failure busy 1 "cannot claim $granted: nicbox-helper: .*busy.*uid=$NB_UID" \
  pktgen --dev "$granted"
apps_stop holder
nb_check "the holder exits 0 on SIGTERM" test "${APP_RC[holder]}" -eq 0
nb_check "the holder printed its final stats" \
  test "$(apps_final holder "$granted" final)" == true
nb_check "$granted is given back to virtio-pci" nic_back_on_kernel "$granted"

# Not an error, for contrast: --duration ends a run with status 0, and the
# text format (no --json) has its per-second and final lines.
nb_as_user "$APPS/nicbox-capture" --socket "$NB_SOCK" --dev "$granted" --verify \
  --duration 3 >"$APPS_TMP/text.out" 2>"$APPS_TMP/text.err"
rc=$?
cat "$APPS_TMP/text.out" "$APPS_TMP/text.err"
nb_check "capture --duration 3 exits 0" test "$rc" -eq 0
nb_check "a per-second text line" grep -Eq "^ *[0-9]+\.[0-9]s $granted rx [0-9.]+ Mpps [0-9.]+ Mbit/s \| tx [0-9.]+ Mpps [0-9.]+ Mbit/s \| drops 0 errors 0 faults 0 captured 0 valid 0 lost 0 duplicated 0 reordered 0 corrupt 0 foreign 0$" "$APPS_TMP/text.out"
nb_check "a final text line after about 3 s" grep -Eq "^final +[34]\.[0-9]s $granted rx 0 pkts, " "$APPS_TMP/text.out"

# A usage error claims nothing: the helper logs no new claim.
claims=$(grep -c ' claimed ' "$NB_OUT/helper.log")
expect_failure usage 2 "--size: 10 is out of range" pktgen --dev "$granted" --size 10
nb_check "a usage error claims nothing" \
  test "$(grep -c ' claimed ' "$NB_OUT/helper.log")" -eq "$claims"
nb_check "the helper stops cleanly" nb_helper_stop
