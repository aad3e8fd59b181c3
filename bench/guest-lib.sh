# Sourced first by the VM benchmarks' guest sides (bench/vm-*-guest.sh):
# the testbed's shell libraries and an empty NB_OUT (RESULTS/bench) that the
# apps, running as NB_UID, may write into.
set -u
. "$NB_SRC/test/vm/lib.sh"
export NB_OUT=$NB_RESULTS/bench
rm -rf "$NB_OUT"
mkdir -p "$NB_OUT"
chmod 1777 "$NB_OUT"
. "$NB_SRC/test/apps/vm-lib.sh"
. "$NB_SRC/test/vm/testpmd-lib.sh"
. "$NB_SRC/test/vm/traffic-lib.sh"
