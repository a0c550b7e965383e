"""tshoot: guided troubleshooting from a knowledge base of articles.

Python bindings of libtshoot (https://... see docs/python.md)::

    import tshoot

    with tshoot.KB() as kb:                      # $TSHOOT_KB, else the build's KB
        for r in kb.search("outlook won't start, kofmsp.dll"):
            print(r.title, r.score)

        s = kb.session("Outlook won't start after the update, kofmsp.dll")
        step = s.next()
        while not isinstance(step, (tshoot.Conclude, tshoot.Inconclusive)):
            ask = step.prompt if isinstance(step, tshoot.Ask) else f"Try: {step.fix_title}. Worked?"
            reply = s.input(input(ask + " "))      # "2", "the first one", "it worked", ...
            if reply.kind == "unclear":
                print(reply.message)
            step = s.next()
        print(step.cause_title, step.probability)

A KB is immutable and shared by any number of threads (searches and
reasoning release the GIL); a Session is one person's diagnosis, used by one
thread at a time, saved with ``save()`` and restored with ``Session.load()``.
Every failure raises a subclass of ``tshoot.Error``.
"""

from ._base import (
    Error, NoMemory, InvalidArgument, NotFound, SourceError, Corrupt, VersionMismatch,
    IOFailure, Timeout, LimitExceeded, CallbackError, Results, default_kb,
)
from ._tshoot import (
    KB, Session, Step, Ask, Fix, Conclude, Inconclusive, Result, KBInfo, Article, Symptom,
    CauseInfo, FixInfo, TestCase, CauseRank, Answer, FixReport, Input, Explanation, Evidence,
    Diagnostic, CompileStats, Host, SimHost, Limits, Change, Run, Probe, compile, run_script, libversion, strerror,
    VERSION, KB_FORMAT, WORKED, DID_NOT_WORK, COULD_NOT_TRY, SKIPPED,
)

__version__ = VERSION

__all__ = [
    "KB", "Session", "Results", "Result", "KBInfo", "Article", "Symptom", "CauseInfo",
    "FixInfo", "TestCase", "Step", "Ask", "Fix", "Conclude", "Inconclusive", "CauseRank",
    "Answer", "FixReport", "Input", "WORKED", "DID_NOT_WORK", "COULD_NOT_TRY", "SKIPPED",
    "Explanation", "Evidence", "Diagnostic", "CompileStats", "compile",
    "Host", "SimHost", "Limits", "Change", "Run", "Probe", "run_script",
    "Error", "NoMemory", "InvalidArgument", "NotFound", "SourceError", "Corrupt",
    "VersionMismatch", "IOFailure", "Timeout", "LimitExceeded", "CallbackError",
    "default_kb", "libversion", "strerror", "VERSION", "KB_FORMAT", "__version__",
]
