#!/bin/bash
# ctest's view of one check after the vm_boot fixture has run them all.
#
#   report-check.sh RESULTS NAME              print the in-guest check's log,
#                                             exit with its status
#   report-check.sh RESULTS NAME HOST_SCRIPT  run the host-side follow-up with
#                                             NB_OUT = that check's output dir
# Exit 77 (skip) passes through; ctest shows it as skipped.
set -u
results=$1 name=$2 host_script=${3:-}
out=$results/checks/$name

if [[ ! -f $out/rc ]]; then
  echo "vm.$name: the check did not run in the last boot (no $out/rc);"
  echo "see the vm_boot test and $results/console.log"
  exit 1
fi
guest_rc=$(<"$out/rc")

if [[ -z $host_script ]]; then
  echo "---- $name, run inside the guest in $(<"$out/seconds") s, exit status $guest_rc ----"
  cat "$out/log"
  echo "---- end of $name ----"
  exit "$guest_rc"
fi

if ((guest_rc == 77)); then
  echo "vm.$name.host: skipped because the in-guest check $name was skipped:"
  grep -i skip "$out/log" | tail -n 5
  exit 77
fi
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export NB_OUT=$out NB_SRC=$src NB_GUEST_RC=$guest_rc
cd "$src" || exit 1
bash "$host_script"
