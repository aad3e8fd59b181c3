#!/bin/bash
# Loop igb NIC driver changes in the testbed guest (docs/testbed.md, "vCPU 1
# loses its timer around igb rebinds"). Run it with
#   test/vm/boot.sh --timeout S --run bash test/vm/igb-rebind-loop.sh N [MODE] [BDF]
# MODE: vfio (igb -> vfio-pci -> igb, the helper's claim and release; the
# default), unbind (igb unbind/bind only), reload (rmmod/modprobe igb), each
# with the link up and a ping flood on the hub partner when MODE ends in
# "+traffic"; pm (no driver, 50 x D3hot -> D0 through the PM capability)
# and mem (no driver, 50 x memory decode off and on in the command
# register): QEMU maps and unmaps the BARs each time. Prints one line per
# iteration with its time; a watchdog prints the interrupt and timer state
# of both vCPUs when an iteration takes more than 300 s (a hung guest may
# not get that far: the console's RCU stall lines and boot.sh's limit tell).
# Exit 0 after N clean iterations, 1 when the watchdog fired.
# The guest as it was before the fix (xAPIC mode):
#   NB_QEMU_ARGS="-cpu max,la57=off,-x2apic" test/vm/boot.sh --run ...
set -u
. "$NB_SRC/test/vm/lib.sh"
n=${1:-50} mode=${2:-vfio}
igbs=($NB_IGB_NICS)
bdf=${3:-${igbs[0]}}
partner=${igbs[1]}
state=/tmp/igb-loop.state
echo 0 >"$state"

dmesg | grep -i -m 3 -e x2apic -e "remapping" | sed "s/^/igb-loop: dmesg: /"
echo "igb-loop: clockevents: $(cat /sys/devices/system/clockevents/clockevent*/current_device | tr '\n' ' ')clocksource: $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
netdev() { ls "/sys/bus/pci/devices/$1/net" 2>/dev/null | head -n 1; }

# The watchdog: progress is the iteration number in $state.
(
  last=-1 since=$SECONDS
  while sleep 5; do
    now=$(<"$state")
    if [[ $now != "$last" ]]; then last=$now since=$SECONDS; continue; fi
    ((SECONDS - since > 300)) || continue
    echo "igb-loop: HANG: iteration $now made no progress for 300 s"
    grep -E 'LOC|CPU|igb|vfio|DMAR' /proc/interrupts
    awk '/^cpu:/ {c = $2} /next_event|event_handler|set_next_event|mode:/ {print "cpu" c ": " $0}' /proc/timer_list | head -n 40
    echo w >/proc/sysrq-trigger
    echo 1 >/tmp/igb-loop.hung
    exit 0
  done
) &
watchdog=$!
nb_on_exit "kill $watchdog 2>/dev/null"

if [[ $mode == *+traffic ]]; then
  nb_bind_kernel "$partner"
  ip link set "$(netdev "$partner")" up
fi

for ((i = 1; i <= n; i++)); do
  t0=$(date +%s.%N)
  case ${mode%+traffic} in
    vfio)
      nb_bind_driver "$bdf" vfio-pci || { echo "igb-loop: bind vfio-pci failed"; exit 1; }
      nb_bind_driver "$bdf" "" || { echo "igb-loop: bind igb failed"; exit 1; } ;;
    unbind)
      echo "$bdf" >/sys/bus/pci/drivers/igb/unbind
      echo "$bdf" >/sys/bus/pci/drivers/igb/bind ;;
    reload)
      rmmod igb && modprobe igb || { echo "igb-loop: reload failed"; exit 1; } ;;
    pm | mem)
      # No driver: only the BARs come and go (D3hot <-> D0 through the PM
      # capability, or memory decode off and on in the command register),
      # 50 times per iteration, from vCPU 1, while vCPU 0 sleeps in short
      # steps (each arming its local APIC timer).
      [[ -e /sys/bus/pci/devices/$bdf/driver ]] && echo "$bdf" >"/sys/bus/pci/devices/$bdf/driver/unbind"
      taskset -c 0 python3 -c 'import time
for _ in range(200): time.sleep(0.0002)' &
      taskset -c 1 python3 - "$bdf" "$mode" <<'PY' || { echo "igb-loop: config writes failed"; exit 1; }
import os, sys
bdf, mode = sys.argv[1], sys.argv[2]
fd = os.open("/sys/bus/pci/devices/%s/config" % bdf, os.O_RDWR)
cfg = os.pread(fd, 256, 0)
if mode == "pm":
    pos = cfg[0x34]
    while cfg[pos] != 0x01:
        pos = cfg[pos + 1]
    reg, on, off = pos + 4, b"\x00\x00", b"\x03\x00"
else:
    reg, on, off = 0x04, cfg[4:6], bytes([cfg[4] & ~0x06 & 0xff, cfg[5]])
for _ in range(50):
    os.pwrite(fd, off, reg)
    os.pwrite(fd, on, reg)
PY
      wait ;;
  esac
  if [[ $mode == *+traffic ]]; then
    dev=$(netdev "$bdf")
    ip link set "$dev" up
    ip addr add 10.9.0.1/24 dev "$dev" 2>/dev/null
    timeout 2 ping -f -c 200 -I "$dev" 10.9.0.2 >/dev/null 2>&1
  fi
  echo "$i" >"$state"
  awk -v i="$i" -v t0="$t0" -v t1="$(date +%s.%N)" 'BEGIN { printf "igb-loop: iteration %d %.2f s\n", i, t1 - t0 }'
  [[ -e /tmp/igb-loop.hung ]] && exit 1
done
echo "igb-loop: $n iterations of $mode on $bdf, no hang"
