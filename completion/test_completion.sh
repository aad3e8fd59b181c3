#!/bin/bash
# test_completion.sh SCRIPT APPDIR: load the completion script and complete
# partial command lines the way bash would, against the built apps.
set -uo pipefail
script=$1 appdir=$2
# shellcheck source=/dev/null
. "$script"
fail=0

# expect "WORDS..." WANT...: completing the last word offers every WANT.
expect() {
	local line=$1 w
	shift
	read -ra COMP_WORDS <<<"$line"
	[[ $line == *' ' ]] && COMP_WORDS+=("")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	local fn
	fn=$(complete -p "${COMP_WORDS[0]##*/}" | sed -n 's/.*-F \([^ ]*\) .*/\1/p')
	"$fn" "$appdir/${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
	for w; do
		if ! printf '%s\n' "${COMPREPLY[@]}" | grep -qx -- "$w"; then
			echo "FAIL: '$line' does not offer '$w' (got: ${COMPREPLY[*]})"
			fail=1
		fi
	done
}

PATH=$appdir:$PATH
expect "nicbox-capture --sn" --snaplen
expect "nicbox-capture --d" --dev --duration
expect "nicbox-pktgen --p" --port
expect "nicbox-pktgen --st" --stats-fd
expect "nicbox-fwd --" --dev --socket --json --version --help
expect "nicbox-helper s" serve status
expect "nicbox-helper serve --" --socket --policy --group
expect "nicbox-helper status --" --socket --policy --json
expect "nicbox-helper check-policy --" --policy
expect "nicbox-helper c" check-policy
expect "nicbox-capture --dev lo" lo
[[ $fail -eq 0 ]] && echo "ok: completions offered"
exit $fail
