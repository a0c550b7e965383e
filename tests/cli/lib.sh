# lib.sh: helpers for the CLI test scripts (sourced, bash).
# Each script runs checks in order and stops at the first failure, naming it.
set -u
: "${TSHOOT_BIN:?TSHOOT_BIN must name the tshoot executable}"
: "${TSHOOT_SOURCE_ROOT:?TSHOOT_SOURCE_ROOT must be set}"
DATA="$TSHOOT_SOURCE_ROOT/tests/data/cli"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tshoot-cli.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
CHECKS=0

fail() {
  echo "FAIL: $*" >&2
  if [ -f "$WORK/out" ]; then echo "--- stdout:" >&2; head -c 4000 "$WORK/out" >&2; fi
  if [ -f "$WORK/err" ]; then echo "--- stderr:" >&2; head -c 4000 "$WORK/err" >&2; fi
  exit 1
}
ok() { CHECKS=$((CHECKS + 1)); echo "ok   $*"; }

# run ARGS...: run tshoot, stdout in $WORK/out, stderr in $WORK/err, status in $RC.
run() {
  set +e
  "$TSHOOT_BIN" "$@" >"$WORK/out" 2>"$WORK/err" </dev/null
  RC=$?
  set -e
}
expect_rc() { # expect_rc N "what"
  [ "$RC" -eq "$1" ] || fail "$2: exit status $RC, expected $1"
}
out_has() { grep -q -e "$1" "$WORK/out" || fail "$2: stdout lacks '$1'"; }
err_has() { grep -q -e "$1" "$WORK/err" || fail "$2: stderr lacks '$1'"; }
no_escapes() { # no ANSI escape in stdout or stderr
  if grep -q $'\033' "$WORK/out" "$WORK/err"; then fail "$1: escape codes without a terminal"; fi
}
# json EXPR "what": evaluate a Python expression over j = the JSON on stdout; it must be true.
json() {
  python3 - "$WORK/out" "$1" <<'PY' || fail "$2: JSON check failed: $1"
import json, sys
text = open(sys.argv[1], encoding="utf-8").read()
assert text.endswith("\n"), "output does not end with a newline"
assert text.count("\n") == 1, "JSON is not compact (one line) without a terminal"
j = json.loads(text)
ok = eval(sys.argv[2], {"j": j})
if not ok:
    print("JSON was:", json.dumps(j, indent=2)[:3000], file=sys.stderr)
    sys.exit(1)
PY
}
done_checks() { echo "$CHECKS checks passed"; exit 0; }
set -e
