#!/bin/bash
# tapnet.sh CMD [ARG...]: give the testbed's multi-queue virtio-net NICs
# (slots 0e and 0f, NB_MQ_NICS in the guest) their backend, then exec CMD
# (QEMU). boot.sh starts it under `unshare --net`, so everything below lives
# in a network namespace of its own: a bridge nbbr joining two multi-queue
# taps nbtap0e and nbtap0f, which QEMU opens with
# `-netdev tap,ifname=...,queues=N,vhost=off`. The namespace, the bridge and
# the taps go away with the last process in it, QEMU, on every exit path
# (power-off, timeout, SIGKILL): nothing to tear down, nothing seen by the
# host's own network or by another testbed booted beside this one.
#
# Nothing but the guest's frames crosses the bridge (docs/testbed.md): IPv6
# is off in the namespace before any interface exists (no router
# solicitations, MLD reports or DAD from the bridge or the taps), the bridge
# has no address, no STP (no BPDUs) and no multicast snooping (no IGMP/MLD
# queries).
set -euo pipefail

die() { echo "tapnet.sh: $*" >&2; exit 2; }
[[ -c /dev/net/tun ]] || die "/dev/net/tun is missing: the multi-queue tap NICs need the tun driver (modprobe tun) and the device node (mknod /dev/net/tun c 10 200)"
(($#)) || die "usage: unshare --net -- $0 QEMU ARGS..."
[[ $(readlink /proc/self/ns/net) != "$(readlink /proc/1/ns/net)" ]] ||
  die "run me under 'unshare --net': I change the network namespace I run in"

sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip link add nbbr type bridge stp_state 0 forward_delay 0 mcast_snooping 0
for tap in nbtap0e nbtap0f; do
  ip tuntap add dev "$tap" mode tap multi_queue
  ip link set "$tap" master nbbr up
done
ip link set nbbr up
exec "$@"
