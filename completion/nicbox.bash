# bash completion for nicbox-helper, nicbox-pktgen, nicbox-fwd, nicbox-capture
# (installed once per name under share/bash-completion/completions).
# The apps' options come from their own --help, so they never go stale.

_nicbox_devs()
{
	local d
	for d in /sys/bus/pci/devices/*; do
		[[ -r $d/class && $(<"$d/class") == 0x02* ]] && echo "${d##*/}"
	done
	ls /sys/class/net 2>/dev/null
}

_nicbox_app()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	case $prev in
	--dev)
		mapfile -t COMPREPLY < <(compgen -W "$(_nicbox_devs)" -- "$cur")
		return ;;
	--out | --socket)
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		return ;;
	--rx-mode)
		mapfile -t COMPREPLY < <(compgen -W "poll interrupt adaptive" -- "$cur")
		return ;;
	--size | --rate | --count | --port | --duration | --expect | --snaplen | --stats-fd)
		return ;;
	esac
	if [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W \
			"$("$1" --help 2>/dev/null | grep -o -- '--[a-z][a-z-]*' | sort -u)" -- "$cur")
	fi
}

_nicbox_helper()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	if ((COMP_CWORD == 1)); then
		mapfile -t COMPREPLY < <(compgen -W "serve status check-policy --help --version" -- "$cur")
		return
	fi
	case $prev in
	--socket | --policy)
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		return ;;
	--group)
		mapfile -t COMPREPLY < <(compgen -g -- "$cur")
		return ;;
	esac
	local opts="--policy"
	[[ ${COMP_WORDS[1]} != check-policy ]] && opts+=" --socket"
	[[ ${COMP_WORDS[1]} == serve ]] && opts+=" --group"
	[[ ${COMP_WORDS[1]} == status ]] && opts+=" --json"
	mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
}

complete -F _nicbox_app nicbox-pktgen nicbox-fwd nicbox-capture
complete -F _nicbox_helper nicbox-helper
