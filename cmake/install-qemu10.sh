#!/bin/sh
# install-qemu10.sh - make sure qemu-system-x86_64 is QEMU 10.x (root).
#
# The testbed needs QEMU 10: its igb device (Intel 82576) is the one Intel
# NIC model we did not write. Debian 12 ships QEMU 7.2; bookworm-backports
# has 10.x built for Debian 12. Backports are pinned at priority 100 by
# Debian, so adding the suite upgrades nothing by itself: only the package
# named with -t bookworm-backports comes from it.
set -eu
want_major=10
have=$(qemu-system-x86_64 --version 2>/dev/null | sed -n 's/^QEMU emulator version \([0-9]*\)\..*/\1/p')
if [ "${have:-0}" -ge "$want_major" ]; then
	echo "deps: QEMU $(qemu-system-x86_64 --version | sed -n '1s/^QEMU emulator version //p') is installed"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: the testbed needs QEMU >= $want_major (have ${have:-none}); installing needs root: run 'sudo make deps'" >&2
	exit 1
fi
list=/etc/apt/sources.list.d/nicbox-bookworm-backports.sources
if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
	echo "deps: adding the bookworm-backports suite ($list) for QEMU $want_major"
	cat >"$list" <<'SRC'
# Added by nicbox's `make deps`: QEMU 10 for the testbed (igb device model).
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
	-t bookworm-backports qemu-system-x86
qemu-system-x86_64 --version | head -n 1
