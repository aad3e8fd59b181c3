#!/bin/sh
# install_policy.sh BUILD_DIR HELPER: `cmake --install` into a scratch
# DESTDIR; the nicbox.conf it installs must load (ownership and modes
# included) and allow nothing.
set -u
build=$1 helper=$2
stage=$(mktemp -d /tmp/nb-install-XXXXXX) || exit 1
trap 'rm -rf "$stage"' EXIT
DESTDIR=$stage cmake --install "$build" --prefix /usr/local >"$stage.log" 2>&1 ||
  { cat "$stage.log"; rm -f "$stage.log"; exit 1; }
rm -f "$stage.log"
conf=$stage/etc/nicbox/nicbox.conf
ls -l "$conf" || exit 1
out=$("$helper" check-policy --policy "$conf") || exit 1
echo "$out"
[ "$out" = "$conf: 0 rules: it allows nothing" ]
