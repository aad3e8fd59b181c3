# Shell helpers for nicbox-devfuzz in the testbed guest: check 90-devfuzz
# and `make devfuzz` (test/devfuzz/guest-run.sh). Source after
# test/vm/lib.sh and test/apps/vm-lib.sh.
#
# The pairs: the NIC under test first, its hub partner second
# (docs/testbed.md: 04 <-> 05 on hub 0, 02 <-> 08 on hub 2, and the
# virtio-net NICs with packed rings 03 <-> 09 on hub 4).

nics=($NB_NICS)
igbs=($NB_IGB_NICS)
packed=($NB_PACKED_NICS)
DF_VIRTIO=("${nics[1]}" "${nics[0]}")
DF_IGB=("${igbs[1]}" "${igbs[0]}")
DF_PACKED=("${packed[1]}" "${packed[0]}")

# df_dmar_faults: DMAR fault reports in the kernel log so far (the kernel
# rate-limits these lines: a lower bound) and the fault interrupts the
# IOMMU raised (/proc/interrupts, "DMAR-MSI"), as "LINES IRQS".
df_dmar_faults() {
  local lines irqs
  lines=$(dmesg | grep -c 'DMAR: \[DMA \(Read\|Write\)')
  irqs=$(awk '/DMAR/ { for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) n += $i } END { print n + 0 }' /proc/interrupts)
  echo "$lines $irqs"
}

# df_begin [keep-vfio]: a policy for the pairs, the helper, and the DMAR
# counts so far (DF_DMAR0, DF_IRQ0) for df_dmar_since. With keep-vfio the
# NICs stay on vfio-pci between runs (no kernel driver unbind and probe per
# claim: the testbed's slowest step); df_end gives them back.
df_begin() {
  local bdf
  : >"$NB_OUT/policy.conf"
  for bdf in "${DF_VIRTIO[@]}" "${DF_IGB[@]}" "${DF_PACKED[@]}"; do
    echo "allow user:$NB_UID pci:$bdf pool=256M ${1:-}" >>"$NB_OUT/policy.conf"
  done
  [[ ${1:-} == keep-vfio ]] && NB_RELEASE_DRIVER=vfio-pci
  NB_HELPER_LOG=$NB_OUT/helper.log nb_helper_start "$NB_OUT/policy.conf" || return 1
  read -r DF_DMAR0 DF_IRQ0 < <(df_dmar_faults)
}

# df_end: stop the helper, give every NIC back to its kernel driver, and
# check that each is released (its driver back, the helper's lock free).
df_end() {
  local bdf
  nb_check "the helper stops cleanly" nb_helper_stop
  NB_RELEASE_DRIVER=
  for bdf in "${DF_VIRTIO[@]}" "${DF_IGB[@]}" "${DF_PACKED[@]}"; do
    nb_bind_kernel "$bdf"
    nb_check "$bdf is released to $(nb_kernel_driver "$bdf")" nb_wait_released "$bdf"
  done
}

# df_dmar_since: "LINES IRQS" of DMAR faults since df_begin.
df_dmar_since() {
  local lines irqs
  read -r lines irqs < <(df_dmar_faults)
  echo "$((lines - DF_DMAR0)) $((irqs - DF_IRQ0))"
}

# df_guest_unhealthy: kernel log lines that mean the guest is not well.
df_guest_unhealthy() {
  dmesg | grep -E 'BUG:|Oops|Kernel panic|general protection|rcu.*stall|hung_task|Call Trace' || true
}

# df_run NAME SECONDS PAIR-VAR ARGS...: nicbox-devfuzz as NB_UID in the
# background on the pair named by PAIR-VAR (DF_VIRTIO, DF_IGB or DF_PACKED),
# once the pair is free.
df_run() {
  local name=$1 secs=$2 pair=$3
  local -n p=$pair
  shift 3
  nb_wait_released "${p[@]}"
  apps_start "$name" devfuzz --dev "${p[0]}" --dev "${p[1]}" --duration "$secs" "$@"
}

# df_outcomes NAME: "case outcome" per case, in order.
df_outcomes() {
  jq -r 'select(.case != null) | "\(.case) \(.mode) \(.outcome) \(.stray_write)"' "$APPS_TMP/$1.json"
}

# df_traffic_start NAME SENDER RECEIVER COUNT: capture --verify on the
# receiver, then pktgen COUNT frames from the sender, in the background;
# df_traffic_check NAME RECEIVER COUNT then waits and checks that every
# frame arrived once and intact. Order is not demanded: on a loaded host
# QEMU's hub swaps two frames now and then (docs/testbed.md), which capture
# reports as reordered (exit 3). Several pairs can run at once.
df_traffic_start() {
  local name=$1 tx=$2 rx=$3 count=$4
  nb_wait_released "$tx" "$rx"
  apps_start "$name-capture" capture --dev "$rx" --verify --expect "$count" \
    --count "$count" --duration 120
  apps_wait_ready "$name-capture" || return 1
  apps_start "$name-pktgen" pktgen --dev "$tx" --count "$count" --rate 500 \
    --duration 120
}

df_traffic_check() {
  local name=$1 rx=$2 count=$3 field valid lost duplicated corrupt faults
  apps_wait "$name-pktgen"
  apps_wait "$name-capture"
  nb_check "$name: pktgen exits 0" test "${APP_RC[$name-pktgen]}" -eq 0
  nb_check "$name: capture --verify exits 0 or 3" test "${APP_RC[$name-capture]}" -eq 0 -o \
    "${APP_RC[$name-capture]}" -eq 3
  # One jq for the five fields (each jq run costs most of a second here).
  read -r valid lost duplicated corrupt faults < <(jq -r --arg dev "$rx" \
    'select(.final == true and .dev == $dev) |
     "\(.valid) \(.lost) \(.duplicated) \(.corrupt) \(.faults)"' \
    "$APPS_TMP/$name-capture.json")
  nb_check "$name: capture on $rx got $count valid frames (got '${valid:-}')" \
    test "${valid:-}" == "$count"
  for field in lost duplicated corrupt faults; do
    nb_check "$name: capture on $rx: $field is 0 (got '${!field:-}')" test "${!field:-}" == 0
  done
}

# df_traffic NAME SENDER RECEIVER COUNT: one pair, start to check.
df_traffic() {
  df_traffic_start "$@"
  df_traffic_check "$1" "$3" "$4"
}
