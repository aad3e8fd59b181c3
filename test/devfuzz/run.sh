#!/bin/bash
# make devfuzz: nicbox-devfuzz against QEMU's virtio-net and igb models in
# the testbed for DURATION seconds (default 1800; both models at once), then
# the findings into RESULTS (default build/devfuzz-results/UTC-TIMESTAMP):
#   summary.txt     the table docs/devfuzz.md shows, QEMU's and the guest's fate
#   findings/       one case file per finding (replay: nicbox-devfuzz --replay)
#   vm/             the boot's results: console.log, guest/ (JSON lines,
#                   stderr, dmesg.txt, summary.env)
# Environment: DURATION, SEED, BUILD (release tree, default build), RESULTS,
# MODES ("tx rx": the rings, DURATION split between them), MODELS ("virtio
# igb", or "packed": virtio-net with packed rings; run packed in a boot of
# its own, it can abort QEMU 10.0.2 and with it the other models' runs).
set -u
cd "$(dirname "$0")/../.." || exit 1
dur=${DURATION:-1800}
build=${BUILD:-build}
results=${RESULTS:-$build/devfuzz-results/$(date -u +%Y%m%dT%H%M%SZ)}
seed=${SEED:-$(date +%s)}
[[ $dur =~ ^[0-9]+$ && $dur -ge 10 ]] || { echo "devfuzz: DURATION must be at least 10 seconds, got '$dur'" >&2; exit 2; }
[[ -x $build/apps/nicbox-devfuzz ]] || { echo "devfuzz: $build/apps/nicbox-devfuzz is not built (make build-release)" >&2; exit 1; }
mkdir -p "$results/findings"
results=$(cd "$results" && pwd)
echo "devfuzz: $dur s, seed $seed, results in $results"
# QEMU's own complaints (virtio_error and the IOMMU's) go to its stderr.
test/vm/boot.sh --build "$build" --results "$results/vm" --timeout $((dur + 900)) \
  --quiet --run test/devfuzz/guest-run.sh "$dur" "$seed" "${MODES:-tx rx}" \
  "${MODELS:-virtio igb}" 2>&1 | tee "$results/boot.log"
boot_rc=${PIPESTATUS[0]}

guest=$results/vm/guest
qemu="exited normally (the guest powered off)"
if ! grep -q guest_main_end "$results/vm/times" 2>/dev/null; then
  qemu="DID NOT FINISH: boot.sh status $boot_rc (see vm/console.log)"
fi
# One file per finding: a findings file is case files one after another,
# each starting with its '#' comment line.
for m in virtio igb packed; do
  [[ -s $guest/findings-$m.case ]] || continue
  awk -v dir="$results/findings" -v m="$m" '
    /^# nicbox-devfuzz / { n++; file = sprintf("%s/%s-%03d.case", dir, m, n) }
    { print > file }' "$guest/findings-$m.case"
done
# QEMU died: print the case after the last one a run reported as a case
# file. Cases run in order, so QEMU died in that case or a later one (the
# last lines can be lost with the guest): replay from there.
died_in() {
  local f=$1 m=$2 last
  last=$(jq -c 'select(.case != null)' "$f" | tail -n 1)
  [[ -n $last ]] || return 0
  "$build/apps/nicbox-devfuzz" --print --kind "$(jq -r 'select(.kind != null) | .kind' "$f" | tail -n 1)" \
    --mode "$(jq -r .mode <<<"$last")" --seed "$(jq -r .seed <<<"$last")" \
    --case "$(($(jq -r .case <<<"$last") + 1))" |
    sed "1i # nicbox-devfuzz $m: QEMU died in this case or a later one (the first case not reported)" \
      >"$results/findings/$m-qemu-died.case"
}
# The final stats line, or the last one before QEMU died.
table() {
  local m=$1 label=$2 mode f
  for mode in tx rx; do
    f=$guest/$mode-$m.json
    [[ -s $f ]] || f=$guest/$mode-$m.live.json
    [[ -s $f ]] || { echo "| $label | $mode | (no output) |"; continue; }
    [[ $f == *.live.json && $qemu == DID* ]] && died_in "$f" "$mode-$m"
    jq -rs --arg l "$label" --arg m "$mode" 'map(select(.cases != null)) | last |
      "| \($l) | \($m) | \(.time_s | floor) s\(if .final then "" else " (QEMU died)" end) | \(.cases) | \(.ok) | \(.device_errors) | \(.wedges) | \(.resets) | \(.stray_writes) | \(.dead) | \(.partner_resets) |"' "$f"
  done
}
{
  echo "nicbox-devfuzz run $(date -u +%Y-%m-%dT%H:%MZ), $dur s, seed $seed, QEMU $(qemu-system-x86_64 --version | head -n 1 | awk '{print $4}')"
  echo
  echo "| model | rings | time | cases | ok | device errors | wedged | VFIO resets | stray writes | dead | partner resets |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|"
  table virtio "virtio-net (05)"
  table igb "igb (08)"
  table packed "virtio-net packed (09)"
  echo
  cat "$guest/summary.env" 2>/dev/null
  echo "QEMU: $qemu"
  echo "findings: $(ls "$results/findings" | wc -l) case files"
  echo "guest run status: $(cat "$results/vm/run.rc" 2>/dev/null || echo none)"
  echo
  echo "QEMU's messages (numbers replaced by N), by count:"
  grep '^qemu-system' "$results/boot.log" | sed 's/[0-9][0-9]*/N/g' | sort | uniq -c | sort -rn
} | tee "$results/summary.txt"
[[ $boot_rc -eq 0 ]]
