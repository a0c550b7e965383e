#!/usr/bin/env bash
# Every --json output of tshoot against its JSON Schema in docs/schemas/
# (validated by python3-jsonschema in tests/tools/checks.py: one process for
# all the checks of this script), in each of its shapes: the usual ones, and
# the edges (no match, a test that fails, errors in sources, --strict stopping
# at a question, a fix that fails, a script that fails or breaks a limit).
# Every schema is used, and every schema is a valid 2020-12 schema. (lib.sh
# also checks the output of every `run ... --json` that other CLI tests make.)
source "$(dirname "$0")/lib.sh"
SCHEMAS="$TSHOOT_SOURCE_ROOT/docs/schemas"
if ! evaluate module jsonschema; then echo "SKIP: python3-jsonschema is not installed"; exit 77; fi
SCHEMA_CHECKS=0   # here each output is validated by name, below
M="$TSHOOT_SOURCE_ROOT/kb/kerio/machines"
S="$TSHOOT_SOURCE_ROOT/scripts/kerio"
FIX="$TSHOOT_SOURCE_ROOT/tests/data/diagnose"
mkdir -p "$WORK/json"
declare -A used=()

# valid SCHEMA RC NAME ARGS...: run tshoot ARGS, expect exit RC, and the JSON
# on stdout valid under docs/schemas/SCHEMA.json; kept as $WORK/json/NAME.json
valid() {
  local schema=$1 rc=$2 name=$3
  shift 3
  run "$@"
  expect_rc "$rc" "$name: tshoot $*"
  [ "$(wc -l <"$WORK/out")" -eq 1 ] || fail "$name: not one line of JSON"
  cp "$WORK/out" "$WORK/json/$name.json"
  evaluate schema "$WORK/json/$name.json" "$schema" || fail "$name: 'tshoot $*' breaks docs/schemas/$schema.json"
  used[$schema]=1
}

# --- search, show, info
valid search 0 search search --json kofmsp.dll error
json 'len(j["results"]) >= 1 and j["suggestion"] is None' "search: results"
valid search 1 search-nothing search --json zzzqqqxx
json 'j["results"] == []' "search: nothing matched"
valid search 0 search-suggestion search --json outlok
json 'j["suggestion"] == "outlook"' "search: a suggestion"
valid search 0 search-show search --json --show --limit 1 kofmsp
json 'j["article"]["id"] == "kofmsp"' "search --show: the article"
valid search 1 search-show-nothing search --json --show zzzqqqxx
json 'j["article"] is None' "search --show, nothing matched: article null"
printf 'caf\xc3\xa9 \xff outlook' >"$WORK/bytes.txt"
"$TSHOOT_BIN" search --json - <"$WORK/bytes.txt" >"$WORK/json/search-bytes.json" 2>/dev/null || true
evaluate schema "$WORK/json/search-bytes.json" search || fail "search - with invalid UTF-8 breaks search.json"
valid show 0 show show --json kofmsp
valid info 0 info info --json
ok "search (results, nothing, suggestion, --show, bytes), show, info"

# --- compile and lint
run compile --quiet "$FIX/home.xml" -o "$WORK/home.db"
expect_rc 0 "compile the diagnose fixture"
valid compile 0 compile compile --json "$FIX/home.xml" -o "$WORK/home2.db"
json 'j["ok"] and j["output"].endswith("home2.db") and "error" not in j' "compile: ok"
valid compile 1 compile-errors compile --json "$DATA/broken" -o "$WORK/broken.db"
json 'not j["ok"] and j["diagnostics"] and j["stats"]["errors"] >= 1' "compile: errors"
valid compile 1 compile-unwritable compile --json "$FIX/home.xml" -o "$WORK/no-such-folder/home.db"
json 'not j["ok"] and j["error"]["status"] == "io" and j["diagnostics"] == []' "compile: the KB cannot be written: an error object"
valid compile 0 lint lint --json "$FIX/home.xml"
json '"output" not in j and j["ok"]' "lint: ok"
valid compile 1 lint-errors lint --json "$DATA/broken"
ok "compile and lint (ok, errors in sources, an output that cannot be written)"

# --- test
valid test 0 test test --json --kb "$WORK/home.db"
run compile --quiet "$FIX/home.xml" "$FIX/wrong-test.xml" -o "$WORK/wrong.db"
valid test 1 test-failing test --json --kb "$WORK/wrong.db"
json 'j["failed"] == 1 and [t["message"] for t in j["tests"] if not t["ok"]][0]' "test: a failing test"
ok "test (all pass, one fails)"

# --- diagnose
valid diagnose 0 diagnose diagnose --json --kb "$WORK/home.db" -a router.internet-light=no -a devices.others=none
json 'j["conclusion"]["outcome"] == "concluded" and j["conclusion"]["cause"] == "home.isp-outage" and j["conclusion"]["fixes"]' "diagnose: concluded"
valid diagnose 6 diagnose-inconclusive diagnose --json --kb "$WORK/home.db" -a router.internet-light=yes -a devices.others=none -a wifi.bars=4 -a router.firmware=3.0
json 'j["conclusion"]["outcome"] == "inconclusive" and j["conclusion"]["escalation"]' "diagnose: inconclusive, with what to do now"
valid diagnose 6 diagnose-nothing diagnose --json --kb "$WORK/home.db"
json 'j["conclusion"]["outcome"] == "inconclusive" and all(s["answer"] is None for s in j["steps"])' "diagnose: nothing known"
valid diagnose 3 diagnose-strict diagnose --json --strict --kb "$WORK/home.db" -a router.internet-light=yes
json 'j["conclusion"] is None and j["pending"]["choices"]' "diagnose --strict: pending question"
valid diagnose 6 diagnose-fix diagnose --json --kb "$WORK/home.db" -a router.internet-light=yes -a fix:home.fix.toggle-wifi=no -a devices.others=some
json 'any(s["kind"] == "fix" for s in j["steps"])' "diagnose: a fix step"
run diagnose --kb "$WORK/home.db" --save "$WORK/session.json" --strict -a router.internet-light=yes
valid diagnose 0 diagnose-resumed diagnose --json --kb "$WORK/home.db" --resume "$WORK/session.json" -a devices.others=none -a router.firmware=1.4.2 -a wifi.bars=4
json 'j["resumed"] and any(s["source"] == "saved" for s in j["steps"])' "diagnose --resume: saved steps"
valid diagnose 0 diagnose-host diagnose --json --host "sim:$M/kofmsp-registry-overwrite.json" --yes \
  outlook kofmsp.dll error --answer scope.affected=pc --answer error.seen=mapi-kofmsp
json 'any(s["kind"] == "fix" and "plan" in s for s in j["steps"]) and j["probed"] > 0' "diagnose --host: fix results and probes"
ok "diagnose (concluded, inconclusive, nothing known, --strict pending, fix steps, resumed, on a host)"

# --- fix
valid fix 0 fix-dry fix --json kofmsp.registry-overwrite --host "sim:$M/kofmsp-registry-overwrite.json" --dry-run
json 'j["dry_run"] and all(t["outcome"] in ("planned", "plan failed", "manual") for t in j["tries"])' "fix --dry-run"
valid fix 0 fix fix --json kofmsp.registry-overwrite --host "sim:$M/kofmsp-registry-overwrite.json" --yes
json 'j["fixed_by"] and any(t["outcome"] == "failed" and t["run"]["rolled_back"] is not None for t in j["tries"])' "fix: a failed try, then one that verified"
valid fix 1 fix-none fix --json kofmsp.malware --host "sim:$M/healthy.json" --yes
json 'j["fixed_by"] is None' "fix: none verified"
ok "fix (--dry-run, verified after a failure, none verified)"

# --- run
valid run 0 run-probe run --json "$S/os-version.lua" --host "sim:$M/kofmsp-os-unsupported.json"
json 'j["kind"] == "probe" and j["answer"] == "win7"' "run: a probe"
valid run 0 run-plan run --json "$S/fix-new-profile.lua" --host "sim:$M/kofmsp-profile-corrupt.json"
json 'j["mode"] == "plan" and j["changes"]' "run: a fix's plan"
printf 'error("broken on purpose")\n' >"$WORK/broken.lua"
valid run 1 run-error run --json "$WORK/broken.lua"
json 'j["status"] == "error" and "broken on purpose" in j["message"]' "run: a script error"
printf 'while true do end\n' >"$WORK/loop.lua"
valid run 1 run-limit run --json --instructions 100000 "$WORK/loop.lua"
json 'j["status"] == "limit"' "run: a limit"
ok "run (probe, plan, error, limit)"

# --- an error before any output: nothing on stdout, never half a JSON object
run show --json no-such-article
expect_rc 1 "show --json of an unknown article"
[ ! -s "$WORK/out" ] || fail "an error printed JSON that no schema describes"
ok "an error without a JSON shape leaves stdout empty"

# every schema used; every schema valid under its meta-schema, ids of its refs resolved
for f in "$SCHEMAS"/*.json; do
  s=$(basename "$f" .json)
  [ -n "${used[$s]:-}" ] || fail "docs/schemas/$s.json is checked against no output here"
done
evaluate code '
import json, pathlib, jsonschema
for f in sorted(pathlib.Path(argv[0]).glob("*.json")):
    s = json.loads(f.read_text())
    assert s.get("$schema") == "https://json-schema.org/draft/2020-12/schema", f
    jsonschema.validators.validator_for(s).check_schema(s)
' "$SCHEMAS" || fail "a schema of docs/schemas is not a valid JSON Schema"
ok "${#used[@]} schemas, each used and valid"

done_checks
