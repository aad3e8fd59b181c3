#!/bin/sh
# SPDX-License-Identifier: MIT
# line_budget.sh SOURCE_DIR [MAX]: the privileged code, all we own that is
# compiled into nicbox-helper (privhelper/*.[ch] and the wire protocol,
# proto/*.[ch]), stays within MAX (2,000) non-blank lines: readable in one
# sitting (docs/contributing.md).
src=${1:?usage: line_budget.sh SOURCE_DIR [MAX]} max=${2:-2000}
n=$(cat "$src"/privhelper/*.[ch] "$src"/proto/*.[ch] | grep -cv '^[[:space:]]*$')
echo "privileged code (privhelper/ + proto/): $n non-blank lines, budget $max"
if [ "$n" -gt "$max" ]; then
  echo "FAIL: $((n - max)) lines over the budget: find savings in the helper, do not cram lines"
  exit 1
fi
