"""tshoot.KB: opening, facts, search, articles, test cases; tshoot.compile."""
import os
import pickle
import shutil
import weakref

import pytest

import tshoot
from conftest import ROOT


def test_module():
    assert tshoot.__version__ == tshoot.VERSION == tshoot.libversion()
    assert tshoot.KB_FORMAT == 6
    assert tshoot.strerror(-4).startswith("TSHOOT_ENOTFOUND")
    assert tshoot._tshoot.__file__.endswith(".abi3.so"), "built for the stable ABI"
    for name in tshoot.__all__:
        assert hasattr(tshoot, name), name
    # the public types say they are tshoot's
    for cls in (tshoot.KB, tshoot.Session, tshoot.Result, tshoot.Ask, tshoot.Error,
                tshoot.NotFound, tshoot.Results):
        assert cls.__module__ == "tshoot", cls


def test_module_exports_only_its_init():
    # The extension is several C files sharing internal names; they are built
    # hidden, and a pip build links libtshoot.a into the same file: the only
    # name it may export is its init function.
    import subprocess
    nm = shutil.which("nm")
    if not nm:
        pytest.skip("no nm")
    out = subprocess.run([nm, "-D", "--defined-only", tshoot._tshoot.__file__],
                         capture_output=True, text=True, check=True).stdout
    names = {line.split()[-1] for line in out.splitlines()
             if len(line.split()) == 3 and line.split()[1] in "TDBR"}
    assert names == {"PyInit__tshoot"}


def test_open_and_info(kb, kb_path):
    assert kb.path == kb_path
    assert not kb.closed
    info = kb.info
    assert isinstance(info, tshoot.KBInfo)
    assert info.path == kb_path
    assert info.format == tshoot.KB_FORMAT
    assert len(info.digest) == 64 and int(info.digest, 16) >= 0
    assert info.articles >= 3 and info.questions > 0 and info.causes > 0 and info.tests > 0
    assert kb_path in repr(kb)


def test_default_kb(kb_path, monkeypatch):
    monkeypatch.setenv("TSHOOT_KB", kb_path)
    assert tshoot.default_kb() == kb_path
    with tshoot.KB() as k:
        assert k.path == kb_path
    monkeypatch.delenv("TSHOOT_KB")
    # without $TSHOOT_KB: the KB this build compiled (the same file in meson test)
    assert tshoot.default_kb() is not None
    assert os.path.isfile(tshoot.default_kb())
    monkeypatch.setenv("TSHOOT_KB", "/nonexistent/kb.db")
    with pytest.raises(tshoot.NotFound) as e:
        tshoot.KB()
    assert e.value.file == "/nonexistent/kb.db"


def test_no_default_kb(monkeypatch):
    monkeypatch.delenv("TSHOOT_KB", raising=False)
    monkeypatch.setattr(tshoot._tshoot, "_BUILD_KB", "")
    monkeypatch.setattr(tshoot._tshoot, "_INSTALLED_KB", "/nonexistent/tshoot.db")
    if tshoot.default_kb() is not None:
        pytest.skip("a KB is installed next to the package")
    with pytest.raises(tshoot.NotFound, match="no knowledge base found"):
        tshoot.KB()


def test_pathlike(kb_path):
    import pathlib
    with tshoot.KB(pathlib.Path(kb_path), query_budget_ms=500, cache_kib=1024) as k:
        assert k.info.articles > 0
    with pytest.raises(ValueError):
        tshoot.KB(kb_path, cache_kib=-1)
    with pytest.raises(TypeError):
        tshoot.KB(42)


def test_open_errors(tmp_path, kb_path):
    with pytest.raises(tshoot.NotFound) as e:
        tshoot.KB(tmp_path / "missing.db")
    assert e.value.code == -4 and e.value.file == str(tmp_path / "missing.db")
    assert isinstance(e.value, LookupError)

    junk = tmp_path / "junk.db"
    junk.write_text("not a KB at all, just some text that is long enough" * 20)
    with pytest.raises(tshoot.Corrupt) as e:
        tshoot.KB(junk)
    assert e.value.code == -6 and str(e.value) == e.value.message and e.value.message

    truncated = tmp_path / "truncated.db"
    truncated.write_bytes(open(kb_path, "rb").read()[:5000])
    with pytest.raises(tshoot.Corrupt):
        tshoot.KB(truncated)

    other = tmp_path / "other-format.db"
    shutil.copyfile(kb_path, other)
    with open(other, "r+b") as f:   # the SQLite header's user_version is the format
        f.seek(60)
        f.write((tshoot.KB_FORMAT + 1).to_bytes(4, "big"))
    with pytest.raises(tshoot.VersionMismatch, match="recompile"):
        tshoot.KB(other)


def test_close(kb_path):
    k = tshoot.KB(kb_path)
    s = k.session("kofmsp.dll")
    k.close()
    k.close()   # twice is fine
    assert k.closed and "closed" in repr(k)
    with pytest.raises(tshoot.InvalidArgument, match="closed"):
        k.search("outlook")
    with pytest.raises(tshoot.InvalidArgument):
        k.article("kofmsp")
    with pytest.raises(tshoot.InvalidArgument):
        k.session()
    with pytest.raises(tshoot.InvalidArgument):
        k.info
    # a session keeps the KB it was made from alive
    assert isinstance(s.next(), tshoot.Step)
    assert s.kb is k


def test_context_manager_and_weakref(kb_path):
    with tshoot.KB(kb_path) as k:
        assert not k.closed
        r = weakref.ref(k)
    assert k.closed
    assert r() is k


def test_search(kb):
    res = kb.search("outlook won't start, kofmsp.dll", limit=5)
    assert isinstance(res, tshoot.Results) and isinstance(res, list)
    assert 1 <= len(res) <= 5
    top = res[0]
    assert isinstance(top, tshoot.Result)
    assert top.article == "kofmsp"
    assert "[" in top.snippet and "]" in top.snippet
    assert top.file.endswith(".xml") and top.line > 0
    assert all(a.score >= b.score for a, b in zip(res, res[1:]))
    assert res.suggestion is None and not res.truncated and res.query
    assert "Result(article='kofmsp'" in repr(res)


def test_search_passage_and_marks(kb):
    # the plain passage with each match as a str range: nothing to confuse
    # with the text's own brackets (issue 11)
    res = kb.search("kofmsp.dll", limit=1)
    top = res[0]
    assert top.marks and all(0 <= a < b <= len(top.passage) for a, b in top.marks)
    assert all(top.passage[a:b].lower().startswith("kofmsp") or
               top.passage[a:b].lower().startswith("kofmsp32") for a, b in top.marks)
    assert top.snippet.replace("[", "").replace("]", "") == \
        top.passage.replace("[", "").replace("]", "")
    assert top.score > 0
    assert pickle.loads(pickle.dumps(top)) == top


def test_search_invalid_utf8_as_cli(kb):
    # bytes that are not UTF-8: U+FFFD in what is reported, the valid words
    # searched; the same rule as `tshoot search --json` (the library's)
    res = kb.search(b"caf\xc3\xa9 \xff kofmsp")
    assert res.text == "caf\u00e9 \ufffd kofmsp"
    assert '"caf\u00e9"' in res.query
    assert kb.search("outlook").text == "outlook"
    assert pickle.loads(pickle.dumps(res)).text == res.text


def test_search_options(kb):
    res = kb.search("outlok profile")
    assert res.suggestion == "outlook profile"
    assert "suggestion='outlook profile'" in repr(res)
    assert kb.search("outlok profile", spelling=False).suggestion is None
    res = kb.search("kofmsp.dll", mark=("<b>", "</b>"), snippet_words=8)
    assert "<b>" in res[0].snippet and "[" not in res[0].snippet
    assert len(kb.search("outlook", limit=1)) == 1
    # search-as-you-type: the last word is a prefix unless the text ends in a space
    assert kb.search("kofm")
    assert not kb.search("kofm", prefix=False, spelling=False)
    long_text = ("Since this morning Outlook shows an error about the information service "
                 "and then closes; my colleague says it is the Kerio thing")
    assert kb.search(long_text, any_word=True)
    for bad in (0, -1, 1001):
        with pytest.raises(tshoot.InvalidArgument):
            kb.search("outlook", limit=bad)
    with pytest.raises(TypeError):
        kb.search(42)
    with pytest.raises(TypeError):
        kb.search("x", mark="[]")


def test_search_any_input(kb):
    # nothing a person types is query syntax, nothing fails
    for text in ["", " ", '"', "NEAR(", "AND OR NOT", "C++", "error: denied", "\0x\0",
                 "ünïcödé ✓", "a" * 100_000, "kofmsp.dll " * 2000]:
        assert isinstance(kb.search(text), tshoot.Results)
    # bytes are UTF-8, NUL bytes inside are data
    assert kb.search(b"kofmsp.dll")[0].article == "kofmsp"
    assert isinstance(kb.search(b"\xff\xfe garbage \x00"), tshoot.Results)


def test_results_pickle(kb):
    res = kb.search("outlok kofmsp")
    back = pickle.loads(pickle.dumps(res))
    assert back == res and back.suggestion == res.suggestion and back.query == res.query


def test_article(kb):
    a = kb.article("kofmsp")
    assert isinstance(a, tshoot.Article)
    assert a.id == "kofmsp" and a.title and a.file.endswith(".xml") and a.line > 0
    assert a.symptoms and all(isinstance(s, tshoot.Symptom) for s in a.symptoms)
    assert {s.kind for s in a.symptoms} <= {"symptom", "error"}
    assert isinstance(a.aliases, tuple)
    assert a.causes and all(isinstance(c, tshoot.CauseInfo) for c in a.causes)
    fixes = [f for c in a.causes for f in c.fixes]
    assert fixes and all(isinstance(f, tshoot.FixInfo) for f in fixes)
    f = fixes[0]
    assert f.steps and all(isinstance(x, str) for x in f.steps)
    assert f.risk in ("low", "medium", "high") and f.cost > 0
    assert isinstance(f.needs_admin, bool) and isinstance(f.reversible, bool)
    assert 0 < a.causes[0].prior <= 1


def test_article_errors(kb):
    with pytest.raises(tshoot.NotFound, match="did you mean 'kofmsp'"):
        kb.article("kofmps")
    with pytest.raises(TypeError):
        kb.article(None)
    with pytest.raises(ValueError):
        kb.article("kof\0msp")


def test_tests(kb):
    cases = kb.tests()
    assert len(cases) == kb.info.tests
    for c in cases:
        assert isinstance(c, tshoot.TestCase)
        assert c.id and (c.expect_cause or c.expect_fix)
        assert isinstance(c.given, dict)
        assert c.text or c.given


def run_case(kb, case):
    """What `tshoot test` does with one case, through the binding."""
    s = kb.session(case.text, fixes=case.expect_fix is not None)
    for q, v in case.given.items():
        s.answer(q, v)
    proposed = []
    for _ in range(200):
        step = s.next()
        if isinstance(step, (tshoot.Conclude, tshoot.Inconclusive)):
            break
        if isinstance(step, tshoot.Ask):
            s.unknown(step.question)
        else:
            proposed.append(step.fix)
            s.fix_result(step.fix, step.fix == case.expect_fix)
    else:
        pytest.fail(f"{case.id}: no conclusion after 200 steps")
    return step, proposed


def test_kb_test_cases_pass(kb):
    for case in kb.tests():
        step, proposed = run_case(kb, case)
        if case.expect_cause:
            assert step.cause == case.expect_cause, (case.id, step)
        if case.expect_fix:
            fixes = {f.id for c in kb.article(step.article).causes if c.id == step.cause
                     for f in c.fixes} if step.article else set()
            assert case.expect_fix in proposed or case.expect_fix in fixes, (case.id, step)


def test_compile(tmp_path):
    out = tmp_path / "car.db"
    st = tshoot.compile(ROOT / "tests" / "data" / "car", out)
    assert isinstance(st, tshoot.CompileStats)
    assert st.files == 1 and st.articles >= 1 and st.errors == 0 and st.diagnostics == ()
    with tshoot.KB(out) as k:
        assert k.info.articles == st.articles
    # lint: output None checks only
    st = tshoot.compile([str(ROOT / "tests" / "data" / "car" / "car.xml")])
    assert st.errors == 0


def test_compile_errors(tmp_path):
    out = tmp_path / "kb.db"
    out.write_bytes(b"previous")
    with pytest.raises(tshoot.SourceError) as e:
        tshoot.compile(ROOT / "tests" / "data" / "lint" / "mistakes.xml", out)
    err = e.value
    assert err.code == -5
    assert err.stats.errors > 0 and len(err.diagnostics) >= err.stats.errors
    d = err.diagnostics[0]
    assert isinstance(d, tshoot.Diagnostic)
    assert d.severity == "error" and d.file.endswith("mistakes.xml") and d.line > 0
    assert d.code.startswith("TSH-E") and d.message
    notes = [x for x in err.diagnostics if x.severity == "note"]
    assert all(n.code is None or n.code.startswith("TSH-") for n in notes)
    assert out.read_bytes() == b"previous", "a failed compile leaves the old file"
    with pytest.raises(tshoot.NotFound):
        tshoot.compile(tmp_path / "no-such-folder", out)


def test_compile_progress(tmp_path):
    calls = []
    tshoot.compile(ROOT / "tests" / "data" / "car", tmp_path / "a.db",
                   on_progress=lambda phase, done, total: calls.append((phase, done, total)))
    assert {p for p, _, _ in calls} >= {"read", "write"}

    with pytest.raises(tshoot.CallbackError):
        tshoot.compile(ROOT / "tests" / "data" / "car", tmp_path / "b.db",
                       on_progress=lambda *a: True)
    assert not (tmp_path / "b.db").exists()

    def boom(*a):
        raise KeyError("from the callback")
    with pytest.raises(KeyError, match="from the callback"):
        tshoot.compile(ROOT / "tests" / "data" / "car", tmp_path / "c.db", on_progress=boom)
    assert not (tmp_path / "c.db").exists()


def test_compile_invalid_utf8(tmp_path):
    # the library decides: the same Diagnostic as `tshoot lint` (tests/cli/test-cli-utf8.sh)
    src = tmp_path / "kerio"
    shutil.copytree(ROOT / "kb" / "kerio", src)
    lines = (ROOT / "kb" / "kerio" / "kofmsp.xml").read_bytes().split(b"\n")
    t = next(i for i, x in enumerate(lines) if b"(Offline Edition)</title>" in x)
    lines[t] = lines[t].replace(b"(Offline Edition)", b"(Offline \xc9dition)")
    (src / "kofmsp.xml").write_bytes(b"\n".join(lines))
    with pytest.raises(tshoot.SourceError) as e:
        tshoot.compile(src, script_dirs=ROOT / "scripts")
    errors = [d for d in e.value.diagnostics if d.severity == "error"]
    assert [(d.line, d.column, d.code) for d in errors] == [(t + 1, 88, "TSH-E007")]
    assert errors[0].message == ("invalid UTF-8: byte 0xC9; KB sources must be UTF-8 "
                                 "(save the file as UTF-8)")
