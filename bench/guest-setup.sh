# Shared start of the VM benchmarks' guest scripts (bench/vm-*-guest.sh):
# a fresh NB_OUT=$NB_RESULTS/$bench_name, writable by every user, and the
# testbed's libraries. Source it (not from a function: the libraries
# declare global arrays) after setting bench_name.
set -u
. "$NB_SRC/test/vm/lib.sh"
export NB_OUT=$NB_RESULTS/$bench_name
rm -rf "$NB_OUT"
mkdir -p "$NB_OUT"
chmod 1777 "$NB_OUT"
. "$NB_SRC/test/apps/vm-lib.sh"
. "$NB_SRC/test/vm/testpmd-lib.sh"
. "$NB_SRC/test/vm/traffic-lib.sh"
