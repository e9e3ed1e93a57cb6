#!/usr/bin/env bash
# Option parsing for recipe scripts (sourced, like Kaldi's utils/parse_options.sh, written anew).
#   --name value | --name=value   sets the shell variable $name; '-' in a name becomes '_'
#                                 (so --stop-stage and --stop_stage are the same option);
#   --help | -h                   prints $help_message and the current value of every option.
# Only variables the script declared before sourcing this file are options; anything else is an
# error that names the option. Positional arguments are left in "$@".

__options_help() {
  printf '%s\n\nOptions (current values):\n' "${help_message:-}"
  local v
  for v in "${__declared_options[@]}"; do printf '  --%-28s %s\n' "$v" "${!v}"; done
}

# --help lists the variables named in the caller's array __declared_options.
__positional=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) __options_help; exit 0 ;;
    --*=*) __name="${1%%=*}"; __value="${1#*=}"; shift ;;
    --*)
      __name="$1"
      if [ $# -lt 2 ]; then echo "$0: option $1 needs a value" >&2; exit 1; fi
      __value="$2"; shift 2 ;;
    *) __positional+=("$1"); shift; continue ;;
  esac
  __name="${__name#--}"; __name="${__name//-/_}"
  if [ -z "${!__name+x}" ]; then
    echo "$0: unknown option --${__name} (see --help)" >&2
    exit 1
  fi
  printf -v "$__name" '%s' "$__value"
done
set -- "${__positional[@]+"${__positional[@]}"}"
unset __name __value __positional
