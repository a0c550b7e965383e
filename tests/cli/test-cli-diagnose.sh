#!/bin/bash
# `tshoot diagnose` on tests/data/diagnose/home.xml: scripted answers
# (--answer, an answer file), the conclusion block and exit statuses, --json,
# --save then --resume in another process, --strict, answers the KB does not
# know (did-you-mean), and the prompt (back, skip, why, causes, how) through
# --interactive with piped input and through a pseudo-terminal.
. "$(dirname "$0")/lib.sh"
FIX="$TSHOOT_SOURCE_ROOT/tests/data/diagnose"
KB="$WORK/home.db"
run compile --quiet --Werror "$FIX/home.xml" -o "$KB"
expect_rc 0 "compile the diagnose fixture without warnings"
[ ! -s "$WORK/err" ] || fail "the fixture compiles with messages"
ok "the fixture compiles without warnings"

# ----- scripted answers
run diagnose --kb "$KB" --answer router.internet-light=no --answer devices.others=none
expect_rc 0 "diagnose with --answer"
out_has "^Q: Is the internet light on the router on? -> no (from answers)" "scripted answers are printed"
out_has "^Most likely cause: The provider's line is down (9[0-9]%)" "the conclusion names the cause"
out_has "Fix 1: Restart the router" "the conclusion lists the fixes"
out_has "1\. Unplug the router's power cable" "fix steps are numbered"
out_has "Check: The internet light is on" "the fix's check is shown"
out_has "^Why:" "the conclusion says why"
out_has "you answered \"No\" to \"Is the internet light on the router on?\"" "the evidence names the answer, in words"
out_lacks "router.internet-light" "and no id"
out_has "^1 question asked\.$" "the summary counts the questions"
err_has "not needed: devices.others" "unused answers are noted"
no_escapes "diagnose without a terminal"
ok "--answer: the provider outage is concluded with its fixes"

run diagnose --kb "$KB" -a router.internet-light=yes -a devices.others=some -a router.firmware=1.4.2 -a wifi.bars=4
expect_rc 0 "diagnose the old firmware"
out_has "^Most likely cause: Old router firmware drops wireless clients" "firmware cause"
out_has "Fix 1: Update the router's firmware" "firmware fix"
out_has "needs admin, not reversible, risk medium" "fix attributes"
ok "--answer with version and number answers: old firmware"

run diagnose --kb "$KB" --answers "$FIX/outage.answers" the wireless connection drops
expect_rc 0 "diagnose with an answer file"
out_has "^Most likely cause: The provider's line is down" "answer file conclusion"
ok "--answers FILE (comments, blank lines, ? for don't know)"

run diagnose --kb "$KB" --answers "$FIX/outage.answers" --answer router.internet-light=yes --answer devices.others=all
expect_rc 0 "--answer overrides --answers"
out_has "^Most likely cause: The laptop's wireless driver is stuck" "--answer wins over the file"
ok "--answer wins over --answers"

run diagnose --kb "$KB" --quiet -a router.internet-light=no -a devices.others=none
expect_rc 0 "--quiet"
if grep -q "^Q:" "$WORK/out"; then fail "--quiet still prints the questions"; fi
out_has "^Most likely cause: The provider's line is down" "--quiet keeps the conclusion"
ok "--quiet prints only the conclusion"

# unanswered questions count as don't know; "none" leads, but not clearly:
# inconclusive, exit 6, with the candidates and what to do now
run diagnose --kb "$KB" -a router.internet-light=yes -a devices.others=none -a wifi.bars=4 -a router.firmware=3.0
expect_rc 6 "answers that fit no cause"
out_has "No cause can be named with confidence" "inconclusive: says so"
out_has "What to do now:" "inconclusive: says what to do"
out_has "None of the known causes" "inconclusive: none among the candidates"
out_has "Old router firmware drops wireless clients" "inconclusive: lists candidates anyway"
out_lacks "(home\." "inconclusive: candidates in words, no ids"
ok "no cause fits clearly: exit 6 with the closest candidates and the escalation"

run diagnose --kb "$KB" --verbose -a router.internet-light=yes -a devices.others=none -a wifi.bars=4 -a router.firmware=3.0
out_has "(home\.old-firmware)" "--verbose: the ids are shown beside the words"
ok "--verbose shows the ids; without it people read only words"

# nothing known at all (every question "don't know"): no cause is named
run diagnose --kb "$KB" </dev/null
expect_rc 6 "nothing known"
out_has "No cause can be named with confidence" "nothing known: inconclusive"
run diagnose --kb "$KB" --json </dev/null
expect_rc 6 "nothing known, --json"
json 'j["conclusion"]["outcome"] == "inconclusive" and len(j["conclusion"]["escalation"]) > 20' "inconclusive in --json"
ok "nothing known: inconclusive (exit 6), in text and --json"

run diagnose --kb "$KB" -a router.internet-light=yes
expect_rc 6 "unattended with missing answers (inconclusive: the one answer does not settle it)"
out_has "-> don't know (no answer given)" "a missing answer is don't know"
ok "unattended: questions without an answer are \"don't know\" and the run ends"

run diagnose --kb "$KB" --strict -a router.internet-light=yes
expect_rc 3 "--strict with a missing answer"
err_has "no answer for question devices.others" "--strict names the question"
ok "--strict: exit 3 at the first question without an answer"
run diagnose --kb "$KB" --strict --json -a router.internet-light=yes
expect_rc 3 "--strict --json with a missing answer"
json 'j["version"] == 1 and j["conclusion"] is None' "--strict --json: a versioned transcript without a conclusion"
json 'j["pending"]["question"] == "devices.others" and j["pending"]["type"] == "choice"' "--strict --json names the question it stopped at"
json 'j["pending"]["prompt"].startswith("Can other devices")' "--strict --json: the pending question's prompt"
json '[(c["value"], c["label"]) for c in j["pending"]["choices"]] == [("all", "Yes, all of them"), ("some", "Some of them, sometimes"), ("none", "No, none of them")]' "--strict --json: the pending question's choices with their labels"
ok "--strict --json: the question it stopped at, with its choices, is in the JSON"
# ----- the description from stdin: '-', also larger than a command line
for i in $(seq 4500); do echo "chrome[$i]: net::ERR DNS_PROBE_FINISHED_NO_INTERNET the laptop has no internet at home"; done >"$WORK/log.txt"
[ "$(wc -c <"$WORK/log.txt")" -gt 300000 ] || fail "the pasted log is not large"
set +e
"$TSHOOT_BIN" diagnose --kb "$KB" --json -a router.internet-light=no -a devices.others=none - <"$WORK/log.txt" >"$WORK/out" 2>"$WORK/err"
RC=$?
set -e
expect_rc 0 "diagnose - with a 360 KB log on stdin"
json 'j["text"].startswith("chrome[1]: net::ERR DNS_PROBE") and len(j["text"]) > 300000 and j["text"].endswith("at home")' "diagnose -: the description is all of stdin, trimmed"
json 'j["conclusion"]["cause"] == "home.isp-outage"' "diagnose -: the log's words count as the description"
ok "diagnose -: a pasted log on stdin as the description, larger than a command line allows"
run diagnose --kb "$KB" --json -a router.internet-light=no -a devices.others=none -
expect_rc 0 "diagnose - with nothing on stdin"
json 'j["text"] is None' "diagnose -: empty stdin is no description"
run diagnose --kb "$KB" --interactive -
expect_rc 2 "diagnose - --interactive"
err_has "'-' reads the description from stdin" "diagnose - --interactive: stdin cannot hold both"
ok "diagnose -: empty stdin is no description; not with --interactive"

run diagnose --kb "$KB" --json -a router.internet-light=no -a devices.others=none
json 'j["version"] == 1 and list(j)[0] == "version" and "pending" not in j' "--json: version first; no pending question when it concluded"
ok "diagnose --json carries \"version\": 1"

# ----- fixes, scripted
run diagnose --kb "$KB" -a router.internet-light=yes -a fix:home.fix.toggle-wifi=yes
expect_rc 0 "a fix that worked"
out_has "Turn the laptop's wireless off and on (for: The laptop's wireless driver is stuck) -> worked (from answers)" "fix result from answers"
out_has "^Solved: 'Turn the laptop's wireless off and on' fixed the problem" "solved by the fix"
out_has "fix tried" "summary counts fixes"
ok "fix:ID=yes: the fix is proposed, works, and concludes its cause"

run diagnose --kb "$KB" --json -a router.internet-light=yes -a fix:home.fix.toggle-wifi=no -a devices.others=some
# two questions stay unanswered and the fixes nobody tried are no evidence: inconclusive
expect_rc 6 "--json with a fix that did not work"
json '[s for s in j["steps"] if s["kind"] == "fix"][0] == {"kind": "fix", "fix": "home.fix.toggle-wifi", "title": "Turn the laptop'"'"'s wireless off and on", "cause": "home.laptop-driver", "probability": [s for s in j["steps"] if s["kind"] == "fix"][0]["probability"], "result": "did_not_work", "worked": False, "source": "answers"}' "--json: a fix step answered in advance"
json 'all(s["result"] == "could_not_try" for s in j["steps"] if s["kind"] == "fix" and s["source"] == "unattended")' "--json: a fix nobody tried is could_not_try, no evidence"
json '[f["tried"] and f["worked"] is False for f in j["conclusion"].get("fixes", []) if f["id"] == "home.fix.toggle-wifi"] in ([], [True])' "--json: the conclusion marks the fix tried"
ok "--json: a fix answered in advance is a step {kind, fix, title, cause, probability, result, worked, source}"

# a resumed session keeps the fixes tried before
run diagnose --kb "$KB" --save "$WORK/fixes.json" --strict -a router.internet-light=yes -a fix:home.fix.toggle-wifi=no
expect_rc 3 "first half with a fix result"
run diagnose --kb "$KB" --resume "$WORK/fixes.json" -a devices.others=some -a router.firmware=1.4.2 -a wifi.bars=4
expect_rc 0 "resume after a fix result"
out_has "3 fixes tried" "the resumed summary counts the fixes tried before"
out_has "be tried" "the conclusion marks a fix reported before (not tried, unattended)"
ok "--resume keeps the fixes tried before"

# whether fixes are proposed is this run's decision: a session saved unattended
# (no fixes) proposes them when resumed with a fix answer
run diagnose --kb "$KB" --save "$WORK/nofix.json" --strict -a router.internet-light=yes
expect_rc 3 "first half, unattended, without fix answers"
run diagnose --kb "$KB" --resume "$WORK/nofix.json" -a fix:home.fix.toggle-wifi=yes
expect_rc 0 "resume with a fix answer"
out_has "(for: The laptop's wireless driver is stuck) -> worked (from answers)" "the resumed run proposes the fix"
ok "--resume: a session saved without fixes proposes them when this run can try them"

# ----- fixes with a script, on a host (fixrun.c): the text, and one JSON shape with 'tshoot fix'
MACHINES="$TSHOOT_SOURCE_ROOT/kb/kerio/machines"
KKB="$WORK/kerio.db"
run compile --quiet --scripts "$TSHOOT_SOURCE_ROOT/scripts" "$TSHOOT_SOURCE_ROOT/kb/kerio" -o "$KKB"
expect_rc 0 "compile the Kerio KB"
HOSTARGS=(--kb "$KKB" --host "sim:$MACHINES/kofmsp-registry-overwrite.json" --yes
  -a update.recent=office -a profile.new-works=no -a scope.affected=pc -a error.seen=mapi-kofmsp
  -a eventlog.provider-blocked=no -a office.reinstalled=no
  outlook does not start, MAPI was unable to load the information service kofmsp.dll)
run diagnose "${HOSTARGS[@]}"
expect_rc 0 "diagnose --host --yes"
out_has "^Trying a fix on the machine (for: A Windows or Office update changed the connector's MAPI registration, [0-9]*% likely): Technician: check the MAPI registration of the Kerio provider by hand, needs admin rights$" "a fix on the machine is announced"
out_has "^  plan:$" "its plan is shown"
out_has "^    registry.set HKLM.*PR_SERVICE_DLL_NAME: null -> " "the plan lists the changes"
out_has "^  applied and verified$" "a verified fix says so"
out_has "^  the plan failed: kerio/fix-new-profile.lua:[0-9]*: the Kerio provider is not registered" "a failed plan is shown"
out_has "^  did not work: verify: the provider is not registered with its full path" "a fix that does not verify says why"
out_has "^Solved: 'Technician: check the MAPI registration" "the verified fix solves it"
ok "diagnose --host: plan, apply, verify and roll back, printed as before"

run diagnose --json "${HOSTARGS[@]}"
expect_rc 0 "diagnose --host --yes --json"
json 'all(set(s) == {"kind", "fix", "title", "cause", "probability", "result", "worked", "source", "outcome", "message", "plan", "run"} for s in j["steps"] if s["kind"] == "fix" and s["source"] == "host")' "--json: a fix run on the host carries the fix result"
json '[(s["fix"], s["outcome"], s["worked"]) for s in j["steps"] if s["kind"] == "fix" and s.get("outcome") == "verified"] == [("kofmsp.fix.reg-technician", "verified", True)]' "--json: the verified fix"
json 'all(s["run"]["rolled_back"] and s["message"] == s["run"]["message"] for s in j["steps"] if s["kind"] == "fix" and s.get("outcome") == "failed" and s["run"]["changes"])' "--json: a failed fix with changes was rolled back"
json 'all(s["plan"]["status"] in ("ok", "error") and "changes" in s["plan"] for s in j["steps"] if s["kind"] == "fix" and s["source"] == "host")' "--json: each fix result has its plan"
cp "$WORK/out" "$WORK/diagnose-host.json"
run fix kofmsp.registry-overwrite --kb "$KKB" --host "sim:$MACHINES/kofmsp-registry-overwrite.json" --yes --json
expect_rc 0 "fix --json"
python3 - "$WORK/diagnose-host.json" "$WORK/out" <<'PY' || fail "diagnose --host and fix give different fix results"
import json, sys
d, f = (json.load(open(p)) for p in sys.argv[1:])
step = [s for s in d["steps"] if s["kind"] == "fix" and s["fix"] == "kofmsp.fix.reg-technician"][0]
tried = [t for t in f["tries"] if t["fix"] == "kofmsp.fix.reg-technician"][0]
shape = {"fix", "title", "outcome", "message", "plan", "run"}
assert set(tried) == shape, tried.keys()
assert shape <= set(step), step.keys()
for k in ("fix", "title", "outcome", "message"):
    assert step[k] == tried[k], (k, step[k], tried[k])
assert step["run"]["changes"] == tried["run"]["changes"] and step["plan"]["changes"] == tried["plan"]["changes"]
assert all(set(t) == {"fix", "title", "outcome", "message"} for t in f["tries"] if t["outcome"] == "manual")
PY
ok "one JSON shape for a fix result: diagnose --host and fix agree"

# Every file the command writes goes to a temporary file that is renamed over the old one:
# a second name (a hard link) of the old file keeps the old text, and no temporary file stays.
cp "$MACHINES/kofmsp-registry-overwrite.json" "$WORK/m.json"
for f in m-saved.json m.log d.log d.session r-saved.json r.log; do echo old > "$WORK/$f"; ln -f "$WORK/$f" "$WORK/$f.link"; done
ln -sf m-saved.json "$WORK/m-sym.json"
run fix kofmsp.registry-overwrite --kb "$KKB" --host "sim:$WORK/m.json" --yes --save "$WORK/m-sym.json" --log "$WORK/m.log"
expect_rc 0 "fix --save --log"
run diagnose "${HOSTARGS[@]}" --log "$WORK/d.log" --save "$WORK/d.session"
expect_rc 0 "diagnose --log --save"
run run "$TSHOOT_SOURCE_ROOT/scripts/kerio/fix-new-profile.lua" --host "sim:$MACHINES/kofmsp-profile-corrupt.json" --apply --yes --save "$WORK/r-saved.json" --log "$WORK/r.log"
expect_rc 0 "run --apply --save --log"
for f in m-saved.json m.log d.log d.session r-saved.json r.log; do
  [ "$(cat "$WORK/$f.link")" = old ] || fail "$f was written in place"
  [ "$(cat "$WORK/$f")" != old ] && [ -s "$WORK/$f" ] || fail "$f was not written"
done
[ -L "$WORK/m-sym.json" ] || fail "--save replaced a symbolic link instead of its target"
python3 -c 'import json, sys; json.load(open(sys.argv[1])); json.loads(open(sys.argv[2]).read())' "$WORK/m-saved.json" "$WORK/d.session" \
  || fail "a written file is not whole JSON"
[ -z "$(ls -A "$WORK" | grep '\.tmp')" ] || fail "a temporary file stayed: $(ls -A "$WORK" | grep '\.tmp')"
chmod 600 "$WORK/d.session"
run diagnose "${HOSTARGS[@]}" --save "$WORK/d.session"
[ "$(stat -c %a "$WORK/d.session")" = 600 ] || fail "--save changed the mode of the file it replaced"
ok "fix, run and diagnose write --save and --log through a temporary file and a rename"

run fix kofmsp.malware --kb "$KKB" --host "sim:$MACHINES/healthy.json" --dry-run --json
expect_rc 0 "fix --dry-run --json"
json '[t["outcome"] for t in j["tries"] if t["fix"] == "kofmsp.fix.quarantine"] == ["plan failed"] and [t["message"] for t in j["tries"] if t["fix"] == "kofmsp.fix.quarantine"][0]' "a dry run whose plan fails says so, with the plan's message"
ok "fix --dry-run: a plan that fails is 'plan failed', not 'planned'"

# ----- errors in answers
run diagnose --kb "$KB" --answer router.internet-ligth=no
expect_rc 2 "unknown question in --answer"
err_has "no question 'router.internet-ligth'" "unknown question named"
err_has "did you mean 'router.internet-light'" "did-you-mean for a question"
ok "unknown question in --answer: exit 2 with did-you-mean"

run diagnose --kb "$KB" --answer devices.others=maybe
expect_rc 2 "bad value in --answer"
err_has "all" "the allowed values are listed"
ok "a value the question does not allow: exit 2, allowed values listed"

run diagnose --kb "$KB" --answer fix:home.fix.toggle-wfi=yes
expect_rc 2 "unknown fix"
err_has "did you mean 'home.fix.toggle-wifi'" "did-you-mean for a fix"
run diagnose --kb "$KB" --answer router.internet-light
expect_rc 2 "--answer without ="
ok "unknown fix and malformed --answer: exit 2"

printf 'router.internet-light = no\ndevices.others = nope\n' > "$WORK/bad.answers"
run diagnose --kb "$KB" --answers "$WORK/bad.answers"
expect_rc 1 "bad answer file"
err_has "bad.answers:2: " "answer file errors have file:line"
run diagnose --kb "$KB" --answers "$WORK/missing.answers"
expect_rc 1 "missing answer file"
ok "answer file errors: exit 1 with file:line"

run diagnose --kb "$KB" --threshold 1.5
expect_rc 2 "bad --threshold"
run diagnose --kb "$KB" --resume "$WORK/x.json" some text
expect_rc 2 "TEXT with --resume"
run diagnose --kb "$KB" --json --interactive
expect_rc 2 "--json with --interactive"
ok "usage errors: exit 2"

# ----- --json
run diagnose --kb "$KB" --json -a router.internet-light=no -a devices.others=none no internet on any device
expect_rc 0 "diagnose --json"
json 'j["conclusion"]["cause"] == "home.isp-outage" and j["conclusion"]["probability"] > 0.9' "--json conclusion"
json 'j["text"] == "no internet on any device" and j["questions_asked"] == len(j["steps"]) >= 1' "--json text and count"
json 'j["steps"][0]["question"] == "router.internet-light" and j["steps"][0]["answer"] == "no" and all(s["kind"] == "ask" and s["source"] == "answers" and s["prompt"] for s in j["steps"])' "--json steps"
json 'j["conclusion"]["article"] == "home-no-internet" and j["conclusion"]["fixes"][0]["id"] == "home.fix.restart-router" and j["conclusion"]["fixes"][0]["steps"]' "--json fixes"
json 'j["causes"][0]["cause"] == "home.isp-outage" and abs(sum(c["probability"] for c in j["causes"]) - 1) < 1e-6' "--json ranking"
ok "--json: one object with the transcript, the conclusion and the ranking"

run diagnose --kb "$KB" --json -a router.internet-light=yes
expect_rc 6 "--json with missing answers (inconclusive)"
json 'any(s["source"] == "unknown" and s["answer"] is None for s in j["steps"])' "--json don't know"
ok "--json never asks: missing answers are don't know"

# ----- --save, then --resume in another process
SAVE="$WORK/session.json"
run diagnose --kb "$KB" --save "$SAVE" --strict -a router.internet-light=yes -a devices.others=some
expect_rc 3 "first half (stops at the first missing answer)"
[ -s "$SAVE" ] || fail "--save wrote nothing"
"$TSHOOT_PYTHON" -c 'import json,sys; j=json.load(open(sys.argv[1])); assert [a["question"] for a in j["answers"]] == ["router.internet-light","devices.others"], j' "$SAVE" \
  || fail "the saved session lacks the answers"
ls -A "$WORK" | grep -q 'session.json.tmp' && fail "--save left a temporary file"
run diagnose --kb "$KB" --resume "$SAVE" --save "$SAVE" -a router.firmware=1.4.2 -a wifi.bars=4 --json
expect_rc 0 "resume"
json 'j["resumed"] and j["conclusion"]["cause"] == "home.old-firmware"' "resumed conclusion"
json '[s["source"] for s in j["steps"]][:2] == ["saved", "saved"]' "resumed transcript starts with the saved answers"
cp "$WORK/out" "$WORK/resumed.json"
run diagnose --kb "$KB" --json -a router.internet-light=yes -a devices.others=some -a router.firmware=1.4.2 -a wifi.bars=4
"$TSHOOT_PYTHON" - "$WORK/out" "$WORK/resumed.json" <<'PY' || fail "resume reaches another conclusion than one run"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
assert a["conclusion"]["cause"] == b["conclusion"]["cause"], (a["conclusion"], b["conclusion"])
assert abs(a["conclusion"]["probability"] - b["conclusion"]["probability"]) < 1e-9
PY
ok "--save then --resume in a second process reaches the same conclusion"

echo '{"tshoot_session":2,"kb":"0000","answers":[{"question":"router.internet-light","digest":"0000000000000000","answer":"yes"}]}' > "$WORK/other.json"
run diagnose --kb "$KB" --resume "$WORK/other.json"
expect_rc 1 "resume against another KB build that changed the question"
err_has "the KB was rebuilt and changed what this session used: question 'router.internet-light' has changed" "the library's reason names what changed"

# a KB rebuilt with a change that does not touch the session (a comment, a new
# question) keeps it: every live dialogue survives a KB deploy
sed 's|</kb>|<!-- rebuilt --><question id="extra.q" type="yesno"><prompt>Extra?</prompt></question></kb>|' \
  "$TSHOOT_SOURCE_ROOT/tests/data/diagnose/home.xml" > "$WORK/home2.xml"
run compile "$WORK/home2.xml" -o "$WORK/home2.db"
run diagnose --kb "$KB" --save "$WORK/live.json" --strict -a router.internet-light=yes
expect_rc 3 "a session to carry over"
run diagnose --kb "$WORK/home2.db" --resume "$WORK/live.json" -a devices.others=some -a router.firmware=1.4.2 -a wifi.bars=4
expect_rc 0 "the session resumes on the rebuilt KB"
out_has "Old router firmware" "and concludes there"
ok "a saved session loads into a rebuilt KB where what it used is unchanged, and is refused with what changed"
echo '{"tshoot_session":1,"kb":"x","bogus":1}' > "$WORK/bogus.json"
run diagnose --kb "$KB" --resume "$WORK/bogus.json"
expect_rc 1 "resume of a malformed session"
err_has "refused" "malformed session refused"
ok "--resume refusals: exit 1 with the library's message"

# ----- the prompt, with --interactive and piped input
ask() { # ask INPUT ARGS...: run diagnose --interactive with INPUT on stdin
  local input=$1; shift
  set +e
  printf '%b' "$input" | "$TSHOOT_BIN" diagnose --kb "$KB" --interactive "$@" >"$WORK/out" 2>"$WORK/err"
  RC=$?
  set -e
}
ask 'why\ncauses\nhow\n7\nmaybe\nno\nnone\n'
expect_rc 0 "interactive session"
out_has "^Question 1: Is the internet light on the router on?" "the question is numbered"
out_has "^  1\. Yes" "choices are numbered"
out_has "Without the internet light" "why: the author's reason"
out_has "tells apart" "why: the causes it separates"
out_has "^ *[0-9]*%  The provider's line is down$" "causes: the ranking"
out_has "'7' is not one of the choices" "a bad number is refused"
out_has "'maybe' is not one of the choices" "a bad word is refused"
out_has "^Most likely cause: The provider's line is down" "interactive conclusion"
ok "prompt: why, causes, how, invalid input asked again, then a conclusion"

ask 'yes\nback\nyes\n2\nback\nback\n1\nskip\nskip\nskip\nskip\n' --no-fixes
expect_rc 6 "back and skip (everything after the first answer skipped: inconclusive)"
out_has 'Took back your answer to "Is the internet light on the router on?"' "back takes back the last answer, in words"
out_has 'Took back your answer to "Can other devices' "back twice"
grep -c "^Question 1: Is the internet light" "$WORK/out" | grep -qx 3 || fail "back re-asks the question"
out_has "questions asked ([0-9]* not known)" "skip counts as not known"
ok "prompt: back changes earlier answers; skip is don't know"

# what the person types is the library's to read: y for yes, a choice's label
# in any case; the transcript records the choice's value
ask 'Y\nsome of them, SOMETIMES\nquit\n' --no-fixes --save "$WORK/typed.json"
expect_rc 5 "typed forms, then quit"
cp "$WORK/typed.json" "$WORK/out"
json '[(a["question"], a["answer"]) for a in j["answers"]] == [("router.internet-light", "yes"), ("devices.others", "some")]' "typed forms recorded as values"
ok "prompt: 'Y' and a label in another case are answers, recorded as the choice's value"

ask '\ny\nquit\n' --save "$WORK/q.json"
expect_rc 5 "quit"
out_has "Skip this question" "an empty answer asks for confirmation"
out_has "tshoot diagnose --resume $WORK/q.json" "quit tells how to resume"
[ -s "$WORK/q.json" ] || fail "quit with --save saved nothing"
ask ''
expect_rc 5 "end of input"
ok "prompt: empty answer confirmed as skip; quit saves and exits 5; end of input exits 5"

ask 'yes\nsome\nlots\n1\nabc\n3.1\n' --no-fixes
expect_rc 0 "free input"
out_has "a version, such as" "version questions say what they want"
out_has "number, in bars)" "number questions show the unit"
out_has "'lots' is not a number" "a bad number is refused with the library's reason"
out_has "'abc' is not a version" "a bad version is refused with the library's reason"
out_has "^Most likely cause: The wireless signal is too weak" "free answers conclude"
ok "prompt: version and number answers, refused ones asked again"

ask '1\ny\n'
expect_rc 0 "fix at the prompt"
out_has "^Try this fix" "a fix is proposed at the prompt"
out_has "Did this fix the problem? \[y = it worked" "the fix result is asked"
out_has "^Solved:" "a fix that worked solves it"
ok "prompt: a proposed fix that worked concludes its cause"

# "I can't do this" is no evidence, and back undoes a fix report too
ask "1\nI can't, no admin rights\nback\ny\n"
out_has "Took back your report on" "back after a fix report takes the report back"
out_has "^Solved:" "then the fix, tried after all, solves it"
ok "prompt: a fix that could not be tried, taken back, then reported as working"

# ----- a real terminal (script(1) gives a pseudo-terminal)
if command -v script >/dev/null 2>&1; then
  printf '?\ncauses\n1\nback\n2\nnone\n' | script -qec "'$TSHOOT_BIN' diagnose --kb '$KB' --no-fixes laptop has no internet" /dev/null > "$WORK/out" 2>&1 || true
  out_has "Question 1" "a terminal is asked"
  out_has "tells apart" "why at a terminal"
  out_has "Took back your answer" "back at a terminal"
  out_has "The provider's line is down" "conclusion at a terminal"
  grep -q $'\033\[1m' "$WORK/out" || fail "no colour at a terminal"
  ok "a terminal gets the prompt, without --interactive, in colour"
else
  echo "skip terminal checks: no script(1)"
fi

# ----- the help examples run on the shipped KB
if [ -f "${TSHOOT_KB:-}" ]; then
  cd "$WORK"
  run diagnose outlook kofmsp.dll error --answer dll.exists=no --answer scope.affected=pc
  expect_rc 0 "the help's first example"
  out_has "^Most likely cause: " "shipped KB: a cause"
  run diagnose --save "$WORK/session.json" outlook does not start
  run diagnose --resume "$WORK/session.json" --answer dll.exists=no
  [ "$RC" -eq 0 ] || [ "$RC" -eq 4 ] || [ "$RC" -eq 6 ] || fail "resume on the shipped KB: exit $RC"
  ok "examples of 'tshoot help diagnose' run on the shipped KB"
fi
done_checks
