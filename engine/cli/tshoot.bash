# bash completion for tshoot: installed as bash-completion's completions/tshoot.
#
# What to offer is asked of tshoot itself, `tshoot complete CWORD WORD...`
# (engine/cli/cmd_complete.c): the commands, a command's options as its
# --help lists them, and the ids that show, fix and test take from the KB
# (the line's --kb, else the default one). "@files" means: file names.
_tshoot()
{
  local cur="${COMP_WORDS[COMP_CWORD]:-}" prog="${COMP_WORDS[0]:-tshoot}" reply i
  local -a words=()
  COMPREPLY=()
  [[ $prog == "~/"* ]] && prog="$HOME/${prog#"~/"}"
  # bash splits "sim:FILE" at the colon (COMP_WORDBREAKS): tshoot gets it whole
  for ((i = 0; i <= COMP_CWORD && i < ${#COMP_WORDS[@]}; i++)); do
    if ((i > 1)) && [[ ${COMP_WORDS[i]} == ":" || ${COMP_WORDS[i - 1]} == ":" ]] &&
       [[ ${COMP_WORDS[i - 1]} != -* ]]; then
      words[${#words[@]} - 1]+=${COMP_WORDS[i]}
    else
      words+=("${COMP_WORDS[i]}")
    fi
  done
  ((COMP_CWORD < ${#COMP_WORDS[@]})) || words+=("")
  reply=$("$prog" complete "$((${#words[@]} - 1))" "${words[@]}" "${COMP_WORDS[@]:COMP_CWORD+1}" 2>/dev/null) ||
    return 0
  if [[ $reply == "@files"* ]]; then
    compopt -o filenames 2>/dev/null || true   # only inside a completion
    [[ $cur == ":" ]] && cur=""
    mapfile -t COMPREPLY < <(compgen -f -- "$cur")
  elif [[ -n $reply ]]; then
    mapfile -t COMPREPLY <<<"$reply"
  fi
  return 0
}
complete -F _tshoot tshoot
