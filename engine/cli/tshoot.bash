# bash completion for tshoot: installed as bash-completion's completions/tshoot.
#
# What to offer is asked of tshoot itself, `tshoot complete CWORD WORD...`
# (engine/cli/cmd_complete.c): the commands, a command's options as its
# --help lists them, and the ids that show, fix and test take from the KB
# (the line's --kb, else the default one). "@files" means: file names.
_tshoot()
{
  local cur="${COMP_WORDS[COMP_CWORD]:-}" prog="${COMP_WORDS[0]:-tshoot}" reply
  COMPREPLY=()
  [[ $prog == "~/"* ]] && prog="$HOME/${prog#"~/"}"
  reply=$("$prog" complete "$COMP_CWORD" "${COMP_WORDS[@]}" 2>/dev/null) || return 0
  if [[ $reply == "@files"* ]]; then
    compopt -o filenames 2>/dev/null || true   # only inside a completion
    mapfile -t COMPREPLY < <(compgen -f -- "$cur")
  elif [[ -n $reply ]]; then
    mapfile -t COMPREPLY <<<"$reply"
  fi
  return 0
}
complete -F _tshoot tshoot
