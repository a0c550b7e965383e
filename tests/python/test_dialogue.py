"""The dialogue through Python (tests/unit/test-dialogue.c has the same
points through C): the person's words rank causes, a question is asked only
when it makes sense, phrases answer questions, and a saved session survives
a rebuilt KB where what it used is unchanged."""
import shutil

import pytest
import tshoot
from conftest import ROOT

DIALOGUE = ROOT / "tests" / "data" / "session" / "dialogue.xml"


@pytest.fixture()
def dialogue_src(tmp_path):
    src = tmp_path / "dialogue.xml"
    shutil.copy(DIALOGUE, src)
    shutil.copy(DIALOGUE.with_name("charge.lua"), tmp_path / "charge.lua")
    return src


def compile_kb(src, out):
    tshoot.compile([src], out)
    return tshoot.KB(out, allow_unsigned_scripts=True)


def test_words_rank_the_causes(kb):
    # the example: the malware cause was sixth at 6% before
    s = kb.session("kofmsp.dll virus", fixes=False)
    assert s.causes()[0].cause == "kofmsp.malware"
    # and the Windows version is read from the words
    s = kb.session("fatal initialization error in kofmsp.dll on windows 7", fixes=False)
    answers = {a.question: (a.value, a.source) for a in s.answers()}
    assert answers["os.version"] == ("win7", "text")
    assert s.causes()[0].cause == "kofmsp.os-unsupported"


def test_words_alone_never_conclude(kb):
    s = kb.session("kofmsp.dll virus trojan malware infected", fixes=False)
    assert isinstance(s.next(), tshoot.Ask)


def test_ask_only_when_it_makes_sense(dialogue_src, tmp_path):
    with compile_kb(dialogue_src, tmp_path / "d.db") as kb:
        s = kb.session(fixes=False)
        s.answer("engine.turns", "no")
        asked = []
        for _ in range(10):
            step = s.next()
            if not isinstance(step, tshoot.Ask):
                break
            asked.append(step.question)
            s.unknown(step.question)
        assert "tank.empty" not in asked
        assert "not asked now" in s.why("tank.empty").text


def test_session_survives_a_rebuilt_kb(dialogue_src, tmp_path):
    with compile_kb(dialogue_src, tmp_path / "a.db") as kb:
        s = kb.session(fixes=False)
        s.answer("engine.turns", "no")
        s.answer("temp", "freezing")
        saved = s.save()
    text = dialogue_src.read_text()
    dialogue_src.write_text(text.replace("</kb>", "<!-- again --></kb>"))
    with compile_kb(dialogue_src, tmp_path / "b.db") as kb:
        r = tshoot.Session.load(kb, saved)
        assert {a.question for a in r.answers()} == {"engine.turns", "temp"}
    dialogue_src.write_text(text.replace('<choice value="hot">Hot</choice>',
                                         '<choice value="hot">Hot</choice><choice value="icy">Icy</choice>'))
    with compile_kb(dialogue_src, tmp_path / "c.db") as kb:
        with pytest.raises(tshoot.VersionMismatch, match="question 'temp' has changed"):
            tshoot.Session.load(kb, saved)
