# Traffic rounds for the demo and the VM benchmark: nicbox apps against DPDK
# testpmd on the same NICs, in one boot. Source after lib.sh,
# test/apps/vm-lib.sh (apps_* functions; files in APPS_TMP, on tmpfs) and
# testpmd-lib.sh. The helper must be running (traffic_start_helper).
#
#   forwarding:  pktgen 04 -> hub 0 -> FORWARDER 05->06 -> hub 1 -> receiver 07
#                (igb: 02 -> hub 2 -> 08->0a -> hub 3 -> 0c, traffic_use_nics)
#   generating:  GENERATOR 04 -> hub 0 -> receiver 05
#
# Pinning: the device under test (forwarder or generator) gets vCPU 1 to
# itself, the other apps share vCPU 0; testpmd's main lcore 0 only prints
# stats, lcore 1 does the work. Apps inherit the caller's CPU affinity.
# A round's files: $APPS_TMP/TAG-{pktgen,fwd,rcv}.json, TAG-testpmd.log.

# traffic_use_nics GEN FWD_A FWD_B RCV: the NICs of the rounds (default:
# NB_NICS in that order; the igb bench passes NB_IGB_NICS).
traffic_use_nics() {
  traffic_gen=$1 traffic_fwd_a=$2 traffic_fwd_b=$3 traffic_rcv=$4
}
traffic_use_nics $NB_NICS
taskset -p -c 0 $$ >/dev/null

traffic_die() { echo "traffic: $*"; exit 1; }

# traffic_start_helper: nicbox-helper with a policy giving NB_UID all NICs
# (virtio, igb and the packed-ring virtio NICs).
traffic_start_helper() {
  local app
  for app in pktgen fwd capture; do
    [[ -x $NB_BUILD/apps/nicbox-$app ]] || traffic_die "$NB_BUILD/apps/nicbox-$app is not built"
  done
  apps_policy "$NB_OUT/policy.conf" $NB_NICS ${NB_IGB_NICS:-} ${NB_PACKED_NICS:-}
  NB_HELPER_LOG=$NB_OUT/helper.log nb_helper_start "$NB_OUT/policy.conf" ||
    traffic_die "nicbox-helper did not start"
}

# traffic_app CPU NAME APP ARGS...: start an app as NB_UID on vCPU CPU and
# wait until it is ready.
traffic_app() {
  local cpu=$1 name=$2
  shift 2
  taskset -p -c "$cpu" $$ >/dev/null
  apps_start "$name" "$@"
  taskset -p -c 0 $$ >/dev/null
  apps_wait_ready "$name" || traffic_die "$name did not start (see $NB_OUT/$name.err)"
}

# traffic_release_to_kernel BDF...: wait until the helper has given the
# NICs back to their kernel driver (it does so when the session ends).
traffic_release_to_kernel() {
  local bdf tenths want
  for bdf; do
    want=$(nb_kernel_driver "$bdf")
    for ((tenths = 0; tenths < 300; tenths++)); do
      [[ $(nb_nic_driver "$bdf") == "$want" ]] && break
      sleep 0.1
    done
    [[ $(nb_nic_driver "$bdf") == "$want" ]] || traffic_die "$bdf did not go back to $want"
  done
}

# traffic_testpmd_start TAG BDF... -- ARGS: testpmd on vfio-pci-bound NICs.
traffic_testpmd_start() {
  local tag=$1 nics=()
  shift
  while [[ $1 != -- ]]; do
    nics+=("$1")
    shift
  done
  nb_bind_vfio "${nics[@]}" || traffic_die "cannot bind ${nics[*]} to vfio-pci"
  nb_testpmd_start "$APPS_TMP/$tag-testpmd.log" "${nics[@]}" "$@" ||
    traffic_die "testpmd did not start"
}

traffic_testpmd_stop() {
  nb_testpmd_stop
  nb_bind_kernel "${NB_BOUND_NICS[@]}" || traffic_die "cannot give ${NB_BOUND_NICS[*]} back to their kernel driver"
  NB_BOUND_NICS=()
}

# traffic_fwd_round nicbox|testpmd SECONDS TAG [WATCH_CMD [READY_CMD]]: one
# forwarding round; READY_CMD runs once the forwarder is up, WATCH_CMD (a
# live display) while pktgen sends, with the pktgen app's name.
# TRAFFIC_FWD_ARGS: more options for nicbox-fwd (e.g. --rx-mode poll).
# TRAFFIC_RCV_ARGS (default --verify) and TRAFFIC_GEN_ARGS (default none)
# are the receiver's and pktgen's own options (word-split).
traffic_fwd_round() {
  local forwarder=$1 seconds=$2 tag=$3 watch=${4:-} ready=${5:-}
  traffic_app 0 "$tag-rcv" capture --dev "$traffic_rcv" ${TRAFFIC_RCV_ARGS:---verify}
  if [[ $forwarder == nicbox ]]; then
    traffic_app 1 "$tag-fwd" fwd --dev "$traffic_fwd_a" --dev "$traffic_fwd_b" ${TRAFFIC_FWD_ARGS:-}
  else
    traffic_testpmd_start "$tag" "$traffic_fwd_a" "$traffic_fwd_b" -- --forward-mode=io
  fi
  [[ -z $ready ]] || $ready
  traffic_app 0 "$tag-pktgen" pktgen --dev "$traffic_gen" --duration "$seconds" ${TRAFFIC_GEN_ARGS:-}
  [[ -z $watch ]] || $watch "$tag-pktgen"
  apps_wait "$tag-pktgen"
  sleep 1 # the last frames through
  if [[ $forwarder == nicbox ]]; then
    apps_stop "$tag-fwd"
    traffic_release_to_kernel "$traffic_fwd_a" "$traffic_fwd_b"
  else
    traffic_testpmd_stop
  fi
  apps_stop "$tag-rcv"
  traffic_release_to_kernel "$traffic_rcv" "$traffic_gen"
}

# traffic_gen_round nicbox|testpmd SECONDS TAG: one generator round, 64-byte
# frames as fast as the generator goes. The receiver only counts
# (--discard): it does the same work for either generator's frames, where
# --verify would check every pktgen frame and pass testpmd's as foreign
# (about 8% of pktgen's rate when the receiver is what holds it back).
traffic_gen_round() {
  local generator=$1 seconds=$2 tag=$3
  traffic_app 0 "$tag-rcv" capture --dev "$traffic_fwd_a" --discard
  if [[ $generator == nicbox ]]; then
    traffic_app 1 "$tag-pktgen" pktgen --dev "$traffic_gen" --size 64 --duration "$seconds"
    apps_wait "$tag-pktgen"
  else
    traffic_testpmd_start "$tag" "$traffic_gen" -- --forward-mode=txonly --txpkts=64
    sleep "$seconds"
    traffic_testpmd_stop
  fi
  sleep 1
  apps_stop "$tag-rcv"
  traffic_release_to_kernel "$traffic_fwd_a" "$traffic_gen"
}

# traffic_steady_rate FILE json DEV FIELD | FILE testpmd PORT Rx-pps|Tx-pps:
# the median of the per-second rates while traffic flowed (non-zero
# seconds, without the first and the last, which are partial).
traffic_steady_rate() {
  local file=$1 kind=$2 key=$3 field=$4
  awk -v kind="$kind" -v key="$key" -v field="$field" '
    kind == "json" && index($0, "\"dev\":\"" key "\"") && !/"final":true/ {
      if (match($0, "\"" field "\":[0-9.]+")) {
        v = substr($0, RSTART + length(field) + 3, RLENGTH - length(field) - 3) + 0
        if (v > 0) r[n++] = v
      }
    }
    kind == "testpmd" && /NIC statistics for port/ { port = $(NF - 1) }
    kind == "testpmd" && $1 == field ":" && port == key && $2 > 0 { r[n++] = $2 }
    END {
      if (n >= 3) { lo = 1; hi = n - 2 } else { lo = 0; hi = n - 1 }
      m = 0
      for (i = lo; i <= hi; i++) s[m++] = r[i]
      if (m == 0) { print 0; exit }
      for (i = 1; i < m; i++) for (j = i; j > 0 && s[j - 1] > s[j]; j--) { t = s[j]; s[j] = s[j - 1]; s[j - 1] = t }
      print (m % 2) ? s[(m - 1) / 2] : (s[m / 2 - 1] + s[m / 2]) / 2
    }' "$file"
}
