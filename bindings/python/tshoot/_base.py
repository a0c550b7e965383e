"""Pure-Python parts of the tshoot package: the exception hierarchy, the
search-results list and the default KB lookup.

The C extension (tshoot._tshoot) imports this module when it loads and raises
these classes; import everything from ``tshoot`` itself.
"""

import os

__all__ = [
    "Error", "NoMemory", "InvalidArgument", "NotFound", "SourceError", "Corrupt",
    "VersionMismatch", "IOFailure", "Timeout", "LimitExceeded", "CallbackError", "Untrusted",
    "Results", "default_kb",
]


class Error(Exception):
    """A failure reported by libtshoot.

    ``str(e)`` is the library's one-line message. The attributes carry the
    rest of ``tshoot_error_last()``: ``code`` (the negative ``TSHOOT_E*``
    status), ``message``, and ``file``/``line``/``column`` when the error is
    about a place in a file (a KB source, a KB file, a script), else
    ``None``/0/0.
    """

    code = -1  # TSHOOT_ERROR

    def __init__(self, message="", *, code=None, file=None, line=0, column=0):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.file = file
        self.line = line
        self.column = column

    def __str__(self):
        return self.message

    def __reduce__(self):
        return (_rebuild, (type(self), self.message, self.code, self.file, self.line,
                           self.column))


def _rebuild(cls, message, code, file, line, column):
    return cls(message, code=code, file=file, line=line, column=column)


class NoMemory(Error, MemoryError):
    """TSHOOT_ENOMEM: the library ran out of memory."""
    code = -2


class InvalidArgument(Error, ValueError):
    """TSHOOT_EINVALID: an argument was refused (a value a question does not
    allow, a malformed saved session, a closed KB...). Also a ValueError."""
    code = -3


class NotFound(Error, LookupError):
    """TSHOOT_ENOTFOUND: a file, article, question or other id does not exist
    (the message often says "did you mean"). Also a LookupError."""
    code = -4


class SourceError(Error):
    """TSHOOT_ESOURCE: KB sources have errors. Raised by tshoot.compile() with
    ``diagnostics`` (every Diagnostic, in source order) and ``stats`` (the
    CompileStats)."""
    code = -5
    diagnostics = ()
    stats = None


class Corrupt(Error):
    """TSHOOT_ECORRUPT: a KB file is damaged, truncated or not a KB."""
    code = -6


class VersionMismatch(Error):
    """TSHOOT_EVERSION: a KB file of another format version, or a saved session
    made against another KB build."""
    code = -7


class IOFailure(Error, OSError):
    """TSHOOT_EIO: reading or writing a file failed. Also an OSError."""
    code = -8

    def __init__(self, message="", **kw):
        Error.__init__(self, message, **kw)


class Timeout(Error, TimeoutError):
    """TSHOOT_ETIMEOUT: work ran past its time budget. Also a TimeoutError."""
    code = -9

    def __init__(self, message="", **kw):
        Error.__init__(self, message, **kw)


class LimitExceeded(Error):
    """TSHOOT_ELIMIT: a script broke a limit (memory, instructions, time)."""
    code = -10


class CallbackError(Error):
    """TSHOOT_EUSER: a callback (such as a Python host's method) failed or
    refused. When a Python callback raised, that exception is the
    ``__cause__`` of this one."""
    code = -11


class Untrusted(Error):
    """TSHOOT_EUNTRUSTED: the KB is not signed by a key this machine trusts, so
    its scripts do not run (or, with ``require_signature``, it does not open).
    The message says why: unsigned, unknown signer, bad signature, revoked."""
    code = -12


_BY_CODE = {c.code: c for c in (Error, NoMemory, InvalidArgument, NotFound, SourceError,
                                Corrupt, VersionMismatch, IOFailure, Timeout, LimitExceeded,
                                CallbackError, Untrusted)}


for _c in list(_BY_CODE.values()):
    _c.__module__ = "tshoot"
del _c


def _error_class(code):
    return _BY_CODE.get(code, Error)


class Results(list):
    """What ``KB.search()`` found: a list of ``Result``, best first, with

    - ``suggestion``: the corrected text when unknown words were replaced
      ("did you mean"), else ``None``;
    - ``query``: the full-text query that was run ("" when the text had no
      words), for debugging;
    - ``truncated``: ``True`` when the search ran out of its time budget (the
      list is then empty or partial);
    - ``text``: the text that was searched, as the library reports it: bytes
      that are not UTF-8 (and NUL) as U+FFFD, as ``tshoot search --json``
      reports its "query".
    """

    __slots__ = ("suggestion", "query", "truncated", "text")

    def __init__(self, items=(), suggestion=None, query="", truncated=False, text=""):
        super().__init__(items)
        self.suggestion = suggestion
        self.query = query
        self.truncated = truncated
        self.text = text

    def __repr__(self):
        extra = ""
        if self.suggestion is not None:
            extra += f", suggestion={self.suggestion!r}"
        if self.truncated:
            extra += ", truncated=True"
        return f"Results({list.__repr__(self)}{extra})"

    def __reduce__(self):
        return (Results, (list(self), self.suggestion, self.query, self.truncated, self.text))


Results.__module__ = "tshoot"


# --- The default KB -----------------------------------------------------------
#
# This lookup is written twice in the project: here and in the tshoot command
# (cli_open_kb in engine/cli/output.c). libtshoot is getting it for every
# front-end and C embedder (tshoot_kb_open with a NULL path); when that lands,
# KB() passes NULL to the library and _find_default_kb goes, with the order it
# repeats (default_kb() then reports the library's choice). Keep the lookup in
# this one function until then.

def _find_default_kb(required):
    """The KB file ``KB()`` opens when given no path: its path, or when there
    is none ``None`` (``required`` false) or a NotFound to raise (true)."""
    env = os.environ.get("TSHOOT_KB")
    if env:
        return env
    from . import _tshoot
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tshoot.db")
    for path in (_tshoot._BUILD_KB, here, _tshoot._INSTALLED_KB):
        if path and os.path.isfile(path):
            return path
    if not required:
        return None
    raise NotFound(
        "no knowledge base found: looked for $TSHOOT_KB (unset), "
        f"{_tshoot._BUILD_KB or '(no build KB)'} (the KB this build compiles), the package's "
        f"tshoot.db and {_tshoot._INSTALLED_KB} (the installed KB); pass KB(path) or set "
        "TSHOOT_KB", code=-4)


def default_kb():
    """The KB file that ``KB()`` opens when given no path, or ``None``.

    The same order as the ``tshoot`` command: ``$TSHOOT_KB`` (used even if the
    file is missing, so that the error names it), then the KB compiled by the
    build this module comes from (when it still exists), then a KB shipped
    inside the installed package, then the KB installed with the library
    (``<prefix>/share/tshoot/tshoot.db``).
    """
    return _find_default_kb(False)
