#!/bin/bash
# timeout: 240
# Regression check for the vCPU timer loss around igb rebinds
# (docs/testbed.md): one igb NIC goes igb -> vfio-pci -> igb six times,
# as the helper's claim and release do, and must come back with a netdev
# each time; both vCPUs must still take local timer interrupts afterwards.
# Before the testbed ran its guest in x2APIC mode, a guest hung in such a
# loop (once in 34 iterations, docs/testbed.md); here the check's time limit
# catches a hang.
. "$NB_SRC/test/vm/lib.sh"

igbs=($NB_IGB_NICS)
bdf=${igbs[2]}
loc() { awk '$1 == "LOC:" { print $2, $3 }' /proc/interrupts; }

nb_check "the guest runs its local APICs in x2APIC mode" grep -q 'x2apic enabled' <(dmesg)
read -r loc0_before loc1_before < <(loc)
for ((i = 1; i <= 6; i++)); do
  t0=$SECONDS
  nb_check "cycle $i: $bdf binds to vfio-pci" nb_bind_vfio "$bdf"
  nb_check "cycle $i: $bdf goes back to igb" nb_bind_kernel "$bdf"
  NB_BOUND_NICS=()
  nb_check "cycle $i: $bdf has its netdev back" test -d "/sys/bus/pci/devices/$bdf/net"
  echo "  cycle $i: $((SECONDS - t0)) s"
done
# Let each vCPU run its tick for a moment, then compare.
taskset -c 0 sleep 0.5
taskset -c 1 sleep 0.5
read -r loc0_after loc1_after < <(loc)
echo "  local timer interrupts: cpu0 $loc0_before -> $loc0_after, cpu1 $loc1_before -> $loc1_after"
nb_check "vCPU 0 still takes timer interrupts" test "$loc0_after" -gt "$loc0_before"
nb_check "vCPU 1 still takes timer interrupts" test "$loc1_after" -gt "$loc1_before"
exit "$NB_FAILED"
