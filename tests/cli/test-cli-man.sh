#!/usr/bin/env bash
# The man page tshoot.1 ($TSHOOT_MAN, made at build time by tools/mkman.c from
# engine/cli/help.c, the text of --help): groff renders it without a warning,
# and it names every command that `tshoot --help` lists and, in each command's
# section, every option that `tshoot COMMAND --help` names.
source "$(dirname "$0")/lib.sh"
: "${TSHOOT_MAN:?TSHOOT_MAN must name the generated tshoot.1}"
if [ -z "${TSHOOT_GROFF:-}" ]; then echo "SKIP: no groff (Debian: groff-base)"; exit 77; fi

"$TSHOOT_GROFF" -man -Tascii -P-cbou -ww "$TSHOOT_MAN" >"$WORK/man.txt" 2>"$WORK/warnings" ||
  fail "groff failed on tshoot.1"
[ ! -s "$WORK/warnings" ] || fail "groff warns about tshoot.1: $(head -5 "$WORK/warnings")"
grep -q "^TSHOOT(1)" "$WORK/man.txt" || fail "the page has no TSHOOT(1) header"
for s in NAME SYNOPSIS DESCRIPTION COMMANDS EXAMPLES FILES; do
  grep -q "^$s\$" "$WORK/man.txt" || fail "the page has no $s section"
done
ok "groff renders tshoot.1 without warnings, with its sections"

# the commands of `tshoot --help`
run --help
expect_rc 0 "tshoot --help"
cmds=$(sed -n '/^commands:$/,/^$/p' "$WORK/out" | sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p')
[ "$(wc -w <<<"$cmds")" -ge 9 ] || fail "found only these commands in --help: $cmds"
# the options of the overview (--help, --version)
for o in $(grep -o -- '--[a-z][a-z-]*' "$WORK/out" | sort -u); do
  grep -q -- "$o" "$WORK/man.txt" || fail "the man page lacks $o of 'tshoot --help'"
done

# a command's section: from its heading ("   NAME") to the next heading
section() {
  awk -v name="$1" '
    /^[A-Z]/ { inside = 0 }
    /^   [a-z][a-z-]*$/ { inside = ($1 == name); next }
    inside' "$WORK/man.txt"
}
n_opts=0
for c in $cmds; do
  grep -q "^       tshoot $c - " "$WORK/man.txt" || fail "SYNOPSIS lacks 'tshoot $c'"
  section "$c" >"$WORK/section"
  [ -s "$WORK/section" ] || fail "the man page has no section for '$c'"
  run "$c" --help
  expect_rc 0 "tshoot $c --help"
  # every option word: long ones anywhere, short ones where options are listed
  opts=$( { grep -o -- '--[a-zA-Z][a-zA-Z-]*' "$WORK/out"; grep -o '^  -[a-zA-Z],' "$WORK/out" | tr -d ' ,'; } | sort -u)
  for o in $opts; do
    grep -qE -- "(^|[^-a-zA-Z])$o([^-a-zA-Z]|\$)" "$WORK/section" ||
      fail "the man page's section '$c' lacks $o of 'tshoot $c --help'"
    n_opts=$((n_opts + 1))
  done
  # and the same text: the first line of the description
  first=$(sed -n '/^usage:/,/^$/d; 3,$p' "$WORK/out" | sed -n '1{s/^ *//;s/  */ /g;p}')
  tr -s ' \n' '  ' <"$WORK/section" | grep -qF -- "$(cut -c1-40 <<<"$first")" ||
    fail "the section '$c' does not have the text of --help: '$first'"
done
[ "$n_opts" -ge 60 ] || fail "only $n_opts options checked: the extraction is broken"
ok "the man page names the $(wc -w <<<"$cmds") commands and $n_opts options of --help"

done_checks
