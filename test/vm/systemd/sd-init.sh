#!/bin/bash
# PID 1 of the PID, mount and cgroup namespaces test/vm/checks/65-systemd-units.sh
# creates: a cgroup2 view rooted at the check's cgroup, a tmpfs /run with the
# unit directory UNITS copied in, then systemd itself. SYSTEMD_UNIT_PATH makes
# that directory the only one systemd reads (no unit of the host's boot);
# container= tells it not to act as the machine's init.
#
#   script -qfec "unshare --pid ... --fork sd-init.sh UNITS" LOG
set -eu
umount /sys/fs/cgroup # the view from outside; mounted again from inside
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t tmpfs -o mode=755 tmpfs /run
mkdir /run/nb-units
cp -a "$1/." /run/nb-units/
# systemd in a container logs to /dev/console, and services inherit it:
# make that our terminal (the pty script(1) gives us, copied to the check's log).
mount --bind "$(tty)" /dev/console
export SYSTEMD_UNIT_PATH=/run/nb-units container=nicbox-testbed
exec /lib/systemd/systemd --system --unit=nicbox-testbed.target --log-target=console \
  --log-level=info --default-standard-output=inherit --default-standard-error=inherit
