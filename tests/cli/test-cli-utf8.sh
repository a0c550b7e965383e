#!/usr/bin/env bash
# Invalid UTF-8 in KB sources: lint and compile report each place at its byte,
# file:line:col with TSH-E007 (docs/messages.md's example, run here), go on
# checking the rest of the file, and write no KB. (The Python binding's
# tshoot.compile reports the same Diagnostic: tests/python/test_kb.py.)
source "$(dirname "$0")/lib.sh"

KOFMSP="$TSHOOT_SOURCE_ROOT/kb/kerio/kofmsp.xml"
mkdir -p "$WORK/kerio"
cp -R "$TSHOOT_SOURCE_ROOT/kb/kerio/." "$WORK/kerio/"
# the lines to break, found by their text (the KB grows): the article's title,
# a cause's title, the first p="0.97"
T=$(grep -n '(Offline Edition)</title>' "$KOFMSP" | head -1 | cut -d: -f1)
C=$(grep -n '<title>A Windows or Office update' "$KOFMSP" | head -1 | cut -d: -f1)
P=$(grep -n 'p="0.97"' "$KOFMSP" | head -1 | cut -d: -f1)
[ -n "$T" ] && [ -n "$C" ] && [ -n "$P" ] && [ "$T" -lt "$C" ] && [ "$C" -lt "$P" ] ||
  fail "kofmsp.xml no longer has the lines this test breaks ($T, $C, $P)"
# a Latin-1 'É' (0xC9) in the title, as a file saved by a Windows editor has it
sed "${T}s/(Offline Edition)/(Offline $(printf '\xc9')dition)/" "$KOFMSP" > "$WORK/kerio/kofmsp.xml"
grep -q "$(printf 'Offline \xc9dition')" "$WORK/kerio/kofmsp.xml" || fail "the fixture was not made"

run lint --scripts "$TSHOOT_SOURCE_ROOT/scripts" "$WORK/kerio"
expect_rc 1 "lint of a Latin-1 byte"
# docs/messages.md's example, at the line the title is on today
example=$(grep -o 'kofmsp\.xml:[0-9]*:88: error: invalid UTF-8: byte 0xC9; [^`]*\[TSH-E007\]' \
  "$TSHOOT_SOURCE_ROOT/docs/messages.md" | sed "s/^kofmsp\.xml:[0-9]*:/kofmsp.xml:$T:/")
[ -n "$example" ] || fail "docs/messages.md lost its TSH-E007 example"
grep -qF -- "$example" "$WORK/err" || fail "docs/messages.md's example is not what lint prints: $example"
err_has "^1 error, 0 warnings" "only that place is reported"
ok "lint: invalid UTF-8 at its byte, with TSH-E007 (docs/messages.md's example)"

run lint --json --scripts "$TSHOOT_SOURCE_ROOT/scripts" "$WORK/kerio"
expect_rc 1 "lint --json of a Latin-1 byte"
json '[(d["line"], d["column"], d["code"]) for d in j["diagnostics"]] == [('"$T"', 88, "TSH-E007")] and "0xC9" in j["diagnostics"][0]["message"]' "lint --json: the same diagnostic"
ok "lint --json: the same place and code"

# the rest of the file is still checked: a bad number further down is reported too
sed -e "${T}s/(Offline Edition)/(Offline $(printf '\xc9')dition)/" -e "${P}s/p=\"0.97\"/p=\"1.7\"/" \
  -e "${C}s/A Windows or/A Windows$(printf '\xff\xfe') or/" "$KOFMSP" > "$WORK/kerio/kofmsp.xml"
run compile --json --scripts "$TSHOOT_SOURCE_ROOT/scripts" "$WORK/kerio" -o "$WORK/kerio.db"
expect_rc 1 "compile of a Latin-1 byte"
json '[(d["line"], d["code"]) for d in j["diagnostics"]] == [('"$T"', "TSH-E007"), ('"$C"', "TSH-E007"), ('"$P"', "TSH-E004")] and "bytes 0xFF 0xFE;" in j["diagnostics"][1]["message"] and j["ok"] is False' "compile --json: every problem, in order"
[ ! -e "$WORK/kerio.db" ] || fail "a KB was written from a source with invalid UTF-8"
ok "compile: every problem in one run, no KB written"

# a NUL byte (UTF-16 without a byte order mark) stops the file, as before (E001)
printf '<\0k\0b\0>\0' > "$WORK/utf16.xml"
run lint "$WORK/utf16.xml"
expect_rc 1 "lint of a UTF-16 file"
err_has "utf16.xml:1:2: error: NUL byte: KB sources must be UTF-8 text (is the file UTF-16?) \[TSH-E001\]" "NUL byte"
ok "lint: a NUL byte is E001"

done_checks
