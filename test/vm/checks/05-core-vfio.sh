#!/bin/bash
# timeout: 60
# libnicbox's VFIO backend (core/pci_vfio.c) on a real vfio-pci device,
# checked against sysfs: ids, config space, BAR mapping, command register,
# MSI-X count, close. No helper involved (the test program sets up VFIO).
. "$NB_SRC/test/vm/lib.sh"

nics=($NB_NICS)
bdf=${nics[3]}
check=$NB_BUILD/test/unit/nb_vfio_device_check

nb_check "$check is built" test -x "$check"
nb_check "$bdf bound to vfio-pci" nb_bind_vfio "$bdf"
nb_check "core VFIO backend on $bdf" "$check" "$bdf"
exit "$NB_FAILED"
