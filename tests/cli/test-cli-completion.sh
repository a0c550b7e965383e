#!/usr/bin/env bash
# Bash completion (engine/cli/tshoot.bash, installed as completions/tshoot):
# driven here as bash drives it, COMP_WORDS and COMP_CWORD set and _tshoot
# called, all in this one bash. It offers the commands and, for each command,
# every option its --help lists, the KB's ids for show, fix and test (from
# --kb when the line has one), and file names where a file goes.
source "$(dirname "$0")/lib.sh"
source "$TSHOOT_SOURCE_ROOT/engine/cli/tshoot.bash"
complete -p tshoot | grep -q -- "-F _tshoot" || fail "the file registers no completion for tshoot"

# offers WORD... : the completions of the command line "tshoot WORD..." (the
# last word is the one completed), one a line, into $WORK/offers
offers() {
  COMP_WORDS=("$TSHOOT_BIN" "$@")
  COMP_CWORD=$#
  COMPREPLY=()
  _tshoot
  printf '%s\n' "${COMPREPLY[@]}" >"$WORK/offers"
}
# is WORD... -- EXPECTED...: the offers are exactly EXPECTED (in any order)
is() {
  local words=() expected
  while [ "$1" != "--" ]; do words+=("$1"); shift; done
  shift
  offers "${words[@]}"
  expected=$(printf '%s\n' "$@" | sort)
  [ "$(sort "$WORK/offers")" = "$expected" ] ||
    fail "tshoot ${words[*]}<TAB> offers [$(tr '\n' ' ' <"$WORK/offers")], expected [$*]"
}

# commands: those of `tshoot --help`, and not the hidden one
run --help
cmds=$(sed -n '/^commands:$/,/^$/p' "$WORK/out" | sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p')
# shellcheck disable=SC2086
is "" -- $cmds
is se -- search serve
is comp -- compile
is --v -- --version
is help s -- search serve show sign
ok "commands: the $(wc -w <<<"$cmds") of --help"

# options: every long option that each command's --help lists
n=0
for c in $cmds; do
  run "$c" --help
  want=$( { grep -E '^ {2,6}-' "$WORK/out" | grep -o -- '--[a-zA-Z][a-zA-Z-]*'; echo --help; } | sort -u)
  offers "$c" --
  for o in $want; do
    grep -qx -- "$o" "$WORK/offers" || fail "tshoot $c --<TAB> lacks $o (offers: $(tr '\n' ' ' <"$WORK/offers"))"
    n=$((n + 1))
  done
  while read -r o; do
    grep -qx -- "$o" <<<"$want" || fail "tshoot $c --<TAB> offers $o, which its --help does not list"
  done <"$WORK/offers"
done
[ "$n" -ge 50 ] || fail "only $n options checked"
is search --li -- --limit
ok "options: the $n long options of the commands' --help"

# ids from the KB ($TSHOOT_KB, the shipped one)
is show kofms -- kofmsp
is fix kofmsp.dll -- kofmsp.dll-missing
is test kofmsp.t.missing -- kofmsp.t.missing-answers kofmsp.t.missing-text
is show kofmsp "" --                        # one article at a time
is fix --json kofmsp.dll -- kofmsp.dll-missing
is test kofmsp.t.missing-answers kofmsp.t.missing-t -- kofmsp.t.missing-text
offers fix ""
grep -qx kofmsp.registry-overwrite "$WORK/offers" || fail "tshoot fix <TAB> lacks the causes"
! grep -qx none "$WORK/offers" || fail "tshoot fix <TAB> offers 'none'"
ok "ids: articles for show, causes for fix, tests for test"

# --kb names another KB: its ids
run compile "$DATA/good" -o "$WORK/printer.db"
expect_rc 0 "compile of the printer KB"
is show --kb "$WORK/printer.db" "" -- printer-offline paper-jam
is fix --kb "$WORK/printer.db" "" -- printer-unpowered spooler-stuck jammed-sheet
# the word completed before the --kb that follows it
COMP_WORDS=("$TSHOOT_BIN" fix "" --kb "$WORK/printer.db") COMP_CWORD=2 COMPREPLY=()
_tshoot
[ "$(printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ')" = "jammed-sheet printer-unpowered spooler-stuck " ] ||
  fail "tshoot fix <TAB> --kb printer.db offers ${COMPREPLY[*]}"
is test --kb="$WORK/printer.db" unp -- unpowered
is show --kb "$WORK/no-such.db" "" --       # no KB: nothing, and no error shown
ok "ids: from the KB that --kb names"

# file names where a file goes; nothing where a number goes
mkdir -p "$WORK/files"
: >"$WORK/files/answers.txt"
is diagnose --answers "$WORK/files/ans" -- "$WORK/files/answers.txt"
is compile "$WORK/files/a" -- "$WORK/files/answers.txt"
is lint --kb "$WORK/files/ans" -- "$WORK/files/answers.txt"
is compile -o "$WORK/files/ans" -- "$WORK/files/answers.txt"
# --host sim:FILE: bash splits the word at ':' (COMP_WORDBREAKS); the file part is completed
is fix kofmsp.malware --host sim : "$WORK/files/ans" -- "$WORK/files/answers.txt"
cd "$WORK/files"
is run x.lua --host sim : -- answers.txt        # right after the colon
cd - >/dev/null
is search --limit "" --
is diagnose --threshold "" --
is no-such-command "" --
# what bash never sends is refused quietly: no word to complete, CWORD past the words
for args in "" "x" "0 tshoot" "9 tshoot show" "3 tshoot show" "2 tshoot"; do
  # shellcheck disable=SC2086
  run complete $args
  expect_rc 0 "tshoot complete $args"
  [ ! -s "$WORK/out" ] || fail "tshoot complete $args printed $(cat "$WORK/out")"
  [ ! -s "$WORK/err" ] || fail "tshoot complete $args printed an error"
done
ok "files after --answers, --kb, -o, --host sim: and for compile/lint; nothing after --limit"

done_checks
