#!/bin/bash
# SIGINT / SIGTERM during `tshoot compile`: the compile is cancelled, the old
# KB stays byte-identical, no temporary file is left, and tshoot dies of the
# signal (exit status 128 + n). Needs a KB big enough to
# interrupt, which it writes with python ($TSHOOT_PYTHON, found by meson).
. "$(dirname "$0")/lib.sh"
"$TSHOOT_PYTHON" - "$WORK/src" <<'PY' || fail "cannot write the generated KB"
import os, sys
out = sys.argv[1]
os.makedirs(out)
words = ("printer spooler queue driver cable network paper toner tray roller fuser "
         "scanner port usb wifi router firmware update service restart offline").split()
for f in range(100):
    parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<kb xmlns="urn:tshoot:kb:1" id="gen%d">' % f]
    for a in range(200):
        n = f * 200 + a
        w = [words[(n * k + k) % len(words)] for k in range(1, 8)]
        parts.append(
            '<article id="a%d"><title>%s %s fails %d</title>'
            '<symptoms><symptom>The %s %s stops after %s</symptom>'
            '<error code="0x%08x">%s %s error %d</error></symptoms>'
            '<cause id="c%d"><title>The %s is broken</title>'
            '<explanation>Because the %s and the %s disagree about %s.</explanation>'
            '<fix id="x%d"><title>Reset the %s</title><step>Turn the %s off and on.</step>'
            '<step>Check the %s again.</step><verify>The %s works.</verify></fix>'
            '</cause></article>' % (n, w[0], w[1], n, w[2], w[3], w[4], n, w[5], w[6], n, n,
                                    w[0], w[1], w[2], w[3], n, w[4], w[5], w[6], w[0]))
    parts.append('</kb>\n')
    with open(os.path.join(out, 'gen%02d.xml' % f), 'w') as fh:
        fh.write('\n'.join(parts))
PY
mkdir "$WORK/out.d"
KB="$WORK/out.d/kb.db"
# The old KB: any KB will do, so a small one (one file of the 100) saves a
# full compile; the interrupted compiles below read all of them.
run compile --quiet "$WORK/src/gen00.xml" -o "$KB"
expect_rc 0 "compile of one file of the generated KB"
cp "$KB" "$WORK/before.db"

for sig in INT TERM; do
  set +e
  "$TSHOOT_BIN" compile "$WORK/src" -o "$KB" >"$WORK/out" 2>"$WORK/err" </dev/null &
  pid=$!
  # wait until the compile is writing (its temporary file appears next to the KB)
  for _ in $(seq 1 400); do
    [ "$(ls -A "$WORK/out.d" | wc -l)" -gt 1 ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.01
  done
  kill -"$sig" "$pid" 2>/dev/null
  wait "$pid"
  RC=$?
  set -e
  if [ "$RC" -eq 0 ]; then
    echo "note: the compile finished before SIG$sig arrived; not checked"
    cp "$WORK/before.db" "$KB"
    continue
  fi
  want=$((128 + $(kill -l "$sig")))
  expect_rc "$want" "compile interrupted by SIG$sig"
  err_has "interrupted" "SIG$sig: says it was interrupted"
  cmp -s "$KB" "$WORK/before.db" || fail "SIG$sig: the old KB changed"
  [ "$(ls -A "$WORK/out.d")" = "kb.db" ] || fail "SIG$sig: files left behind: $(ls -A "$WORK/out.d")"
  ok "SIG$sig cancels the compile, keeps the old KB, leaves no temporary file"
done

# ----- Ctrl-C (SIGINT) in an interactive diagnosis: the session is saved under
# $XDG_STATE_HOME (lib.sh points it into $WORK) and the command that resumes it said
DKB="$WORK/home.db"
run compile --quiet "$TSHOOT_SOURCE_ROOT/tests/data/diagnose/home.xml" -o "$DKB"
mkfifo "$WORK/in"
set +e
"$TSHOOT_BIN" diagnose --kb "$DKB" --interactive --no-fixes laptop has no internet \
  <"$WORK/in" >"$WORK/out" 2>"$WORK/err" &
pid=$!
exec 9>"$WORK/in"            # the person's keyboard: open, nothing typed yet
printf 'yes\n' >&9          # one answer, then Ctrl-C at the next question
for _ in $(seq 1 300); do
  [ "$(grep -c '^Question' "$WORK/out" 2>/dev/null)" -ge 2 ] && break
  sleep 0.01
done
kill -INT "$pid"
wait "$pid"
RC=$?
exec 9>&-
set -e
expect_rc 5 "Ctrl-C at the prompt"
out_has "Interrupted; your answers are saved. Continue later with: tshoot diagnose --resume $XDG_STATE_HOME/tshoot/last-session.json" \
  "Ctrl-C: the session is saved and the command to resume it shown"
[ -s "$XDG_STATE_HOME/tshoot/last-session.json" ] || fail "Ctrl-C: no saved session"
run diagnose --kb "$DKB" --resume "$XDG_STATE_HOME/tshoot/last-session.json" --json
json 'any(s["kind"] == "ask" and s["answer"] == "yes" and s["source"] == "saved" for s in j["steps"])' \
  "the resumed session has the answer given before Ctrl-C"
ok "Ctrl-C in a diagnosis saves the session and says how to resume it"

# end of input does the same
printf 'yes\n' | "$TSHOOT_BIN" diagnose --kb "$DKB" --interactive --no-fixes laptop has no internet >"$WORK/out" 2>"$WORK/err" || RC=$?
out_has "Stopped. Continue later with: tshoot diagnose --resume $XDG_STATE_HOME/tshoot/last-session.json" \
  "end of input: saved, with the command to resume"
ok "end of input in a diagnosis saves the session too"
done_checks
