#!/bin/bash
# First program in the guest's chroot (the host root). Sets the environment
# the contract promises, then either runs every check (runner.sh) or one
# script with its output live on the console, as boot.sh asked in
# RESULTS/boot.env. Its exit makes the guest power off.
#
#   guest-main.sh RESULTS_DIR
set -u
results=$1
# shellcheck source=/dev/null
. "$results/boot.env" # NB_SRC NB_BUILD NB_MODE NB_RUN_ARGV NB_CHECKS_DIR

export NB_SRC NB_BUILD NB_CHECKS_DIR NB_RESULTS=$results
export NB_NICS="0000:00:04.0 0000:00:05.0 0000:00:06.0 0000:00:07.0"
export NB_IGB_NICS="0000:00:02.0 0000:00:08.0 0000:00:0a.0 0000:00:0c.0"
export NB_UID=1000 NB_GID=1000
export NB_SOCK=/run/nicbox/helper.sock NICBOX_SOCKET=/run/nicbox/helper.sock
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/tmp LANG=C.UTF-8 TERM=${TERM:-linux}

echo "guest_main_start $(date +%s.%N)" >>"$results/times"
hostname nicbox-vm
ip link set lo up

cd "$NB_SRC" || exit 1
case $NB_MODE in
  checks)
    "$NB_SRC/test/vm/runner.sh"
    ;;
  run)
    # Live: stdout/stderr go to the serial console, which boot.sh shows.
    echo "nb-vm: running ${NB_RUN_ARGV[*]}"
    "${NB_RUN_ARGV[@]}" 2>&1 | tee "$results/run.log"
    echo "${PIPESTATUS[0]}" >"$results/run.rc"
    ;;
  *)
    echo "nb-vm: unknown NB_MODE '$NB_MODE'"
    ;;
esac
echo "guest_main_end $(date +%s.%N)" >>"$results/times"
sync
