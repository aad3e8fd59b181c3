#!/bin/bash
# timeout: 180
# The restore journal: a session child killed with SIGKILL while it holds a
# NIC leaves it on vfio-pci; the next claim puts it back first (so the NIC
# ends on virtio-pci, not on a "vfio-pci" recorded as original). Then the
# helper itself and its session killed mid-session: the restarted helper
# puts the NIC back before it serves. The journal directory is 0700 root.
. "$NB_SRC/test/vm/lib.sh"
. "$NB_SRC/test/privsep/vm_helper_lib.sh"

a=${nics[0]}
write_policy "allow user:$NB_UID pci:$a"
NB_HELPER_LOG=$NB_OUT/helper.log
nb_check "nicbox-helper starts" nb_helper_start "$policy"
session_of() { pgrep -r D,R,S -P "$NB_HELPER_PID"; }

nb_check "client holds $a" start_holder victim "$a" 60
nb_check "journal of $a is 0600 root" test "$(stat -c '%a %U' "/run/nicbox/state/$a.journal")" == "600 root"
cat "/run/nicbox/state/$a.journal"
session=$(session_of)
nb_check "session child found ($session)" test -n "$session"
kill -KILL $session
stop_holder
nb_check "$a left on vfio-pci by the dead session" test "$(nb_nic_driver "$a")" == vfio-pci
probe_as_user next "$a"
nb_check "the next claim of $a succeeds" test "$probe_rc" -eq 0
nb_check "... and $a ends on virtio-pci (journal replayed)" wait_restored "$a"
grep "replaying" "$NB_HELPER_LOG"

nb_check "client holds $a again" start_holder victim2 "$a" 60
session=$(session_of)
kill -KILL "$NB_HELPER_PID" $session
wait "$NB_HELPER_PID" 2>/dev/null
NB_HELPER_PID=
stop_holder
nb_check "$a left on vfio-pci by the dead helper" test "$(nb_nic_driver "$a")" == vfio-pci
nb_check "nicbox-helper restarts" nb_helper_start "$policy"
nb_check "$a back on virtio-pci after the restart" wait_restored "$a"
nb_check "no journal left" test ! -e "/run/nicbox/state/$a.journal"
probe_as_user after "$a"
nb_check "$a claimable after the restart" test "$probe_rc" -eq 0
nb_check "$a restored" wait_restored "$a"
exit "$NB_FAILED"
