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
export NB_MQ_NICS="0000:00:0e.0 0000:00:0f.0"
export NB_PACKED_NICS="0000:00:03.0 0000:00:09.0"
export NB_UID=1000 NB_GID=1000
export NB_SOCK=/run/nicbox/helper.sock NICBOX_SOCKET=/run/nicbox/helper.sock
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/tmp LANG=C.UTF-8 TERM=${TERM:-linux}

echo "guest_main_start $(date +%s.%N)" >>"$results/times"
hostname nicbox-vm
ip link set lo up

cd "$NB_SRC" || exit 1

# Checks run the apps as NB_UID straight from these trees (guest-init.sh
# makes their ancestors traversable); say so plainly if one still is not.
for dir in "$NB_SRC" "$NB_BUILD" "$NB_CHECKS_DIR"; do
  setpriv --reuid="$NB_UID" --regid="$NB_GID" --clear-groups test -r "$dir" -a -x "$dir" && continue
  path=
  for comp in ${dir//\// }; do
    path=$path/$comp
    setpriv --reuid="$NB_UID" --regid="$NB_GID" --clear-groups test -r "$path" -a -x "$path" || break
  done
  echo "nb-vm: uid $NB_UID cannot read $dir in the guest: $(stat -c '%A %U:%G %n' "$path")." \
    "Make that directory readable for others (chmod o+rx), or use a clone or build tree that is." |
    tee "$results/guard"
  exit 1
done
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
