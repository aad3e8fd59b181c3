#!/bin/bash
# timeout: 180
# A client killed with SIGKILL while it holds a NIC and a hugepage pool:
# the helper notices the hang-up, the kernel resets the device as the
# client's device fd closes, the helper unmaps, frees and restores. The
# NIC's lock is free again within 1 s, a new client can claim it, every
# hugepage is back and the NIC ends on virtio-pci.
. "$NB_SRC/test/vm/lib.sh"
. "$NB_SRC/test/privsep/vm_helper_lib.sh"

a=${nics[0]}
write_policy "allow user:$NB_UID pci:$a pool=64M"
free_before=$(huge_free)
nb_check "nicbox-helper starts" nb_helper_start "$policy"

nb_check "client holds $a" start_holder victim "$a" 120 --pool $((32 << 20))
cat "$NB_OUT/victim.log"
nb_check "its 32 MiB pool pins 16 hugepages" test "$(huge_free)" -eq $((free_before - 16))

# The per-device lock the helper holds for a session is what makes a NIC busy.
lock_free() { flock -n -s "/run/nicbox/state/$a.lock" true; }
holder_shown() { ! lock_free; }
nb_check "the NIC's lock is held" holder_shown
t0=$(date +%s%N)
kill -KILL "$HOLDER_PID"
# Blocks until the helper drops the lock: no polling delay in the measurement.
flock -s -w 10 "/run/nicbox/state/$a.lock" true
t1=$(date +%s%N)
wait "$HOLDER_JOB" 2>/dev/null
HOLDER_JOB= HOLDER_PID=
ms=$(((t1 - t0) / 1000000))
echo "lock on $a free ${ms} ms after kill -9"
nb_check "$a claimable again within 1 s of kill -9 (took ${ms} ms)" test "$ms" -le 1000

probe_as_user again "$a"
nb_check "a new client claims $a" test "$probe_rc" -eq 0
nb_check "$a back on virtio-pci" wait_restored "$a"
nb_check "HugePages_Free back to $free_before" wait_huge_free "$free_before"
exit "$NB_FAILED"
