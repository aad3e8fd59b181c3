#!/bin/bash
# seccomp_gen.sh AWKFILE POLICY: policy/seccomp-gen.awk turns the shipped
# policy into C (an enum of its fd classes, a rule table), and fails with
# file:line and the reason on each kind of bad line.
set -uo pipefail
gen=$1 policy=$2 fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# expect_error LINES REGEX: a policy of LINES is refused with REGEX.
expect_error() {
  printf '%s\n' "$1" >"$tmp/p"
  if awk -v classes_h="$tmp/c.h" -f "$gen" "$tmp/p" >"$tmp/t.h" 2>"$tmp/err"; then
    echo "FAIL: accepted: $1"
    fail=1
  elif ! grep -Eq -- "$2" "$tmp/err"; then
    echo "FAIL: '$1' refused with '$(cat "$tmp/err")', expected /$2/"
    fail=1
  else
    echo "ok: refused: $(cat "$tmp/err")"
  fi
}

if awk -v classes_h="$tmp/c.h" -f "$gen" "$policy" >"$tmp/t.h" &&
   grep -q 'NB_FDS_KEEP_WRITE,' "$tmp/c.h" &&
   grep -q '{ "write", 1, { { 0, NB_FDS_KEEP_WRITE, 0, 0 } }' "$tmp/t.h"; then
  echo "ok: the shipped policy generates its classes and rules"
else
  echo "FAIL: the shipped policy"
  fail=1
fi
expect_error 'write arg0:out x' "p:1: fd class 'out' is not declared"
expect_error $'@class a A\n@class b B\nread arg0:a,arg1:b x' 'p:3: one fd class per entry'
expect_error $'@class a A\nread arg0:a,arg0&1==1 x' 'p:2: arg0 named twice in one entry'
expect_error $'read - x\n@class a A' 'p:2: declare fd classes before the entries'
expect_error $'@class a A\n@class a B' "p:2: fd class 'a' declared twice"
expect_error 'read arg0=a x' "p:1: bad condition term 'arg0=a'"
expect_error 'read arg1&0xg==1 x' "p:1: bad condition term"
expect_error 'read arg1&1==1,arg2&1==1,arg3&1==1,arg4&1==1 x' 'p:1: at most 3 terms'
exit $fail
