#!/bin/bash
# Signed KBs end to end (docs/signing.md): keygen, sign, verify, info; the
# shipped KB, signed by the build's key (which the tests trust through
# $TSHOOT_TRUST), runs its fixes on a simulated machine; the same KB with one
# byte changed runs none and says why; --allow-unsigned-scripts runs them with
# a warning.
. "$(dirname "$0")/lib.sh"
set -e
[ -f "$TSHOOT_KB.sig" ] || fail "the build did not sign the shipped KB ($TSHOOT_KB.sig is missing)"
MACHINES="$TSHOOT_SOURCE_ROOT/kb/kerio/machines"
M="$MACHINES/kofmsp-registry-overwrite.json"
KB="$WORK/kerio.db"
cp "$TSHOOT_KB" "$KB"
cp "$TSHOOT_KB.sig" "$KB.sig"

# ----- the shipped KB, signed at build time
run info --kb "$KB" --json
expect_rc 0 "info"
json 'j["signature"]["status"] == "signed" and j["signature"]["signer"]["name"] == "tshoot build (test key)"' "info names the signer"
run verify "$KB"
expect_rc 0 "verify the signed KB"
out_has "signed by 'tshoot build (test key)'" "verify names the signer"
run fix kofmsp.registry-overwrite --kb "$KB" --host "sim:$M" --yes --json
expect_rc 0 "the signed KB's fix runs"
json 'j["fixed_by"] is not None' "a fix verified"
ok "the signed shipped KB runs its fixes on a simulated machine"

# ----- one byte changed: no probe, no fix, and why
off=$(grep -boa "registry" "$KB" | tail -1 | cut -d: -f1)
[ -n "$off" ] || fail "no text to change in the KB"
printf 'R' | dd of="$KB" bs=1 seek="$off" conv=notrunc status=none
run verify "$KB"
expect_rc 1 "verify the changed KB"
out_has "bad signature: the signature of 'tshoot build (test key)'" "verify says the signature does not match"
run fix kofmsp.registry-overwrite --kb "$KB" --host "sim:$M" --yes --save "$WORK/after.json"
expect_rc 1 "the changed KB's fix is refused"
err_has "probes and fixes will not run: bad signature" "a note says why, up front"
err_has "refused: the KB is not trusted: bad signature" "the refusal says why"
run diagnose --kb "$KB" --host "sim:$M" --json --strict outlook does not start, kofmsp.dll
err_has "probes and fixes will not run: bad signature" "diagnose says why no probe runs"
json 'all(s["answer"] is None and "refused: the KB is not trusted: bad signature" in s["message"] for s in j["steps"] if s["kind"] == "probe") and any(s["kind"] == "probe" for s in j["steps"])' "every probe was refused, with the reason"
run search --kb "$KB" kofmsp.dll
expect_rc 0 "the changed KB is still searched"
ok "the same KB with one byte changed runs no script and says why"

# ----- the developers' switch
run fix kofmsp.registry-overwrite --kb "$KB" --host "sim:$M" --yes --allow-unsigned-scripts
expect_rc 0 "--allow-unsigned-scripts runs the fix"
err_has "warning: running the scripts of a KB that is not trusted (bad signature" "with a visible warning"
ok "--allow-unsigned-scripts runs an untrusted KB's scripts, and says so"

# ----- a publisher's keys: keygen, sign, verify, trust folders, rotation
run keygen -o "$WORK/acme" --name "ACME support 2026"
expect_rc 0 "keygen"
[ "$(stat -c %a "$WORK/acme.key")" = 600 ] || fail "the secret key is not mode 0600"
secret=$(grep '^tshoot-ed25519-secret-1' "$WORK/acme.key" | cut -d' ' -f2)
! grep -q "$secret" "$WORK/out" "$WORK/err" || fail "keygen printed the secret key"
run keygen -o "$WORK/acme"
expect_rc 1 "keygen does not overwrite a key"
cp "$TSHOOT_KB" "$WORK/acme.db"
run verify "$WORK/acme.db" --trust "$WORK/acme.pub"
expect_rc 1 "an unsigned KB does not verify"
out_has "unsigned: there is no signature file acme.db.sig" "verify says it is unsigned"
run sign "$WORK/acme.db" --key "$WORK/acme.key"
expect_rc 0 "sign"
run verify "$WORK/acme.db"
expect_rc 1 "a key the machine does not trust"
out_has "unknown signer: signed by 'ACME support 2026'" "verify names the unknown signer"
run verify "$WORK/acme.db" --trust "$WORK/acme.pub" --json
expect_rc 0 "verify with --trust"
json 'j["signature"]["trusted"] and j["signature"]["signatures"][0]["verified"] is True' "verified"
mkdir -p "$WORK/cfg/tshoot/trusted.d"
cp "$WORK/acme.pub" "$WORK/cfg/tshoot/trusted.d/"
set +e
XDG_CONFIG_HOME="$WORK/cfg" "$TSHOOT_BIN" verify "$WORK/acme.db" >"$WORK/out" 2>"$WORK/err"
RC=$?
set -e
expect_rc 0 "the user's trust folder"
# rotation: a second key signs too; the first is revoked; the KB still verifies
run keygen -o "$WORK/acme-2027" --name "ACME support 2027"
run sign "$WORK/acme.db" --key "$WORK/acme-2027.key"
expect_rc 0 "a second signature"
cp "$WORK/acme.pub" "$WORK/cfg/tshoot/trusted.d/acme.revoked"
cp "$WORK/acme-2027.pub" "$WORK/cfg/tshoot/trusted.d/"
set +e
XDG_CONFIG_HOME="$WORK/cfg" "$TSHOOT_BIN" verify "$WORK/acme.db" >"$WORK/out" 2>"$WORK/err"
RC=$?
set -e
expect_rc 0 "rotated: verified by the new key"
out_has "signed by 'ACME support 2027'" "the new key carries it"
out_has "'ACME support 2026' key [0-9a-f]*: revoked" "the old key is shown revoked"
cp "$WORK/acme.pub" "$WORK/acme-copy.revoked"
run verify "$WORK/acme.db" --trust "$WORK/acme.pub" --trust "$WORK/acme-copy.revoked"
expect_rc 1 "--trust KEY.revoked revokes"
out_has "'ACME support 2026' key [0-9a-f]*: revoked" "says the key is revoked"
run verify "$WORK/acme.db" --trust "$WORK/acme.key"
expect_rc 1 "--trust with a file that is not a public key"
err_has "--trust $WORK/acme.key: not a tshoot public key" "says which --trust is wrong"
run verify "$WORK/acme.db" --trust
expect_rc 2 "--trust without a file"
err_has "tshoot: verify: --trust needs a public key file" "a usage error"
ok "keygen, sign, verify, trust folders and key rotation"

# ----- without the build's key trusted, the shipped KB runs nothing
set +e
env -u TSHOOT_TRUST "$TSHOOT_BIN" verify "$TSHOOT_KB" >"$WORK/out" 2>"$WORK/err"
RC=$?
set -e
expect_rc 1 "the build's key is trusted only where TSHOOT_TRUST says so"
out_has "unknown signer" "unknown signer"
ok "the build's test key is trusted only by the tests' environment"
done_checks
