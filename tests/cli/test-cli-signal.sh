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
done_checks
