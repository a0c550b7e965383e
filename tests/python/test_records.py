"""The small value types: reprs, equality, hashing, pickling, matching."""
import pickle

import pytest

import tshoot

ALL = [tshoot.Result, tshoot.KBInfo, tshoot.Article, tshoot.Symptom, tshoot.CauseInfo,
       tshoot.FixInfo, tshoot.TestCase, tshoot.Ask, tshoot.Fix, tshoot.Conclude,
       tshoot.Inconclusive, tshoot.CauseRank, tshoot.Answer, tshoot.FixReport, tshoot.Input,
       tshoot.Explanation, tshoot.Evidence, tshoot.Diagnostic, tshoot.CompileStats]


def test_construct_and_repr():
    a = tshoot.Answer("office.version", "2019")
    assert a.question == "office.version" and a.value == "2019"
    assert repr(a) == "Answer(question='office.version', value='2019')"
    assert eval(repr(a), {"Answer": tshoot.Answer}) == a
    b = tshoot.Answer(question="q")
    assert b.value is None and repr(b) == "Answer(question='q')"
    with pytest.raises(TypeError):
        tshoot.Answer("a", "b", "c", "d", "e", "f")
    with pytest.raises(TypeError):
        tshoot.Answer(nope=1)
    with pytest.raises(TypeError):
        tshoot.Answer("a", question="b")


def test_immutable_and_equal():
    a = tshoot.CauseRank("c", "title", "art", 0.5)
    with pytest.raises(AttributeError):
        a.cause = "x"
    assert a == tshoot.CauseRank("c", "title", "art", 0.5)
    assert a != tshoot.CauseRank("c", "title", "art", 0.6)
    assert a != tshoot.Answer("c", "title")
    assert hash(a) == hash(tshoot.CauseRank("c", "title", "art", 0.5))
    assert {a: 1}[tshoot.CauseRank("c", "title", "art", 0.5)] == 1
    assert a._asdict() == {"cause": "c", "title": "title", "article": "art",
                           "probability": 0.5}


def test_every_type():
    for cls in ALL:
        assert cls.__module__ == "tshoot"
        assert cls.__doc__ and cls.__match_args__
        obj = cls()
        assert all(getattr(obj, f) is None for f in cls.__match_args__)
        assert repr(obj) == cls.__name__ + "()"
        assert pickle.loads(pickle.dumps(obj)) == obj
        for f in cls.__match_args__:
            assert getattr(cls, f).__doc__, (cls, f)
    assert issubclass(tshoot.Ask, tshoot.Step) and issubclass(tshoot.Fix, tshoot.Step)
    assert issubclass(tshoot.Conclude, tshoot.Step)
    assert [c.kind for c in (tshoot.Ask, tshoot.Fix, tshoot.Conclude)] == \
        ["ask", "fix", "conclude"]


def test_pickled_steps(kb):
    from conftest import KERIO_TEXT
    s = kb.session(KERIO_TEXT)
    step = s.next()
    assert pickle.loads(pickle.dumps(step)) == step
    art = kb.article("kofmsp")
    assert pickle.loads(pickle.dumps(art)) == art
    assert hash(art)


def test_unhashable_field():
    case = tshoot.TestCase(id="t", given={"a": "b"})
    with pytest.raises(TypeError):
        hash(case)


def test_errors():
    for cls, code, base in [(tshoot.NoMemory, -2, MemoryError),
                            (tshoot.InvalidArgument, -3, ValueError),
                            (tshoot.NotFound, -4, LookupError),
                            (tshoot.SourceError, -5, None), (tshoot.Corrupt, -6, None),
                            (tshoot.VersionMismatch, -7, None),
                            (tshoot.IOFailure, -8, OSError),
                            (tshoot.Timeout, -9, TimeoutError),
                            (tshoot.LimitExceeded, -10, None),
                            (tshoot.CallbackError, -11, None)]:
        assert issubclass(cls, tshoot.Error) and cls.code == code
        if base:
            assert issubclass(cls, base)
        e = cls("message", file="kb/x.xml", line=3, column=7)
        assert str(e) == e.message == "message" and e.code == code
        assert (e.file, e.line, e.column) == ("kb/x.xml", 3, 7)
        back = pickle.loads(pickle.dumps(e))
        assert type(back) is cls and back.message == "message" and back.line == 3
    e = tshoot.Error()
    assert e.code == -1 and e.message == "" and e.file is None
