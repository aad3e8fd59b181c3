#!/bin/bash
# timeout: 240
# nicbox-helper end to end, helper as root and the client as NB_UID: claim
# (by PCI address and by interface name), a hugepage pool, the device fd,
# BAR mapping, lockdown, device registers read after lockdown; `status`
# shows the holder; open() after lockdown kills the client; after release
# the NIC is back on virtio-pci with its hugepages returned.
. "$NB_SRC/test/vm/lib.sh"
. "$NB_SRC/test/privsep/vm_helper_lib.sh"

a=${nics[0]} b=${nics[1]}
write_policy "allow user:$NB_UID pci:$a pool=64M
allow user:$NB_UID pci:$b pool=64M"
free_before=$(huge_free)
nb_check "nicbox-helper starts" nb_helper_start "$policy"

probe_as_user claim "$a" --pool $((16 << 20))
nb_check "probe ran to the end" test "$probe_rc" -eq 0
nb_check "claimed $a" grep -q "^claimed: 0 $a\$" "$probe_log"
nb_check "16 MiB pool of 2 MiB hugepages" grep -q "^pool: size=16777216 page=2097152 iova=0x" "$probe_log"
nb_check "device fd handed over" grep -q "^ready: 1 device fds" "$probe_log"
nb_check "lockdown succeeded" grep -q "^lockdown: ok" "$probe_log"
nb_check "config space read after lockdown" grep -q "^locked cfg: $a vendor=0x1af4\$" "$probe_log"
nb_check "BAR register read after lockdown" grep -Eq "^locked mmio: $a num_queues=[1-9][0-9]*\$" "$probe_log"
nb_check "pool memory written and read" grep -q "^pool byte: 0x5a\$" "$probe_log"
nb_check "$a restored to virtio-pci" wait_restored "$a"
nb_check "hugepages returned ($free_before free)" wait_huge_free "$free_before"

ifname=$(nic_ifname "$b")
nb_check "$b has a netdev" test -n "$ifname"
probe_as_user by-ifname "$ifname"
nb_check "claim by interface name $ifname" grep -q "^locked cfg: $b vendor=0x1af4\$" "$probe_log"
nb_check "$b restored to virtio-pci" wait_restored "$b"
nb_check "$b has its netdev back" test -n "$(nic_ifname "$b")"

# While a client holds the NIC, `status` (run unprivileged) names it.
nb_check "a client holds $a" start_holder holder "$a" 30
nb_as_user "$NB_BUILD/privhelper/nicbox-helper" status --policy "$policy" >"$NB_OUT/status.txt" 2>&1
cat "$NB_OUT/status.txt"
nb_check "status shows $a on vfio-pci, run by virtio-net, claimable, held by uid $NB_UID" \
  grep -Eq "^$a +- +vfio-pci +virtio-net +[0-9]+ +yes +uid=$NB_UID pid=" "$NB_OUT/status.txt"
nb_check "status shows ${nics[2]} not claimable" grep -Eq "^${nics[2]} .* no +-\$" "$NB_OUT/status.txt"
stop_holder
nb_check "$a restored after the holder ended" wait_restored "$a"

# open() after lockdown: the seccomp filter kills the process (SIGSYS = 31).
probe_as_user try-open "$a" --try-open
nb_check "open() after lockdown killed the client with SIGSYS" test "$probe_rc" -eq $((128 + 31))
nb_check "the client did not survive open()" not_grep "returned" "$probe_log"
nb_check "$a restored after the killed client" wait_restored "$a"
nb_check "hugepages returned after all clients" wait_huge_free "$free_before"
exit "$NB_FAILED"
