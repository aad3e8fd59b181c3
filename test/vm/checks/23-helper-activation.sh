#!/bin/bash
# timeout: 120
# systemd socket activation without systemd as PID 1: systemd-socket-activate
# listens (SOCK_SEQPACKET) and starts `nicbox-helper serve` with LISTEN_FDS
# and LISTEN_PID on the first connection; a client as NB_UID claims through it.
. "$NB_SRC/test/vm/lib.sh"
. "$NB_SRC/test/privsep/vm_helper_lib.sh"

a=${nics[0]}
command -v systemd-socket-activate >/dev/null || { echo "skip: systemd-socket-activate not installed"; exit 77; }
write_policy "allow user:$NB_UID pci:$a"
mkdir -p "$(dirname "$NB_SOCK")"
rm -f "$NB_SOCK"
systemd-socket-activate --seqpacket -l "$NB_SOCK" \
  "$NB_BUILD/privhelper/nicbox-helper" serve --policy "$policy" &
activator=$!
stop_activator() { kill -TERM "$activator" 2>/dev/null; wait "$activator" 2>/dev/null; }
nb_on_exit stop_activator
nb_check "activator listens" wait_for test -S "$NB_SOCK"
# The unit sets SocketGroup/SocketMode; systemd-socket-activate has no such options.
chgrp "$NB_GID" "$NB_SOCK" && chmod 0660 "$NB_SOCK"

probe_as_user activated "$a"
nb_check "claim through the activated helper" grep -q "^locked cfg: $a vendor=0x1af4\$" "$probe_log"
nb_check "the activated helper is nicbox-helper now" \
  grep -q nicbox-helper "/proc/$activator/cmdline"
nb_check "$a restored" wait_restored "$a"
exit "$NB_FAILED"
