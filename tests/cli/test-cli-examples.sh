#!/bin/bash
# Every example in the help (tshoot --help and each command's help) runs,
# from the source root, against the shipped KB ($TSHOOT_KB), and exits 0; an
# unattended diagnosis (no answers: stdin is empty) may also end inconclusive
# (6), its documented status for "nothing known names no cause".
. "$(dirname "$0")/lib.sh"
[ -f "$TSHOOT_KB" ] || fail "the shipped KB $TSHOOT_KB is missing"
cd "$TSHOOT_SOURCE_ROOT"
{
  "$TSHOOT_BIN" --help
  for c in search show info compile lint help fix run; do "$TSHOOT_BIN" help "$c"; done
} | sed -n 's/^  \(tshoot [^#]*\).*/\1/p' | sed 's/ *$//' | awk '!seen[$0]++' > "$WORK/examples"
[ -s "$WORK/examples" ] || fail "no examples found in the help"
while IFS= read -r ex; do
  ex=${ex//\/tmp\//$WORK\/}   # examples that write to /tmp write to our own folder
  set +e
  eval "\"\$TSHOOT_BIN\" ${ex#tshoot }" >"$WORK/out" 2>"$WORK/err" </dev/null
  RC=$?
  set -e
  if [ "$RC" = 6 ] && [[ "$ex" == "tshoot diagnose"* ]]; then
    grep -q "No cause can be named with confidence" "$WORK/out" || fail "example '$ex': exit 6 without saying why"
    RC=0
  fi
  expect_rc 0 "example '$ex'"
  ok "example: $ex"
done < "$WORK/examples"
done_checks
