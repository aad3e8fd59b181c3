#!/bin/bash
# Guest side of bench/virtio-bench.sh (it boots the testbed and runs this):
# on the packed NICs (NB_PACKED_NICS, hub 4: QEMU packed=on,event_idx=on),
# nicbox-pktgen on 03 sends 64-byte frames as fast as it goes to
# nicbox-capture --verify on 09, with the driver on split rings
# (NICBOX_VIRTIO_RING=split) and on packed rings, alternating (split packed,
# packed split, ...) in one boot. Each run's figure is the median of the
# receiver's one-second rates (traffic_steady_rate). Writes
# RESULTS/bench-packed/runs.tsv:   ring  run  pps
set -u
. "$NB_SRC/test/vm/lib.sh"
export NB_OUT=$NB_RESULTS/bench-packed
rm -rf "$NB_OUT"
mkdir -p "$NB_OUT"
chmod 1777 "$NB_OUT"
. "$NB_SRC/test/apps/vm-lib.sh"
. "$NB_SRC/test/vm/traffic-lib.sh"

runs=${NB_BENCH_RUNS:-3}
seconds=${NB_BENCH_SECONDS:-15}
tsv=$NB_OUT/runs.tsv
packed=($NB_PACKED_NICS)
printf 'ring\trun\tpps\n' >"$tsv"

# The testbed's packed NICs offer event idx; compare the rings with it on.
export NICBOX_VIRTIO_EVENT_IDX=${NICBOX_VIRTIO_EVENT_IDX:-on}
apps_policy "$NB_OUT/policy.conf" "${packed[@]}"
NB_HELPER_LOG=$NB_OUT/helper.log nb_helper_start "$NB_OUT/policy.conf" || traffic_die "nicbox-helper did not start"
# traffic_gen_round: generator on GEN, receiver on FWD_A.
traffic_use_nics "${packed[0]}" "${packed[1]}" "${packed[1]}" "${packed[0]}"

for ((run = 1; run <= runs; run++)); do
  if ((run % 2)); then order="split auto"; else order="auto split"; fi
  for ring in $order; do
    tag=$ring-$run
    echo "bench: $ring rings, run $run of $runs (${seconds} s)"
    export NICBOX_VIRTIO_RING=$ring # the apps inherit it (docs/virtio.md)
    traffic_gen_round nicbox "$seconds" "$tag"
    unset NICBOX_VIRTIO_RING
    pps=$(traffic_steady_rate "$APPS_TMP/$tag-rcv.json" json "${packed[1]}" rx_pps)
    [[ $ring == auto ]] && ring=packed
    printf '%s\t%s\t%s\n' "$ring" "$run" "$pps" >>"$tsv"
    echo "bench: $ring run $run: $pps frames/s received"
  done
done
nb_helper_stop
cat "$tsv"
