#!/bin/bash
# Run by 65-systemd-units.sh as the ExecStart of a copy of the shipped
# nicbox-helper.service (same sandbox, Type=oneshot): tries what a
# compromised helper would try and writes one "name: result" line per attempt
# to OUT (in /run/nicbox, the one directory it may write).
#
#   sandbox-probe.sh OUT OTHER_BDF WRITABLE_DIR
out=$1 other=$2 writable=$3
exec >"$out" 2>&1
try() { # try NAME CMD...: "NAME: allowed" or "NAME: denied (first error line)"
  local name=$1 err
  shift
  if err=$("$@" 2>&1); then echo "$name: allowed"; else echo "$name: denied (${err%%$'\n'*})"; fi
}
dev=/sys/bus/pci/devices/$other
cmd=$(dd if="$dev/config" bs=1 skip=4 count=2 status=none | od -An -tx1 | tr -d ' ')
# Rewrite another device's PCI command register with the value it has.
try config-write-other-device bash -c "printf '\\x${cmd:0:2}\\x${cmd:2:2}' | dd of=$dev/config bs=1 seek=4 conv=notrunc status=none"
try driver-override-other-device sh -c "echo > $dev/driver_override"
try link-change-any-netdev ip link set lo up
try signal-pid-1 kill -0 1
try dev-mem sh -c ': </dev/mem'
try sysctl-write sh -c 'echo 3 >/proc/sys/vm/drop_caches'
try write-outside-rw-paths touch "$writable/sandbox-probe-was-here"
try inet-socket bash -c ': </dev/tcp/127.0.0.1/1'
try mount mount -t tmpfs none /tmp
try read-pid-1-memory sh -c ': </proc/1/mem'
