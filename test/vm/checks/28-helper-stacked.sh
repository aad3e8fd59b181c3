#!/bin/bash
# timeout: 180
# "NIC in use" sees devices stacked on the NIC's netdev and ignores what
# every IPv6 link has: a macvlan and a VLAN on it with an address (or a
# route) make the claim fail naming them; without it the claim succeeds; a
# plain up link with only its IPv6 link-local address and routes is free.
. "$NB_SRC/test/vm/lib.sh"
. "$NB_SRC/test/privsep/vm_helper_lib.sh"

a=${nics[0]}
write_policy "allow user:$NB_UID pci:$a"
nb_check "nicbox-helper starts" nb_helper_start "$policy"
# Leave the link down, as the other checks found it.
nb_on_exit 'ip link del nbmv0 2>/dev/null; ip link del nbvl7 2>/dev/null; ip link set "$(nic_ifname "$a")" down'

# A fresh netdev name after every restore.
up() {
  eth=$(nic_ifname "$a")
  ip link set "$eth" up
}
ll_ready() { ip -6 addr show dev "$eth" scope link | grep -q fe80; }

up
nb_check "$eth is up with an IPv6 link-local address" wait_for ll_ready
ip -6 route show table all dev "$eth"
probe_as_user plain "$a"
nb_check "a plain up link with only link-local IPv6 is claimable" test "$probe_rc" -eq 0
nb_check "$a restored" wait_restored "$a"

up
nb_check "macvlan on $eth" ip link add nbmv0 link "$eth" type macvlan mode bridge
ip link set nbmv0 up
ip addr add 192.0.2.1/24 dev nbmv0
probe_as_user macvlan "$a"
nb_check "claim refused while the macvlan has an address" test "$probe_rc" -eq 1
nb_check "... naming nbmv0 (EBUSY)" grep -q "in use: nbmv0 is up with .*EBUSY" "$probe_log"
nb_check "$a still on virtio-pci" restored "$a"
ip addr flush dev nbmv0 scope global
probe_as_user macvlan-bare "$a"
nb_check "claim accepted once the macvlan has no address" test "$probe_rc" -eq 0
nb_check "$a restored" wait_restored "$a"

up
nb_check "VLAN 7 on $eth" ip link add link "$eth" name nbvl7 type vlan id 7
ip link set nbvl7 up
ip -6 addr add 2001:db8::1/64 dev nbvl7 nodad
probe_as_user vlan "$a"
nb_check "claim refused while the VLAN has an address" test "$probe_rc" -eq 1
nb_check "... naming nbvl7" grep -q "in use: nbvl7 is up" "$probe_log"
ip -6 addr flush dev nbvl7 scope global
ip -6 route add 2001:db8:1::/48 dev nbvl7
probe_as_user vlan-route "$a"
nb_check "claim refused while a route goes through the VLAN" grep -q "in use: nbvl7 is up" "$probe_log"
ip -6 route del 2001:db8:1::/48 dev nbvl7
probe_as_user vlan-bare "$a"
nb_check "claim accepted once the VLAN has no address or route" test "$probe_rc" -eq 0
nb_check "$a restored" wait_restored "$a"
nb_check "$a has a netdev again" test -n "$(nic_ifname "$a")"
exit "$NB_FAILED"
