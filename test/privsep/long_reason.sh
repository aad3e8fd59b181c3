#!/bin/bash
# long_reason.sh FAKESYS_HELPER FAKESYS_ROOT PKTGEN: the longest reason the
# helper sends (a policy refusal naming a 255-byte policy path, a PCI address
# and a 15-character interface name; reason_bounds.py says which is longest)
# reaches an app's stderr whole: helper -> socket -> libnicbox -> nicbox-pktgen.
set -euo pipefail
helper=$1 root=$2 pktgen=$3
bdf=0000:7f:00.0 ifname=nbtest-15chars-
tmp=$(mktemp -d /tmp/nb-reason-XXXXXX)
trap 'kill "$pid" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$tmp" "$root"' EXIT
rm -rf "$root"
dev=$root/sys/bus/pci/devices/$bdf
mkdir -p "$dev/net/$ifname" "$root/sys/class/net" "$root/sys/kernel/iommu_groups/7/devices" "$root/run"
echo 0x020000 >"$dev/class"; echo 0x1af4 >"$dev/vendor"; echo 0x1041 >"$dev/device"
echo '(null)' >"$dev/driver_override"
ln -s "$dev/net/$ifname" "$root/sys/class/net/$ifname"
ln -s "$root/sys/kernel/iommu_groups/7" "$dev/iommu_group"
# A policy path of 255 bytes (the most struct nbh_policy keeps), in
# root-owned directories the helper trusts.
dir=$tmp
while [ $(( ${#dir} + 100 )) -lt 245 ]; do dir=$dir/$(printf 'd%.0s' {1..90}); done
policy=$dir/$(printf 'p%.0s' $(seq $((255 - ${#dir} - 1))))
mkdir -p "$dir"
echo "allow user:$(id -u) id:dead:beef" >"$policy"
[ ${#policy} -eq 255 ] || { echo "FAIL: policy path is ${#policy} bytes"; exit 1; }
"$helper" serve --socket "$tmp/h.sock" --policy "$policy" 2>"$tmp/helper.log" &
pid=$!
for _ in $(seq 100); do [ -S "$tmp/h.sock" ] && break; sleep 0.05; done
want="cannot claim $ifname: nicbox-helper: policy $policy lets uid $(id -u) claim no device $bdf / $ifname"
status=0
NICBOX_SOCKET=$tmp/h.sock "$pktgen" --dev "$ifname" --duration 1 2>"$tmp/err" || status=$?
cat "$tmp/err"
echo "expected (${#want} bytes): $want"
[ "$status" -eq 1 ] || { echo "FAIL: exit status $status, expected 1"; exit 1; }
grep -qxF "nicbox-pktgen: $want" "$tmp/err" || { echo "FAIL: the reason is not there whole"; exit 1; }
echo "PASS: the ${#want}-byte message arrived whole"
