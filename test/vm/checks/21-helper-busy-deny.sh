#!/bin/bash
# timeout: 180
# Access control: a second client's claim of a held NIC gets "busy" naming
# the holder's uid; a uid the policy does not name is refused; a NIC the
# policy does not list is refused; a group rule matches a supplementary
# group (SO_PEERGROUPS); protocol errors reach the client as text.
. "$NB_SRC/test/vm/lib.sh"
. "$NB_SRC/test/privsep/vm_helper_lib.sh"

a=${nics[0]} b=${nics[1]} c=${nics[2]}
other_uid=$((NB_UID + 1))
write_policy "allow user:$NB_UID pci:$a
allow user:$NB_UID pci:$b
allow group:4242 pci:$c"
nb_check "nicbox-helper starts" nb_helper_start "$policy"

nb_check "first client holds $a" start_holder holder "$a" 60
probe_as_user second "$a"
nb_check "second claim of $a fails" test "$probe_rc" -eq 1
nb_check "... with EBUSY naming the holder uid $NB_UID" \
  grep -Eq "^error: claim: nicbox-helper: $a is busy: held by uid=$NB_UID pid=[0-9]+ .*EBUSY" "$probe_log"

# uid the policy does not name (same group, so it may connect).
as_other() {
  setpriv --reuid="$other_uid" --regid="$NB_GID" --clear-groups --inh-caps=-all \
    --bounding-set=-all -- "$probe" --socket "$NB_SOCK" --dev "$@"
}
as_other "$b" >"$NB_OUT/other.log" 2>&1
rc=$?
cat "$NB_OUT/other.log"
nb_check "uid $other_uid is refused $b" test "$rc" -eq 1
nb_check "... at connect, with EACCES from the policy" \
  grep -Eq "^error: session: nicbox-helper: policy .* names uid $other_uid in no rule.*EACCES" "$NB_OUT/other.log"

probe_as_user unlisted "$c"
nb_check "uid $NB_UID is refused $c (only group 4242 may)" grep -q "EACCES" "$probe_log"

setpriv --reuid="$other_uid" --regid="$NB_GID" --groups=4242 --inh-caps=-all \
  --bounding-set=-all -- "$probe" --socket "$NB_SOCK" --dev "$c" >"$NB_OUT/group.log" 2>&1
rc=$?
cat "$NB_OUT/group.log"
nb_check "supplementary group 4242 may claim $c" test "$rc" -eq 0
nb_check "$c restored" wait_restored "$c"

probe_as_user nonexistent 0000:00:1f.7
nb_check "a missing device is ENODEV with a reason" grep -q "no PCI device 0000:00:1f.7.*ENODEV" "$probe_log"

stop_holder
nb_check "$a restored after the holder ended" wait_restored "$a"
probe_as_user after "$a"
nb_check "$a is claimable again" test "$probe_rc" -eq 0
nb_check "$a restored" wait_restored "$a"
exit "$NB_FAILED"
