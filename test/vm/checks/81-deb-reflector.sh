#!/bin/bash
# timeout: 300
# The Debian packages as installed, and an app built against them. The
# guest's root is the host's, read-only, so the .debs from `make deb`
# (build-deb/) are unpacked with dpkg -x into a tmpfs root instead of
# dpkg -i. Then:
#  0. nicbox-tools depends on libpcap0.8 (nicbox-capture dlopens it, so
#     dpkg-shlibdeps cannot see it);
#  1. their systemd units pass systemd-analyze verify (ExecStart pointed at
#     the unpacked helper), their sysusers.d entry creates the nicbox group
#     and their tmpfiles.d entry /run/nicbox, both under that root;
#  2. examples/reflector.c is compiled in the guest with nothing but
#     `pkg-config --cflags --libs libnicbox` from the unpacked libnicbox-dev;
#  3. the unpacked nicbox-helper serves, the unpacked nicbox-pktgen (with the
#     unpacked libnicbox.so.0) sends 1000 frames from NIC 06 to the reflector
#     on NIC 07 (QEMU hub 1), as uid NB_UID: the reflector sends all 1000
#     back, and pktgen's NIC, which is not promiscuous, receives them: they
#     carry its own MAC as destination, so the addresses were swapped.
#     pktgen stops counting when its own last frame is out; under TCG the
#     last reflections arrive after that (984 and 968 of 1000 in two runs:
#     80 to 160 ms of frames in flight), so it must see at least 90% and at
#     most all of them; the reflector's own count is exact.
. "$NB_SRC/test/vm/lib.sh"
. "$NB_SRC/test/apps/vm-lib.sh"

debs=$NB_SRC/build-deb
shopt -s nullglob
pkgs=("$debs"/libnicbox0_*.deb "$debs"/libnicbox-dev_*.deb "$debs"/nicbox-helper_*.deb "$debs"/nicbox-tools_*.deb)
if [[ ${#pkgs[@]} -ne 4 ]]; then
  echo "FAIL: the four .deb files are not in $debs (found: ${pkgs[*]}); run 'make deb' first"
  exit 1
fi
root=$(mktemp -d /tmp/nb-deb.XXXXXX)
chmod 0755 "$root"
for deb in "${pkgs[@]}"; do
  nb_check "dpkg -x $(basename "$deb")" dpkg -x "$deb" "$root"
done
# nicbox-capture dlopens libpcap, which dpkg-shlibdeps cannot see.
tools_depends=$(dpkg-deb -f "$debs"/nicbox-tools_*.deb Depends)
nb_check "nicbox-tools depends on libpcap0.8 ($tools_depends)" grep -qw 'libpcap0\.8' <<<"$tools_depends"
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
libdir=$root/usr/lib/$multiarch

echo "== 1: units, sysusers.d, tmpfiles.d"
units=$(mktemp -d)
cp "$root"/lib/systemd/system/nicbox-helper.{socket,service} "$units/"
sed -i "s|^ExecStart=/usr/sbin/nicbox-helper |ExecStart=$root/usr/sbin/nicbox-helper |" "$units/nicbox-helper.service"
nb_check "the packaged service starts the packaged helper" \
  grep -q "^ExecStart=$root/usr/sbin/nicbox-helper serve --policy /etc/nicbox/nicbox.conf\$" "$units/nicbox-helper.service"
out=$(systemd-analyze verify "$units/nicbox-helper.socket" "$units/nicbox-helper.service" 2>&1)
echo "systemd-analyze verify: ${out:-no messages}"
nb_check "systemd-analyze verify: no messages" test -z "$out"
mkdir -p "$root/etc"
systemd-sysusers --root="$root" "$root/usr/lib/sysusers.d/nicbox.conf"
nb_check "sysusers.d creates the group nicbox" grep -q '^nicbox:x:[0-9]*:' "$root/etc/group"
systemd-tmpfiles --root="$root" --create "$root/usr/lib/tmpfiles.d/nicbox.conf"
nb_check "tmpfiles.d creates /run/nicbox, mode 0755" test "$(stat -c %a "$root/run/nicbox" 2>&1)" == 755
nb_check "the policy is a conffile of nicbox-helper" \
  dpkg-deb -e "$debs"/nicbox-helper_*.deb "$units/ctl"
nb_check "  (/etc/nicbox/nicbox.conf in conffiles)" grep -qx /etc/nicbox/nicbox.conf "$units/ctl/conffiles"

echo "== 2: build the reflector against the unpacked libnicbox-dev"
export PKG_CONFIG_PATH=$libdir/pkgconfig
flags=$(pkg-config --cflags --libs libnicbox)
echo "pkg-config --cflags --libs libnicbox: $flags"
# shellcheck disable=SC2086
nb_check "reflector.c builds with those flags alone" \
  cc -O2 -Wall -Wextra -Werror "$root/usr/share/doc/libnicbox-dev/examples/reflector.c" \
  $flags -o "$APPS_TMP/nicbox-reflector"
export LD_LIBRARY_PATH=$libdir
APPS=$root/usr/bin
nb_check "the packaged pktgen loads the packaged libnicbox.so.0" \
  grep -q "libnicbox.so.0 => $libdir/libnicbox.so.0" <<<"$(ldd "$APPS/nicbox-pktgen")"
nb_check "nicbox-pktgen --version" grep -qx 'nicbox-pktgen (nicbox) 0.1.0' <<<"$("$APPS/nicbox-pktgen" --version)"

echo "== 3: packaged helper and pktgen, reflector on the other hub port"
nics=($NB_NICS)
tx=${nics[2]} refl=${nics[3]}
count=1000 rate=200
apps_policy "$NB_OUT/policy.conf" "$tx" "$refl"
NB_HELPER=$root/usr/sbin/nicbox-helper NB_HELPER_LOG=$NB_OUT/helper.log \
  nb_helper_start "$NB_OUT/policy.conf" || exit 1
nb_check "the running helper is the packaged one" \
  test "$(readlink "/proc/$NB_HELPER_PID/exe")" == "$root/usr/sbin/nicbox-helper"

nb_as_user "$APPS_TMP/nicbox-reflector" "$refl" 120 \
  >"$APPS_TMP/reflector.out" 2>"$APPS_TMP/reflector.err" &
APP_SHELL[reflector]=$!
apps_wait_ready reflector || exit 1
apps_check_sandboxed reflector
apps_start pktgen pktgen --dev "$tx" --count "$count" --rate "$rate" --duration 100
apps_wait pktgen
sleep 1 # the last reflected frames
apps_stop reflector
apps_show pktgen
echo "--- reflector:"; cat "$APPS_TMP/reflector.err" "$APPS_TMP/reflector.out"

nb_check "pktgen exits 0" test "${APP_RC[pktgen]}" -eq 0
nb_check "the reflector exits 0 on SIGTERM" test "${APP_RC[reflector]}" -eq 0
apps_expect_final pktgen "$tx" sent "$count"
nb_check "the reflector sent back all $count frames" \
  grep -qx "reflected $count frames, 0 not sent (ring full)" "$APPS_TMP/reflector.out"
back=$(apps_final pktgen "$tx" rx_packets)
nb_check "pktgen received $((count * 9 / 10))..$count frames back, to its own MAC (got '$back')" \
  test "${back:-0}" -ge $((count * 9 / 10)) -a "${back:-0}" -le "$count"
nb_check "the helper stops cleanly" nb_helper_stop
rm -rf "$root" "$units"
