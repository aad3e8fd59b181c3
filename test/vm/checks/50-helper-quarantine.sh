#!/bin/bash
# timeout: 240
# A worker that passes its device fd to a process that outlives the session
# (claim_probe --leak forks a child keeping only the device fd): the session
# still ends, the NIC stays quarantined on vfio-pci, `status` names the
# quarantine and the session's uid and pid, a claim of it is refused, and
# SIGTERM stops the helper in under 5 s. Once the fd's holder is gone the
# NIC goes back to virtio-pci by itself (the helper need not run).
. "$NB_SRC/test/vm/lib.sh"
. "$NB_SRC/test/privsep/vm_helper_lib.sh"

a=${nics[0]}
write_policy "allow user:$NB_UID pci:$a"
NB_HELPER_LOG=$NB_OUT/helper.log
nb_check "nicbox-helper starts" nb_helper_start "$policy"

probe_as_user leak "$a" --leak 120
leaker=$(sed -n 's/^leaker: //p' "$probe_log")
nb_on_exit '[[ -n $leaker ]] && kill -KILL $leaker 2>/dev/null'
nb_check "the probe ran to the end" test "$probe_rc" -eq 0
nb_check "a child ($leaker) keeps the device fd" test -n "$leaker" -a -d "/proc/$leaker"
session_over() { grep -q "quarantined on vfio-pci" "$NB_HELPER_LOG"; }
nb_check "the session ends with $a quarantined" wait_for session_over
# (a session child that has exited stays a zombie until the next accept)
nb_check "no live session child is left" wait_for bash -c "! pgrep -r D,R,S -P $NB_HELPER_PID >/dev/null"
# vfio-pci's remove runs (its driver link is gone) and waits for the fd.
nb_check "$a is not given back to virtio-pci" test "$(nb_nic_driver "$a")" != virtio-pci
nb_as_user "$NB_BUILD/privhelper/nicbox-helper" status --policy "$policy" >"$NB_OUT/status.txt" 2>&1
cat "$NB_OUT/status.txt"
nb_check "status shows $a quarantined with the session's uid" \
  grep -Eq "^$a .* quarantined.* uid=$NB_UID pid=[0-9]+" "$NB_OUT/status.txt"
probe_as_user refused "$a"
nb_check "a claim of the quarantined $a is refused (EBUSY)" grep -q "quarantined.*EBUSY" "$probe_log"

nb_check "the fd's holder $leaker still has it" kill -0 "$leaker"
t0=$(date +%s%N)
nb_helper_stop
t1=$(date +%s%N)
ms=$(((t1 - t0) / 1000000))
echo "helper stopped ${ms} ms after SIGTERM"
nb_check "SIGTERM stops the helper in under 5 s (${ms} ms)" test "$ms" -lt 5000

nb_check "$a still quarantined" test "$(nb_nic_driver "$a")" != virtio-pci
kill -KILL "$leaker"
nb_check "$a back on virtio-pci once the fd's holder is gone" wait_restored "$a"
nb_check "no journal left" test ! -e "/run/nicbox/state/$a.journal"
nb_check "nicbox-helper restarts" nb_helper_start "$policy"
probe_as_user after "$a"
nb_check "$a claimable again" test "$probe_rc" -eq 0
nb_check "$a restored" wait_restored "$a"
exit "$NB_FAILED"
