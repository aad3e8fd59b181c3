#!/bin/bash
# Build the testbed's guest image: a Debian 6.1 kernel and a small initramfs
# (busybox + the virtio/9p/vfio modules + guest-init.sh).
#
#   build-image.sh CACHE_DIR
#
# Writes CACHE_DIR/vmlinuz and CACHE_DIR/initrd.gz. The kernel package is
# downloaded once into CACHE_DIR/deb/ and reused; the image is rebuilt only
# when the package, this script or guest-init.sh change.
set -euo pipefail

cache=${1:?usage: build-image.sh CACHE_DIR}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# What the guest loads before it can reach the host root (9p), plus the NIC
# and VFIO drivers the checks use (igb: the igb NICs' own kernel driver, to
# give them back to; macvlan and 8021q: the stacked devices of
# 28-helper-inuse). modprobe resolves their dependencies.
modules=(virtio_pci virtio_net 9pnet_virtio 9p vfio vfio-pci vfio_iommu_type1 igb
  macvlan 8021q)

die() { echo "build-image: $*" >&2; exit 1; }
for tool in dpkg-deb depmod modprobe cpio gzip; do
  command -v "$tool" >/dev/null || die "$tool not found (apt-get install kmod cpio dpkg)"
done
busybox=/bin/busybox
[[ -x $busybox ]] && ! ldd "$busybox" >/dev/null 2>&1 ||
  die "$busybox is missing or not static: apt-get install busybox-static"

mkdir -p "$cache/deb"

# The kernel package: the cached one if there is one, else the version that
# Debian's linux-image-amd64 currently depends on.
fetch_kernel_deb() {
  local pkg
  pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
        awk '/Depends: linux-image-6\.1\.0-.*-amd64$/ {print $2; exit}')
  if [[ -z $pkg ]]; then
    echo "build-image: apt-cache does not know linux-image-amd64; running apt-get update" >&2
    apt-get update -qq >&2 || die "apt-get update failed"
    pkg=$(apt-cache depends linux-image-amd64 |
          awk '/Depends: linux-image-6\.1\.0-.*-amd64$/ {print $2; exit}')
  fi
  [[ -n $pkg ]] || die "no linux-image-6.1.0-*-amd64 behind linux-image-amd64"
  echo "build-image: downloading $pkg (once; cached in $cache/deb)" >&2
  (cd "$cache/deb" && apt-get download -q "$pkg" 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2) ||
    die "apt-get download $pkg failed"
}

shopt -s nullglob
debs=("$cache"/deb/linux-image-6.1.0-*-amd64_*.deb)
if ((${#debs[@]} == 0)); then
  fetch_kernel_deb
  debs=("$cache"/deb/linux-image-6.1.0-*-amd64_*.deb)
fi
((${#debs[@]} == 1)) || die "expected one kernel package in $cache/deb, found ${#debs[@]}"
deb=${debs[0]}

stamp_now=$( { basename "$deb"; cat "$here/build-image.sh" "$here/guest-init.sh"; } | sha256sum | cut -d' ' -f1)
if [[ -f $cache/vmlinuz && -f $cache/initrd.gz && -f $cache/stamp &&
      $(<"$cache/stamp") == "$stamp_now" ]]; then
  exit 0
fi

echo "build-image: building the guest image from $(basename "$deb")" >&2
work=$(mktemp -d "$cache/work.XXXXXX")
trap 'rm -rf "$work"' EXIT

dpkg-deb -x "$deb" "$work/kernel"
kver=$(basename "$work"/kernel/lib/modules/*)
[[ -f $work/kernel/boot/vmlinuz-$kver ]] || die "no vmlinuz-$kver in $(basename "$deb")"
depmod -b "$work/kernel" "$kver"

# initramfs tree: busybox, the modules with their dependencies, /init.
root=$work/initrd
mkdir -p "$root"/{bin,dev,proc,sys,host,etc} "$root/lib/modules/$kver"
cp "$busybox" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
cp "$here/guest-init.sh" "$root/init"
chmod 755 "$root/init"
printf '%s\n' "${modules[@]}" >"$root/etc/nb-modules"

modprobe -d "$work/kernel" -S "$kver" -a --show-depends "${modules[@]}" |
  awk '$1 == "insmod" {print $2}' | sort -u >"$work/ko-list"
[[ -s $work/ko-list ]] || die "modprobe found none of: ${modules[*]}"
while read -r ko; do
  rel=${ko#"$work/kernel/lib/modules/$kver/"}
  mkdir -p "$root/lib/modules/$kver/$(dirname "$rel")"
  cp "$ko" "$root/lib/modules/$kver/$rel"
done <"$work/ko-list"
cp "$work/kernel/lib/modules/$kver"/modules.{order,builtin,builtin.modinfo} "$root/lib/modules/$kver/"
depmod -b "$root" "$kver"

(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -6) >"$work/initrd.gz"
cp "$work/kernel/boot/vmlinuz-$kver" "$work/vmlinuz"
mv "$work/vmlinuz" "$work/initrd.gz" "$cache/"
echo "$kver" >"$cache/kernel-version"
echo "$stamp_now" >"$cache/stamp"
echo "build-image: $cache/vmlinuz, $cache/initrd.gz ($(wc -l <"$work/ko-list") modules, kernel $kver)" >&2
