#!/bin/bash
# `tshoot test`: the test cases of tests/data/diagnose/home.xml pass; a wrong
# one (wrong-test.xml, compiled with it) fails with its file:line, the top
# causes and exit 1; --json, --verbose, ID patterns; the shipped KB's and the
# car KB's cases all pass.
. "$(dirname "$0")/lib.sh"
FIX="$TSHOOT_SOURCE_ROOT/tests/data/diagnose"
KB="$WORK/home.db"
run compile --quiet --Werror "$FIX/home.xml" -o "$KB"
expect_rc 0 "compile the fixture"

run test --kb "$KB"
expect_rc 0 "tshoot test on the fixture"
for t in home.t.outage home.t.outage-text home.t.driver home.t.firmware home.t.signal; do
  out_has "^ok   $t\$" "test $t passes"
done
out_has "^5 passed, 0 failed\$" "summary"
no_escapes "tshoot test without a terminal"
ok "every test case of the fixture passes"

run test --kb "$KB" --verbose
expect_rc 0 "--verbose"
out_has "concluded home.isp-outage (p=0\.[0-9]*)" "--verbose shows the conclusion"
ok "--verbose shows what each test concluded"

run test --kb "$KB" 'home.t.outage*'
expect_rc 0 "a pattern"
out_has "^2 passed, 0 failed\$" "a pattern selects tests"
run test --kb "$KB" home.t.nosuch
expect_rc 2 "a pattern that matches nothing"
err_has "no test matches" "says that nothing matched"
ok "ID patterns select tests; none matching is a usage error"

run test --kb "$KB" --json
expect_rc 0 "--json"
json 'j["passed"] == 5 and j["failed"] == 0 and len(j["tests"]) == 5' "--json counts"
json 'all(t["ok"] and t["concluded"] == t["expect_cause"] and t["file"].endswith("home.xml") and t["line"] > 0 for t in j["tests"])' "--json tests"
ok "--json report"

# a second fixture with a deliberately wrong test
WRONG="$WORK/wrong.db"
run compile --quiet "$FIX/home.xml" "$FIX/wrong-test.xml" -o "$WRONG"
expect_rc 0 "compile the wrong fixture"
run test --kb "$WRONG"
expect_rc 1 "a failing test"
line=$(grep -n '<test id="home.t.wrong"' "$FIX/wrong-test.xml" | cut -d: -f1)
out_has "^FAIL home.t.wrong: expected cause home.weak-signal, concluded home.isp-outage (p=0\.[0-9]*); .*wrong-test.xml:$line: <test>\$" \
  "the failure names the causes and file:line"
out_has "%  The provider's line is down (home.isp-outage)" "the top causes are listed"
out_has "^ok   home.t.outage\$" "the other tests still run"
out_has "^5 passed, 1 failed\$" "summary with a failure"
ok "a wrong test: FAIL with file:line and the top causes, exit 1"

run test --kb "$WRONG" --json
expect_rc 1 "--json with a failure"
json '[t["id"] for t in j["tests"] if not t["ok"]] == ["home.t.wrong"] and j["failed"] == 1' "--json failure"
json '[t for t in j["tests"] if t["id"] == "home.t.wrong"][0]["line"] == '"$line" "--json failure line"
ok "--json reports the failure"

# a KB without tests
cat > "$WORK/notests.xml" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<kb xmlns="urn:tshoot:kb:1" id="notests">
  <question id="q.power" type="yesno"><prompt>Is it on?</prompt></question>
  <article id="a">
    <title>It does not work</title>
    <cause id="c.off" prior="0.5">
      <title>It is off</title>
      <explanation>Things that are off do not work.</explanation>
      <evidence><requires><eq question="q.power" value="no"/></requires></evidence>
    </cause>
  </article>
</kb>
XML
run compile --quiet "$WORK/notests.xml" -o "$WORK/notests.db"
expect_rc 0 "compile a KB without tests"
run test --kb "$WORK/notests.db"
expect_rc 0 "a KB without tests"
err_has "no test cases" "a KB without tests says so"
out_has "^0 passed, 0 failed\$" "a KB without tests: summary"
ok "a KB without tests: a note, exit 0"

# the car KB and the shipped KB
if [ -f "$TSHOOT_SOURCE_ROOT/tests/data/car/car.xml" ]; then
  run compile --quiet "$TSHOOT_SOURCE_ROOT/tests/data/car/car.xml" -o "$WORK/car.db"
  expect_rc 0 "compile the car KB"
  run test --kb "$WORK/car.db"
  expect_rc 0 "the car KB's tests"
  ok "the car KB's test cases pass"
fi
if [ -f "${TSHOOT_KB:-}" ]; then
  run test
  expect_rc 0 "the shipped KB's tests"
  out_has "^[1-9][0-9]* passed, 0 failed\$" "shipped KB summary"
  run test --json
  "$TSHOOT_PYTHON" - "$WORK/out" "$TSHOOT_SOURCE_ROOT/kb/kerio" <<'PY' || fail "a cause of the shipped KB has fewer than two test cases"
import glob, json, os, sys, xml.etree.ElementTree as ET
j = json.load(open(sys.argv[1]))
ns = "{urn:tshoot:kb:1}"
causes = set()
for f in glob.glob(os.path.join(sys.argv[2], "*.xml")):
    causes |= {c.get("id") for c in ET.parse(f).iter(ns + "cause")}
count = {c: 0 for c in causes}
for t in j["tests"]:
    assert t["ok"], t
    if t["expect_cause"] in count:
        count[t["expect_cause"]] += 1
few = sorted(c for c, n in count.items() if n < 2)
assert causes and not few, "fewer than two tests: %s" % few
print("%d causes, each with at least two passing tests" % len(causes))
PY
  ok "the shipped KB's test cases pass"
fi
done_checks
