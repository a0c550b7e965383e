"""Signed KBs from Python (docs/signing.md): trust=[...], kb.signer, kb.trust,
and no script from a KB no trusted key signed."""
import os
import shutil
import subprocess

import pytest

import tshoot

BUILD_KEY_NAME = "tshoot build (test key)"


@pytest.fixture(scope="module")
def signed(tmp_path_factory, kb_path):
    """A copy of the shipped KB signed by a key of its own, and that key."""
    d = tmp_path_factory.mktemp("sign")
    tshoot_bin = os.environ.get("TSHOOT_BIN")
    if not tshoot_bin:
        pytest.skip("TSHOOT_BIN is not set (run through meson test)")
    shutil.copy(kb_path, d / "kb.db")
    subprocess.run([tshoot_bin, "keygen", "-o", str(d / "acme"), "--name", "ACME"], check=True,
                   capture_output=True)
    subprocess.run([tshoot_bin, "sign", str(d / "kb.db"), "--key", str(d / "acme.key")], check=True,
                   capture_output=True)
    return d


def test_shipped_kb_is_signed_by_the_build(kb):
    # the tests trust the build's key through $TSHOOT_TRUST
    assert kb.signer == BUILD_KEY_NAME
    assert kb.trust["status"] == "signed" and kb.trust["scripts_allowed"]
    assert kb.script("kerio/os-version.lua")


def test_trust_a_key_file_a_key_text_or_a_folder(signed):
    path = signed / "kb.db"
    pub = signed / "acme.pub"
    with tshoot.KB(path, trust=[pub]) as k:
        assert k.signer == "ACME"
        assert k.script("kerio/os-version.lua")
    with tshoot.KB(path, trust=[pub.read_text()]) as k:
        assert k.signer == "ACME"
    folder = signed / "trusted.d"
    folder.mkdir()
    shutil.copy(pub, folder / "acme.pub")
    with tshoot.KB(path, trust=[str(folder)], default_trust=False) as k:
        assert k.signer == "ACME"
        t = k.trust
        assert t["signatures"] == [{"name": "ACME", "key": t["signatures"][0]["key"],
                                    "trusted": True, "revoked": False, "verified": True}]


def test_a_revoked_file_revokes(signed, tmp_path):
    shutil.copy(signed / "acme.pub", tmp_path / "acme.revoked")
    with tshoot.KB(signed / "kb.db", trust=[signed / "acme.pub", tmp_path / "acme.revoked"]) as k:
        assert k.signer is None
        assert k.trust["status"] == "revoked"
        assert k.trust["signatures"][0]["revoked"]


def test_untrusted_kb_runs_no_script(signed):
    path = signed / "kb.db"
    with tshoot.KB(path, default_trust=False) as k:
        assert k.signer is None
        assert k.trust["status"] == "unknown signer"
        assert k.search("kofmsp.dll")           # still searched
        with pytest.raises(tshoot.Untrusted, match="unknown signer: signed by 'ACME'"):
            k.script("kerio/os-version.lua")
    with pytest.raises(tshoot.Untrusted, match="KB refused: unknown signer"):
        tshoot.KB(path, default_trust=False, require_signature=True)
    with tshoot.KB(path, default_trust=False, allow_unsigned_scripts=True) as k:
        assert k.signer is None and k.trust["scripts_allowed"]
        assert k.script("kerio/os-version.lua")


def test_changed_byte_is_a_bad_signature(signed, tmp_path):
    data = bytearray((signed / "kb.db").read_bytes())
    at = data.rindex(b"registry")
    data[at] ^= 0x20
    (tmp_path / "kb.db").write_bytes(bytes(data))
    shutil.copy(signed / "kb.db.sig", tmp_path / "kb.db.sig")
    with tshoot.KB(tmp_path / "kb.db", trust=[signed / "acme.pub"]) as k:
        assert k.signer is None
        assert k.trust["status"] == "bad signature"
        with pytest.raises(tshoot.Untrusted, match="bad signature"):
            k.script("kerio/os-version.lua")


def test_bad_trust_arguments(signed):
    with pytest.raises(TypeError):
        tshoot.KB(signed / "kb.db", trust="not a list")
    with pytest.raises(OSError):
        tshoot.KB(signed / "kb.db", trust=[signed / "missing.pub"])
    with pytest.raises(tshoot.InvalidArgument, match="trusted_keys"):
        tshoot.KB(signed / "kb.db", trust=["tshoot-ed25519-public-1 00 nobody"])
