#!/bin/sh
# make-session-seeds.sh TSHOOT KB OUTDIR: seed sessions for fuzz-session, saved
# by this build's tshoot against this build's KB (a session carries the KB's
# digest, so seeds in the repository would go stale whenever kb/ changes).
set -eu
tshoot=$1 kb=$2 out=$3
rm -rf "$out"
mkdir -p "$out"
n=0
seed() { # seed ARGS...: one diagnosis, saved
  n=$((n + 1))
  "$tshoot" diagnose --kb "$kb" --save "$out/session-$n.json" "$@" >/dev/null 2>&1 </dev/null || true
  [ -s "$out/session-$n.json" ] || { echo "no session saved by: tshoot diagnose $*" >&2; exit 1; }
}
seed outlook does not start, MAPI was unable to load the information service kofmsp.dll
seed --answer dll.exists=no --answer scope.affected=pc outlook kofmsp.dll error
seed --answer update.recent=office --answer profile.new-works=no outlook stuck on loading profile
seed --no-fixes --threshold 0.99 --answer koff.recently-updated=yes kerio connector upgrade
seed --answer error.seen=loading-profile --answer koff.tray-error=yes --answer hw.ram=lt4 slow
