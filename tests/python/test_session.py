"""tshoot.Session: steps, answers, explanations, save and load."""
import json
import os
import subprocess
import sys

import pytest

import tshoot
from conftest import KERIO_TEXT


def walk(s, answers, limit=100):
    """Answer from `answers` (question -> value), 'don't know' otherwise, fixes
    fail; return the last step (Conclude or Inconclusive) and the questions
    asked."""
    asked = []
    for _ in range(limit):
        step = s.next()
        if isinstance(step, (tshoot.Conclude, tshoot.Inconclusive)):
            return step, asked
        if isinstance(step, tshoot.Ask):
            asked.append(step.question)
            if step.question in answers:
                s.answer(step.question, answers[step.question])
            else:
                s.unknown(step.question)
        else:
            s.fix_result(step.fix, tshoot.DID_NOT_WORK)
    pytest.fail("no conclusion")


def ask_until(s, question, limit=60):
    """Answer 'don't know' until `question` is asked; return its Ask step."""
    for _ in range(limit):
        step = s.next()
        assert isinstance(step, tshoot.Ask), f"{question} is asked before the end"
        if step.question == question:
            return step
        s.unknown(step.question)
    pytest.fail(f"{question} not asked")


def test_kerio_diagnosis(kb):
    s = kb.session(KERIO_TEXT, fixes=False)
    assert isinstance(s, tshoot.Session) and s.kb is kb and s.host is None
    step, asked = walk(s, {"dll.exists": "no", "scope.affected": "pc"})
    assert step.cause == "kofmsp.dll-missing"
    assert step.article == "kofmsp" and step.cause_title
    assert 0.5 < step.probability <= 1
    assert step.questions_asked == len(s.answers()) == len(asked)
    assert step.kind == "conclude" and tshoot.Conclude.kind == "conclude"
    # asking again repeats the conclusion
    assert s.next() == step


def test_ask_step(kb):
    s = kb.session(KERIO_TEXT, fixes=False)
    step = s.next()
    assert isinstance(step, tshoot.Ask) and isinstance(step, tshoot.Step)
    assert step.kind == "ask"
    assert step.question and step.prompt
    assert step.type in ("yesno", "choice", "version", "number", "text")
    assert len(step.choices) == len(step.labels)
    assert step.expected_gain > 0 and step.cost > 0 and step.questions_asked == 0
    assert s.next() == step, "next() without an answer repeats the step"
    r = repr(step)
    assert r.startswith("Ask(question=") and "unit=" not in r   # None fields left out


def test_pattern_matching(kb):
    step = kb.session(KERIO_TEXT, fixes=False).next()
    match step:
        case tshoot.Ask(question=q, choices=choices):
            assert q == step.question and choices == step.choices
        case _:
            pytest.fail("no match")


def test_answer_values(kb):
    s = kb.session(KERIO_TEXT, fixes=False)
    s.answer("dll.exists", False)            # bool: yes/no
    s.answer("office.version", 2019)        # numbers are written out
    s.answer("koff.version", "9.2.4")       # a version
    assert [(a.question, a.value) for a in s.answers()] == [
        ("dll.exists", "no"), ("office.version", "2019"), ("koff.version", "9.2.4")]
    assert all(isinstance(a, tshoot.Answer) for a in s.answers())
    s.answer(question="dll.exists", value=True)
    assert ("dll.exists", "yes") in [(a.question, a.value) for a in s.answers()]
    with pytest.raises(TypeError):
        s.answer("dll.exists", None)
    with pytest.raises(TypeError):
        s.answer("dll.exists", ["yes"])


def test_answer_text_goes_to_the_library(kb):
    # Python converts only Python types (bool, numbers); which text answers a
    # question is the library's rule, and its message is the exception's.
    s = kb.session(KERIO_TEXT, fixes=False)
    s.answer("scope.affected", "PC")         # a choice in another case
    s.answer("dll.exists", "YES")
    assert [(a.question, a.value) for a in s.answers()] == [
        ("scope.affected", "pc"), ("dll.exists", "yes")]
    with pytest.raises(tshoot.InvalidArgument, match="answer one of: yes, no") as e:
        s.answer("dll.exists", "maybe")
    assert e.value.code == -3


# The library accepts labels, and y/n/true/false for yes/no questions: it
# decides what counts as an answer, and Python passes the person's text through.
@pytest.mark.parametrize("value,expect", [("Y", "yes"), ("n", "no"), ("true", "yes"),
                                          ("False", "no")])
def test_answer_yesno_forms(kb, value, expect):
    s = kb.session(KERIO_TEXT, fixes=False)
    s.answer("dll.exists", value)
    assert s.answers()[0].value == expect


def test_answer_with_a_label(kb):
    s = kb.session(KERIO_TEXT, fixes=False)
    step = s.next()
    assert step.type == "choice"
    s.answer(step.question, step.labels[1])
    assert s.answers()[0].value == step.choices[1]


def test_answer_errors(kb):
    s = kb.session()
    with pytest.raises(tshoot.NotFound, match="did you mean 'office.version'") as e:
        s.answer("office.versoin", "2019")
    assert e.value.code == -4
    with pytest.raises(tshoot.InvalidArgument, match="2019") as e:
        s.answer("office.version", "2018")
    assert isinstance(e.value, ValueError)
    with pytest.raises(tshoot.NotFound):
        s.unknown("no.such.question")
    with pytest.raises(tshoot.NotFound):
        s.undo()                              # nothing to undo
    with pytest.raises(tshoot.NotFound):
        s.symptom("no-such-symptom")
    with pytest.raises(ValueError):
        s.answer("office.version", "20\0019")


def test_change_retract_undo(kb):
    s = kb.session(KERIO_TEXT, fixes=False)
    s.answer("scope.affected", "pc")
    s.answer("dll.exists", "no")
    s.unknown("update.recent")
    assert [a.value for a in s.answers()] == ["pc", "no", None]
    s.change("dll.exists", "yes")              # a changed answer is the most recent
    assert [(a.question, a.value) for a in s.answers()] == [
        ("scope.affected", "pc"), ("update.recent", None), ("dll.exists", "yes")]
    s.undo()                                   # withdraws the most recent answer
    assert [a.question for a in s.answers()] == ["scope.affected", "update.recent"]
    s.retract("scope.affected")
    assert [a.question for a in s.answers()] == ["update.recent"]


def test_fix_steps(kb):
    s = kb.session(KERIO_TEXT)
    seen = []
    for _ in range(60):
        step = s.next()
        if isinstance(step, (tshoot.Conclude, tshoot.Inconclusive)):
            break
        if isinstance(step, tshoot.Fix):
            assert step.kind == "fix" and step.cause and step.article
            fixes = {f.id for c in kb.article(step.article).causes for f in c.fixes}
            assert step.fix in fixes
            seen.append(step.fix)
            s.fix_result(step.fix, worked=False)
        else:
            s.unknown(step.question)
    assert seen, "the Kerio KB proposes fixes"
    # a fix that works concludes on its cause
    s = kb.session(KERIO_TEXT)
    while True:
        step = s.next()
        if isinstance(step, tshoot.Fix):
            s.fix_result(step.fix, True)
            end = s.next()
            assert isinstance(end, tshoot.Conclude) and end.cause == step.cause
            break
        assert isinstance(step, tshoot.Ask)
        s.unknown(step.question)


def first_fix(kb, text=KERIO_TEXT):
    """A session at its first Fix step (questions answered 'don't know')."""
    s = kb.session(text)
    for _ in range(60):
        step = s.next()
        if isinstance(step, tshoot.Fix):
            return s, step
        assert isinstance(step, tshoot.Ask)
        s.unknown(step.question)
    pytest.fail("no fix proposed")


def test_fix_outcome_constants():
    assert (tshoot.WORKED, tshoot.DID_NOT_WORK, tshoot.COULD_NOT_TRY, tshoot.SKIPPED) == \
        ("worked", "did_not_work", "could_not_try", "skipped")


@pytest.mark.parametrize("outcome,name", [
    (tshoot.WORKED, "worked"), ("did_not_work", "did_not_work"),
    ("could_not_try", "could_not_try"), (tshoot.SKIPPED, "skipped"),
    (True, "worked"), (False, "did_not_work")])
def test_fix_outcomes(kb, outcome, name):
    s, step = first_fix(kb)
    assert step.fix_title, "a proposed fix has a title for people"
    before = s.causes()
    s.fix_result(step.fix, outcome)
    (report,) = s.fixes()
    assert isinstance(report, tshoot.FixReport)
    assert (report.fix, report.cause, report.outcome) == (step.fix, step.cause, name)
    assert report.worked == (name == "worked") and report.title == step.fix_title
    after = s.next()
    if name == "worked":
        assert isinstance(after, tshoot.Conclude) and after.cause == step.cause
        assert after.fix_title == step.fix_title
    else:
        # not proposed again; only did_not_work is evidence against the cause
        assert not (isinstance(after, tshoot.Fix) and after.fix == step.fix)
        p = {c.cause: c.probability for c in s.causes()}
        old = {c.cause: c.probability for c in before}
        if name == "did_not_work":
            assert p[step.cause] < old[step.cause]
        else:
            assert p[step.cause] == pytest.approx(old[step.cause])


def test_fix_result_old_and_bad_outcomes(kb):
    s, step = first_fix(kb)
    s.fix_result(step.fix, worked=False)           # the old keyword
    assert s.fixes()[0].outcome == "did_not_work"
    s.fix_result(fix=step.fix, outcome="skipped")  # reporting again replaces it
    assert [f.outcome for f in s.fixes()] == ["skipped"]
    for bad in ("yes", "WORKED", "worked\0", 1, 0, None, 2.0):
        with pytest.raises(ValueError, match="'worked', 'did_not_work', 'could_not_try' or "
                                             "'skipped'"):
            s.fix_result(step.fix, bad)
    with pytest.raises(TypeError):
        s.fix_result(step.fix)
    with pytest.raises(TypeError):
        s.fix_result(step.fix, "worked", worked=True)
    with pytest.raises(tshoot.NotFound):
        s.fix_result("no.such.fix", "worked")
    s.undo()                                       # "back" takes a fix report back too
    assert s.fixes() == []


def test_inconclusive(kb):
    # nobody knows anything: nothing is left to ask, and no cause has the evidence
    s = kb.session(KERIO_TEXT, fixes=False)
    step, asked = walk(s, {})
    assert isinstance(step, tshoot.Inconclusive) and isinstance(step, tshoot.Step)
    assert step.kind == tshoot.Inconclusive.kind == "inconclusive"
    assert step.escalation and "help desk" in step.escalation
    assert step.cause == s.causes()[0].cause and step.cause_title
    assert step.probability < 0.9 and step.questions_asked == len(asked)
    assert s.next() == step, "asking again repeats the ending"
    assert repr(step).startswith("Inconclusive(cause=")
    match step:
        case tshoot.Inconclusive(cause=c, escalation=e):
            assert c == step.cause and e == step.escalation
        case _:
            pytest.fail("no match")
    # saved and loaded, it ends the same way
    assert tshoot.Session.load(kb, s.save()).next() == step


def test_answers_for_people(kb):
    s = kb.session(KERIO_TEXT, fixes=False)
    s.answer("scope.affected", "pc")
    s.answer("dll.exists", False)
    s.unknown("update.recent")
    a = s.answers()
    assert [(x.question, x.value, x.source) for x in a] == [
        ("scope.affected", "pc", "user"), ("dll.exists", "no", "user"),
        ("update.recent", None, "user")]
    assert a[0].prompt == "Who else has the problem?"
    assert a[0].label == "Every Windows user of this PC, but other PCs are fine"
    assert a[1].label == "No" and a[1].prompt
    assert a[2].label == "I don't know"
    assert tshoot.Session.load(kb, s.save()).answers() == a


def test_read_does_not_apply(kb):
    s = kb.session(KERIO_TEXT, fixes=False)
    step = s.next()
    assert step.type == "choice" and len(step.choices) >= 3
    r = s.read("the first one")
    assert isinstance(r, tshoot.Input)
    assert (r.kind, r.value, r.outcome, r.message) == ("answer", step.choices[0], None, None)
    assert s.read("2") == tshoot.Input("answer", step.choices[1])
    assert s.read(b"The Second One.") == tshoot.Input("answer", step.choices[1])   # bytes are UTF-8
    assert s.read(step.labels[2]).value == step.choices[2]
    assert s.read("no idea").kind == "unknown"
    assert s.read("go back").kind == "back"
    assert s.read("why?").kind == "why"
    assert s.read("how did you get there").kind == "how"
    r = s.read("banana")
    assert r.kind == "unclear" and r.message.startswith("I did not understand that")
    assert s.answers() == [] and s.next() == step, "read() changes nothing"


def test_read_question_types(kb):
    s = kb.session(KERIO_TEXT, fixes=False, written_order=True)
    ask_until(s, "office.bitness")
    assert s.read("sixty-four bit") == tshoot.Input("answer", "x64")
    assert s.read("32-bit").value == "x86"
    s = kb.session(KERIO_TEXT, fixes=False)
    ask_until(s, "dll.exists")
    assert s.read("yep").value == "yes" and s.read("nope").value == "no"


def test_input_applies(kb):
    s = kb.session(KERIO_TEXT, fixes=False)
    first = s.next()
    assert s.input("the first one") == tshoot.Input("answer", first.choices[0])
    assert s.answers()[0].value == first.choices[0]
    second = s.next()
    assert s.input("no idea").kind == "unknown"
    assert [a.value for a in s.answers()] == [first.choices[0], None]
    assert s.input("back").kind == "back"                # "no idea" taken back
    assert [a.question for a in s.answers()] == [first.question]
    assert s.next() == second
    assert s.input("why").kind == "why" and len(s.answers()) == 1
    r = s.input("banana")
    assert r.kind == "unclear" and r.message and len(s.answers()) == 1
    # more words that answer nothing are more description
    r = s.input("it also hangs for a long time when it starts syncing the mail")
    assert r.kind == "text" and r.value is None
    fresh = kb.session(KERIO_TEXT, fixes=False)
    with pytest.raises(tshoot.NotFound):
        fresh.input("back")                                # nothing to take back
    with pytest.raises(TypeError):
        fresh.input(None)


def test_input_at_a_fix(kb):
    s, step = first_fix(kb)
    assert s.read("it worked") == tshoot.Input("fix", outcome="worked")
    assert s.read("didn't work").outcome == "did_not_work"
    assert s.read("skip").outcome == "skipped"
    r = s.input("I can't do this, no admin rights")
    assert r == tshoot.Input("fix", outcome="could_not_try")
    assert [(f.fix, f.outcome) for f in s.fixes()] == [(step.fix, "could_not_try")]
    assert s.input("back").kind == "back" and s.fixes() == []
    assert s.next() == step
    assert s.input("yes").outcome == "worked"
    end = s.next()
    assert isinstance(end, tshoot.Conclude) and end.cause == step.cause


def test_input_after_load(kb):
    # a stateless backend loads the session and hands it the reply at once
    s = kb.session(KERIO_TEXT, fixes=False)
    step = s.next()
    back = tshoot.Session.load(kb, s.save())
    assert back.input("2") == tshoot.Input("answer", step.choices[1])
    assert back.answers()[0].question == step.question


def test_add_text(kb):
    s = kb.session("outlook", fixes=False)
    before = {c.cause: c.probability for c in s.causes()}
    s.add_text("MAPI was unable to load the information service KOFMSP.DLL")
    after = {c.cause: c.probability for c in s.causes()}
    assert after != before
    assert s.causes()[0].article == "kofmsp"
    with pytest.raises(TypeError):
        s.add_text(42)


def test_describe_and_symptom(kb):
    s = kb.session()
    s.describe("MAPI was unable to load the information service KOFMSP.DLL")
    top = s.causes()[0]
    assert top.article == "kofmsp"
    a = kb.article("kofmsp")
    s.symptom(a.symptoms[0].id)
    s.describe(b"kofmsp.dll")   # bytes are UTF-8


def test_causes(kb):
    s = kb.session(KERIO_TEXT)
    causes = s.causes()
    assert causes and all(isinstance(c, tshoot.CauseRank) for c in causes)
    assert "none" in [c.cause for c in causes]
    assert all(a.probability >= b.probability for a, b in zip(causes, causes[1:]))
    assert abs(sum(c.probability for c in causes) - 1) < 1e-6


def test_why_how(kb):
    s = kb.session(KERIO_TEXT, fixes=False)
    step = s.next()
    why = s.why()
    assert isinstance(why, tshoot.Explanation)
    assert why.subject == step.question and why.text
    assert why.causes and why.expected_gain > 0 and why.cost == step.cost
    assert s.why(step.question) == why
    s.answer("dll.exists", "no")
    how = s.how()
    assert how.subject == s.causes()[0].cause
    assert how.items and all(isinstance(i, tshoot.Evidence) for i in how.items)
    kinds = [i.kind for i in how.items]
    assert "prior" in kinds and "answer" in kinds
    answer = [i for i in how.items if i.kind == "answer"][0]
    assert answer.subject == "dll.exists" and answer.factor > 0
    other = s.causes()[1].cause
    assert s.how(cause=other).subject == other
    with pytest.raises(tshoot.NotFound):
        s.how("no-such-cause")
    with pytest.raises(tshoot.NotFound):
        s.why("no.such.question")


def test_save_load(kb):
    s = kb.session(KERIO_TEXT, fixes=False)
    s.answer("scope.affected", "pc")
    s.unknown("update.recent")
    data = s.save()
    assert isinstance(data, str)
    j = json.loads(data)
    assert j["kb"] == kb.info.digest
    back = tshoot.Session.load(kb, data)
    assert isinstance(back, tshoot.Session) and back.kb is kb
    assert back.answers() == s.answers()
    assert back.next() == s.next()
    assert back.causes() == s.causes()
    # bytes too, and the same walk gives the same end
    back2 = tshoot.Session.load(kb, data.encode())
    assert walk(back2, {"dll.exists": "no"})[0] == walk(s, {"dll.exists": "no"})[0]


def test_save_load_other_process(kb, kb_path):
    s = kb.session(KERIO_TEXT, fixes=False)
    s.answer("scope.affected", "pc")
    s.answer("dll.exists", "no")
    expect = walk(tshoot.Session.load(kb, s.save()), {})[0]
    code = ("import sys, tshoot\n"
            "kb = tshoot.KB(sys.argv[1])\n"
            "s = tshoot.Session.load(kb, sys.stdin.read())\n"
            "step = s.next()\n"
            "while not isinstance(step, tshoot.Conclude):\n"
            "    s.unknown(step.question)\n"
            "    step = s.next()\n"
            "print(step.cause, repr(step.probability))\n")
    out = subprocess.run([sys.executable, "-c", code, kb_path], input=s.save(),
                         capture_output=True, text=True, env=os.environ, check=True).stdout
    assert out.split() == [expect.cause, repr(expect.probability)]


def test_load_refuses(kb, car_kb):
    s = kb.session(KERIO_TEXT)
    s.answer("scope.affected", "pc")
    data = s.save()
    for bad in ["", "{}", "[]", "not json", data.replace('"pc"', '"nowhere"'),
                data[:-5], '{"tshoot_session":1,"tshoot_session":1}', "x" * (2 << 20)]:
        with pytest.raises(tshoot.InvalidArgument):
            tshoot.Session.load(kb, bad)
    with pytest.raises(tshoot.VersionMismatch):
        tshoot.Session.load(car_kb, data)        # saved against another KB build
    with pytest.raises(TypeError):
        tshoot.Session.load(kb, 42)
    with pytest.raises(TypeError):
        tshoot.Session.load("kb", data)


def test_options(kb):
    s = kb.session(KERIO_TEXT, conclude_at=0.5, noise=0.05, fixes=False)
    step, _ = walk(s, {"dll.exists": "no", "scope.affected": "pc"})
    assert isinstance(step, tshoot.Conclude)
    s = tshoot.Session(kb, KERIO_TEXT, written_order=True, fixes=False)
    assert isinstance(s.next(), tshoot.Ask)
    for bad in ({"conclude_at": 1.5}, {"noise": -0.1}):
        with pytest.raises(tshoot.InvalidArgument):
            kb.session(**bad)
    with pytest.raises(TypeError):
        tshoot.Session("not a KB")


def test_option_bounds_are_the_librarys(kb):
    # Python passes the options through: the library allows conclude_at in
    # (0, 1] and noise in [0, 0.5), 0 meaning the default, and its message
    # is the exception's.
    s = kb.session(KERIO_TEXT, conclude_at=1.0, noise=0.49, fixes=False)
    assert isinstance(s.next(), tshoot.Ask)
    data = s.save()
    assert json.loads(data)["conclude_at"] == 1.0
    for bad, msg in (({"noise": 0.7}, r"noise is 0\.7: it must be in \[0, 0\.5\)"),
                     ({"noise": 0.5}, r"noise is 0\.5: it must be in \[0, 0\.5\)"),
                     ({"conclude_at": 1.01}, r"conclude_at is 1\.01: it must be in \(0, 1\]")):
        with pytest.raises(tshoot.InvalidArgument, match=msg) as e:
            kb.session(**bad)
        assert e.value.code == -3
        with pytest.raises(tshoot.InvalidArgument, match=msg):
            tshoot.Session.load(kb, data, **bad)
    assert not tshoot.Session.load(kb, data, conclude_at=1.0).closed


def test_close_session(kb):
    with kb.session(KERIO_TEXT) as s:
        s.next()
    assert s.closed and "closed" in repr(s)
    with pytest.raises(tshoot.InvalidArgument, match="closed"):
        s.next()
    s.close()


def test_car_kb(car_kb):
    # the classic rule base: every authored test case passes through the binding
    from test_kb import run_case
    for case in car_kb.tests():
        step, _ = run_case(car_kb, case)
        if case.expect_cause:
            assert step.cause == case.expect_cause, case.id


def test_many_sessions(kb):
    sessions = [kb.session(KERIO_TEXT, fixes=False) for _ in range(500)]
    for i, s in enumerate(sessions):
        s.answer("dll.exists", "no" if i % 2 else "yes")
    ends = {walk(s, {})[0].cause for s in sessions[:20]}
    assert ends
