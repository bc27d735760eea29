# bash completion for trainguard(1): the commands run, check, explain and
# help, their options and values; after `run ... --` the job's command line
# completes as a command of its own.

_trainguard()
{
	local cur prev words cword
	_init_completion || return

	local cmd i
	for ((i = 1; i < cword; i++)); do
		if [[ ${words[i]} != -* ]]; then
			cmd=${words[i]}
			break
		fi
	done

	if [[ -z $cmd ]]; then
		COMPREPLY=($(compgen -W 'run check explain help --help --version' -- "$cur"))
		return
	fi

	case $cmd in
	run)
		# After "--" (or the first word that is not an option or its value)
		# comes the job: complete it as a command line.
		local j
		for ((j = i + 1; j < cword; j++)); do
			case ${words[j]} in
			--)
				_command_offset $((j + 1))
				return
				;;
			--policy | --mode | --log | --job-id | --fence | -p | -m | -l | -j | -f)
				((j++))
				;;
			--*=* | -*) ;;
			*)
				_command_offset $j
				return
				;;
			esac
		done
		case $prev in
		--policy | -p)
			_filedir cfg
			return
			;;
		--mode | -m)
			COMPREPLY=($(compgen -W 'enforce audit learn' -- "$cur"))
			return
			;;
		--log | -l)
			COMPREPLY=($(compgen -W 'stderr' -- "$cur"))
			_filedir
			return
			;;
		--job-id | -j)
			return
			;;
		--fence | -f)
			COMPREPLY=($(compgen -W 'auto require off' -- "$cur"))
			return
			;;
		esac
		COMPREPLY=($(compgen -W '--policy --mode --log --job-id --fence --help --' -- "$cur"))
		;;
	check)
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W '--help' -- "$cur"))
		else
			_filedir cfg
		fi
		;;
	explain)
		case $prev in
		--policy | -p)
			_filedir cfg
			return
			;;
		--op | -o)
			COMPREPLY=($(compgen -W 'read write create delete exec chmod list' -- "$cur"))
			return
			;;
		esac
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W '--policy --op --help' -- "$cur"))
		else
			_filedir
		fi
		;;
	help)
		((cword == i + 1)) &&
			COMPREPLY=($(compgen -W 'run check explain' -- "$cur"))
		;;
	esac
} &&
	complete -F _trainguard trainguard

# ex: filetype=sh
