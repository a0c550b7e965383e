#!/bin/bash
# The tshoot command's surface: help, version, usage errors, KB resolution
# and refusing files that are not KBs. Needs no KB of its own.
. "$(dirname "$0")/lib.sh"

run --help
expect_rc 0 "tshoot --help"
for c in search show info compile lint help; do
  out_has "^  $c " "tshoot --help lists '$c'"
done
out_has "examples" "tshoot --help has examples"
no_escapes "tshoot --help"
ok "--help lists every command and exits 0"

run help
expect_rc 0 "tshoot help"
out_has "^  search " "tshoot help shows the overview"
ok "help without a command shows the overview"

for c in search show info compile lint help; do
  run help "$c"
  expect_rc 0 "tshoot help $c"
  out_has "^usage: tshoot $c" "tshoot help $c prints its usage"
  cp "$WORK/out" "$WORK/help-$c"
  run "$c" --help
  expect_rc 0 "tshoot $c --help"
  cmp -s "$WORK/out" "$WORK/help-$c" || fail "'tshoot $c --help' differs from 'tshoot help $c'"
done
ok "help COMMAND and COMMAND --help agree for every command"

run
expect_rc 2 "tshoot without a command"
err_has "no command" "tshoot without a command says so"
ok "no command: exit 2"

run serch outlook
expect_rc 2 "unknown command"
err_has "'serch' is not a tshoot command" "unknown command is named"
err_has "did you mean 'search'" "unknown command gets a suggestion"
err_has "tshoot --help" "unknown command points at help"
ok "unknown command: exit 2 with did-you-mean"

run help nosuch
expect_rc 2 "help for an unknown command"
ok "help for an unknown command: exit 2"

run --bogus
expect_rc 2 "unknown global option"
ok "unknown global option: exit 2"

run --version
expect_rc 0 "--version"
out_has "^tshoot [0-9][0-9.]* (libtshoot [0-9][0-9.]*, KB format [0-9]*)" "--version format"
ok "--version names the library and the KB format"

run search --limit zero outlook
expect_rc 2 "search --limit zero"
err_has "try 'tshoot search --help'" "usage error points at the command's help"
ok "bad --limit: exit 2 with a hint"

run search --frobnicate outlook
expect_rc 2 "search with an unknown option"
err_has "unknown option '--frobnicate'" "unknown option is named"
ok "unknown option: exit 2"

run search --kb
expect_rc 2 "--kb without a value"
err_has "needs a value" "--kb without a value"
ok "option without its value: exit 2"

run search
expect_rc 2 "search without text"
run show
expect_rc 2 "show without an article"
run compile "$DATA/good"
expect_rc 2 "compile without -o"
err_has "-o" "compile without -o mentions -o"
run compile -o "$WORK/x.db"
expect_rc 2 "compile without sources"
run lint
expect_rc 2 "lint without sources"
run info extra
expect_rc 2 "info with an extra argument"
ok "missing arguments: exit 2"

run info --kb "$WORK/missing.db"
expect_rc 1 "--kb with a missing file"
err_has "^tshoot: error: .*missing.db" "missing KB: error names the file"
err_has "tshoot compile" "missing KB: error says how to build one"
ok "--kb with a missing file: exit 1, helpful error"

TSHOOT_KB="$WORK/env-missing.db" run info
expect_rc 1 "TSHOOT_KB naming a missing file"
err_has "env-missing.db" "\$TSHOOT_KB is used"
err_has "TSHOOT_KB" "the error says the path came from \$TSHOOT_KB"
ok "\$TSHOOT_KB is honoured (missing file)"

printf 'myhost\n' > "$WORK/hostname"
run info --kb "$WORK/hostname"
expect_rc 1 "a text file as KB"
err_has "not a tshoot KB" "a text file is refused as not a KB"
ok "a non-KB file is refused with a clear message"

"$TSHOOT_PYTHON" -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("create table t(x)"); c.commit()' "$WORK/other.db"
run search --kb "$WORK/other.db" outlook
expect_rc 1 "a foreign SQLite file as KB"
err_has "not a tshoot KB" "a foreign SQLite file is refused"
no_escapes "error output"
ok "a foreign SQLite database is refused"

# ----- did-you-mean on every command that takes an id (the shipped KB)
[ -f "$TSHOOT_KB" ] || fail "the shipped KB $TSHOOT_KB is missing"
M="$TSHOOT_SOURCE_ROOT/kb/kerio/machines"
run fix kofmsp.dll-missng --host "sim:$M/healthy.json"
expect_rc 1 "fix with a misspelt cause"
err_has "no cause 'kofmsp.dll-missng' in this KB (did you mean 'kofmsp.dll-missing'?)" "fix: did you mean"
ok "fix: a misspelt cause gets a did-you-mean"
run show kofmps
expect_rc 1 "show with a misspelt article"
err_has "did you mean 'kofmsp'" "show: did you mean"
run diagnose --answer dll.exsts=no outlook
expect_rc 2 "diagnose --answer with a misspelt question"
err_has "did you mean 'dll.exists'" "diagnose --answer: did you mean"
run diagnose --answer fix:kofmsp.fix.reinstal=no outlook
expect_rc 2 "diagnose --answer fix: with a misspelt fix"
err_has "did you mean 'kofmsp.fix.reinstall'" "diagnose --answer fix:: did you mean"
run test kofmsp.t.missing-txet
expect_rc 2 "test with a misspelt id"
err_has "no test matches 'kofmsp.t.missing-txet' (did you mean 'kofmsp.t.missing-text'?)" "test: did you mean"
ok "show, diagnose --answer and test: a misspelt id gets a did-you-mean"
mkdir -p "$WORK/scripts"
printf 'return "ok"\n' >"$WORK/scripts/os-version.lua"
run run "$WORK/scripts/os-versoin.lua"
expect_rc 1 "run with a misspelt script file"
err_has "did you mean the file '$WORK/scripts/os-version.lua'" "run: did you mean the file"
ok "run: a misspelt script path gets a did-you-mean"
run run kerio/os-versoin.lua --host "sim:$TSHOOT_SOURCE_ROOT/kb/kerio/machines/healthy.json"
expect_rc 1 "run with a misspelt script name of the KB"
err_has "no script 'kerio/os-versoin.lua' in this KB (did you mean 'kerio/os-version.lua'?)" "run: did you mean a KB script"
ok "run: a misspelt name of a script stored in the KB gets a did-you-mean"

# ----- every --json output starts with "version": 1
run info --json
json 'list(j)[0] == "version" and j["version"] == 1' "info --json: version"
run show --json kofmsp
json 'list(j)[0] == "version" and j["version"] == 1 and j["id"] == "kofmsp"' "show --json: version"
run test --json 'kofmsp.t.missing-text'
json 'list(j)[0] == "version" and j["version"] == 1' "test --json: version"
run fix kofmsp.dll-missing --host "sim:$M/kofmsp-dll-missing.json" --dry-run --json
json 'list(j)[0] == "version" and j["version"] == 1 and j["dry_run"]' "fix --json: version"
run run --json kerio/os-version.lua --host "sim:$M/healthy.json"
json 'list(j)[0] == "version" and j["version"] == 1 and j["kind"] == "probe"' "run --json: version"
ok "info, show, test, fix and run --json carry \"version\": 1 first"

# ----- fix: messages agree with each other, and each is printed once
run fix kofmsp.dll-missing --host "sim:$M/kofmsp-dll-missing.json"
expect_rc 1 "fix without --yes, stdin not a terminal"
out_has "^  plan: no change to the machine" "fix: the plan changes nothing"
if grep -q "changes the machine" "$WORK/err"; then fail "fix: a plan without changes, then 'changes the machine'"; fi
err_has "kofmsp.fix.reinstall runs only when confirmed, even though its plan changes nothing" "fix: the refusal agrees with the plan"
ok "fix without --yes: the refusal does not contradict a plan that changes nothing"
run fix kofmsp.dll-missing --host "sim:$M/kofmsp-dll-missing.json" --yes
expect_rc 0 "fix --yes"
out_has "applied and verified" "fix --yes: applied"
[ "$(grep -c "note: Reinstall the Kerio Outlook Connector" "$WORK/out")" -eq 1 ] || fail "fix --yes: a note printed more than once"
[ "$(sort "$WORK/out" | uniq -d | grep -c "note:")" -eq 0 ] || fail "fix --yes: a note printed twice"
ok "fix --yes: each note printed once"

# ----- the README's claims about search hold for the shipped KB
run search --json kofmsp.dll
expect_rc 0 "search kofmsp.dll"
json 'any("KofMsp32.dll" in r["snippet"] for r in j["results"])' "search kofmsp.dll finds KofMsp32.dll (the KB's synonyms)"
grep -q 'makes `kofmsp.dll` and `KofMsp32.dll`' "$TSHOOT_SOURCE_ROOT/README.md" || fail "the README says kofmsp.dll does not find KofMsp32.dll"
if grep -q '`kofmsp.dll` does not' "$TSHOOT_SOURCE_ROOT/README.md"; then fail "the README still says kofmsp.dll does not match KofMsp32.dll"; fi
ok "README: kofmsp.dll finds KofMsp32.dll, as the search does"

# ----- the repository stands alone: no file points at a folder outside it
outside='/'"work"'/\|shared/'"seeds"'/'
if grep -rIn --exclude-dir='build*' --exclude-dir=.git --exclude-dir=subprojects -e "$outside" "$TSHOOT_SOURCE_ROOT" >"$WORK/outside"; then
  fail "files refer to folders outside the repository: $(head -5 "$WORK/outside")"
fi
ok "no file refers to a folder outside the repository"

done_checks
