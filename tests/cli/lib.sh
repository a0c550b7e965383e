# lib.sh: helpers for the CLI test scripts (sourced, bash).
# Each script runs checks in order and stops at the first failure, naming it.
set -u
: "${TSHOOT_BIN:?TSHOOT_BIN must name the tshoot executable}"
: "${TSHOOT_SOURCE_ROOT:?TSHOOT_SOURCE_ROOT must be set}"
DATA="$TSHOOT_SOURCE_ROOT/tests/data/cli"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tshoot-cli.XXXXXX")
# a stopped dialogue saves itself under $XDG_STATE_HOME: ours, never the home folder
export XDG_STATE_HOME="$WORK/state"
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
  run_json_schema "$@"
}
# --json output is also checked against its JSON Schema (docs/schemas/, by
# checks.py): at the first `json` check after a `run` whose output is still in
# $WORK/out. SCHEMA_CHECKS=0 turns this off.
RUN_SCHEMA=""
run_json_schema() {
  local a cmd=${1:-}
  RUN_SCHEMA=""
  [ "$cmd" = lint ] && cmd=compile
  for a in "$@"; do
    if [ "$a" = --json ] && [ -f "$TSHOOT_SOURCE_ROOT/docs/schemas/$cmd.json" ]; then
      RUN_SCHEMA=$cmd
      cp "$WORK/out" "$WORK/.out.run"
    fi
  done
}
schema_check() { # at most once per run, when stdout is what the run printed
  [ -n "$RUN_SCHEMA" ] && [ "${SCHEMA_CHECKS:-1}" = 1 ] || return 0
  local s=$RUN_SCHEMA
  RUN_SCHEMA=""
  cmp -s "$WORK/out" "$WORK/.out.run" || return 0
  if [ -z "${HAVE_JSONSCHEMA:-}" ]; then
    if evaluate module jsonschema; then HAVE_JSONSCHEMA=1; else HAVE_JSONSCHEMA=0; fi
  fi
  [ "$HAVE_JSONSCHEMA" = 1 ] || return 0
  evaluate schema "$WORK/out" "$s" || fail "the output of 'tshoot $s --json' breaks docs/schemas/$s.json"
}
expect_rc() { # expect_rc N "what"
  [ "$RC" -eq "$1" ] || fail "$2: exit status $RC, expected $1"
}
out_has() { grep -q -e "$1" "$WORK/out" || fail "$2: stdout lacks '$1'"; }
out_lacks() { ! grep -q -e "$1" "$WORK/out" || fail "$2: stdout has '$1'"; }
err_has() { grep -q -e "$1" "$WORK/err" || fail "$2: stderr lacks '$1'"; }
no_escapes() { # no ANSI escape in stdout or stderr
  if grep -q $'\033' "$WORK/out" "$WORK/err"; then fail "$1: escape codes without a terminal"; fi
}
# The checks over JSON are evaluated by tests/tools/checks.py, one process per script
# (the python meson found, $TSHOOT_PYTHON), started at the first check: a check is a
# request to it, never an interpreter of its own.
: "${TSHOOT_PYTHON:?TSHOOT_PYTHON must name the python3 that evaluates the checks}"
# evaluate FIELD...: send one request (see checks.py); true when the check holds.
evaluate() {
  if [ -z "${CHECKER_PID:-}" ]; then
    coproc CHECKER { exec "$TSHOOT_PYTHON" -u "$TSHOOT_SOURCE_ROOT/tests/tools/checks.py"; }
  fi
  local reply=""
  printf '%s\0' "$#" "$@" >&"${CHECKER[1]}" || fail "the check evaluator is gone"
  IFS= read -r reply <&"${CHECKER[0]}" || fail "the check evaluator is gone"
  [ "$reply" = ok ]
}
# json EXPR "what": evaluate a Python expression over j = the JSON on stdout; it must be true.
# (stdout must be one line of compact JSON ended by a newline.)
json() { schema_check; evaluate json "$WORK/out" "$1" || fail "$2: JSON check failed: $1"; }
done_checks() { echo "$CHECKS checks passed"; exit 0; }
set -e
