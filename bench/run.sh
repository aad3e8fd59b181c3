#!/bin/bash
# `make bench`: every benchmark, one after the other; each prints its own
# table (and writes its section of docs/performance.md). A failing one does
# not stop the others; the exit status says whether any failed.
#
#   bench/run.sh [BUILD_DIR]    (default REPO/build, for the VM benchmark)
set -u
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$src/build}

benches=("$src/bench/vm-fwd.sh" "$src/bench/vm-irq.sh")
for script in "$src"/bench/*-bench.sh; do
  [[ -e $script ]] && benches+=("$script")
done

failed=()
for script in "${benches[@]}"; do
  name=$(basename "$script")
  echo "=== bench: $name"
  if [[ $name == vm-*.sh ]]; then
    bash "$script" "$build" || failed+=("$name")
  else
    bash "$script" || failed+=("$name")
  fi
done
if ((${#failed[@]})); then
  echo "bench: failed: ${failed[*]}" >&2
  exit 1
fi
echo "bench: all ${#benches[@]} benchmarks ran"
