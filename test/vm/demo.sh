#!/bin/bash
# `make demo`: boot the testbed and run demo-guest.sh in it with its output
# live on this terminal: nicbox-pktgen -> nicbox-fwd -> receiver as an
# unprivileged user, then the same traffic through DPDK testpmd, and the two
# forwarders' throughput as a ratio.
#
#   demo.sh [BUILD_DIR]     (default: REPO/build, as `make` builds it)
# NB_DEMO_SECONDS sets each round's traffic time (default 20).
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${1:-$src/build}

missing=()
for binary in privhelper/nicbox-helper apps/nicbox-pktgen apps/nicbox-fwd apps/nicbox-capture; do
  [[ -x $build/$binary ]] || missing+=("$build/$binary")
done
if ((${#missing[@]})); then
  echo "demo: not built: ${missing[*]} (run make first)" >&2
  exit 1
fi
command -v dpdk-testpmd >/dev/null || { echo "demo: dpdk-testpmd not found (make deps)" >&2; exit 1; }

echo "demo: booting the QEMU testbed (TCG, emulated intel-iommu, 4 virtio-net NICs); about 3 minutes"
exec "$src/test/vm/boot.sh" --build "$build" --results "$build/vm-demo" --timeout 900 \
  --run env NB_DEMO_SECONDS="${NB_DEMO_SECONDS:-20}" bash test/vm/demo-guest.sh
