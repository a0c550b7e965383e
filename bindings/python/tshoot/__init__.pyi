# Type stubs of the tshoot package (the C extension tshoot._tshoot and tshoot._base).
import os
from types import TracebackType
from typing import Any, Callable, ClassVar, Literal, Optional, Sequence, Union

VERSION: str
KB_FORMAT: int
__version__: str

_Outcome = Literal["worked", "did_not_work", "could_not_try", "skipped"]
WORKED: Literal["worked"]
DID_NOT_WORK: Literal["did_not_work"]
COULD_NOT_TRY: Literal["could_not_try"]
SKIPPED: Literal["skipped"]

def libversion() -> str: ...
def strerror(code: int, /) -> str: ...
def default_kb() -> Optional[str]: ...

_Text = Union[str, bytes]

# --- errors -------------------------------------------------------------------

class Error(Exception):
    code: int
    message: str
    file: Optional[str]
    line: int
    column: int
    def __init__(self, message: str = ..., *, code: Optional[int] = ...,
                 file: Optional[str] = ..., line: int = ..., column: int = ...) -> None: ...

class NoMemory(Error, MemoryError): ...
class InvalidArgument(Error, ValueError): ...
class NotFound(Error, LookupError): ...
class Corrupt(Error): ...
class VersionMismatch(Error): ...
class IOFailure(Error, OSError): ...
class Timeout(Error, TimeoutError): ...
class LimitExceeded(Error): ...
class SourceError(Error):
    diagnostics: tuple[Diagnostic, ...]
    stats: Optional[CompileStats]

class CallbackError(Error): ...

# --- records (immutable; equality by value; picklable; pattern matching) -------

class _Record:
    def _asdict(self) -> dict[str, Any]: ...

class Result(_Record):
    __match_args__: ClassVar[tuple[str, ...]]
    article: str
    title: str
    snippet: str
    score: float
    file: Optional[str]
    line: int
    passage: str
    marks: tuple[tuple[int, int], ...]
    def __init__(self, article: str = ..., title: str = ..., snippet: str = ...,
                 score: float = ..., file: Optional[str] = ..., line: int = ...,
                 passage: str = ..., marks: tuple[tuple[int, int], ...] = ...) -> None: ...

class Results(list[Result]):
    suggestion: Optional[str]
    query: str
    truncated: bool
    text: str
    def __init__(self, items: Sequence[Result] = ..., suggestion: Optional[str] = ...,
                 query: str = ..., truncated: bool = ..., text: str = ...) -> None: ...

class KBInfo(_Record):
    __match_args__: ClassVar[tuple[str, ...]]
    path: str
    format: int
    digest: str
    tshoot_version: str
    articles: int
    questions: int
    facts: int
    causes: int
    fixes: int
    tests: int
    scripts: int
    sources: int

class Symptom(_Record):
    __match_args__: ClassVar[tuple[str, ...]]
    id: str
    kind: str
    code: Optional[str]
    text: str

class FixInfo(_Record):
    __match_args__: ClassVar[tuple[str, ...]]
    id: str
    title: str
    steps: tuple[str, ...]
    verify: Optional[str]
    script: Optional[str]
    cost: float
    risk: str
    needs_admin: bool
    reversible: bool

class CauseInfo(_Record):
    __match_args__: ClassVar[tuple[str, ...]]
    id: str
    title: str
    explanation: Optional[str]
    prior: float
    fixes: tuple[FixInfo, ...]

class Article(_Record):
    __match_args__: ClassVar[tuple[str, ...]]
    id: str
    title: str
    summary: Optional[str]
    file: Optional[str]
    line: int
    symptoms: tuple[Symptom, ...]
    aliases: tuple[str, ...]
    causes: tuple[CauseInfo, ...]

class TestCase(_Record):
    __match_args__: ClassVar[tuple[str, ...]]
    id: str
    description: Optional[str]
    text: Optional[str]
    expect_cause: Optional[str]
    expect_fix: Optional[str]
    file: Optional[str]
    line: int
    given: dict[str, str]

class Step(_Record):
    """The base of Ask, Fix, Conclude and Inconclusive (each has a class attribute
    `kind`: 'ask', 'fix', 'conclude' or 'inconclusive')."""

class Ask(Step):
    __match_args__: ClassVar[tuple[str, ...]]
    kind: ClassVar[Literal["ask"]]
    question: str
    prompt: str
    why: Optional[str]
    type: Literal["yesno", "choice", "version", "number", "text"]
    unit: Optional[str]
    choices: tuple[str, ...]
    labels: tuple[str, ...]
    expected_gain: float
    cost: float
    questions_asked: int

class Fix(Step):
    __match_args__: ClassVar[tuple[str, ...]]
    kind: ClassVar[Literal["fix"]]
    fix: str
    cause: str
    cause_title: str
    article: Optional[str]
    probability: float
    questions_asked: int
    fix_title: Optional[str]

class Conclude(Step):
    __match_args__: ClassVar[tuple[str, ...]]
    kind: ClassVar[Literal["conclude"]]
    cause: str
    cause_title: str
    article: Optional[str]
    probability: float
    questions_asked: int
    fix_title: Optional[str]

class Inconclusive(Step):
    """Nothing left to ask or try, and no cause has the evidence to be named:
    `cause` is only the best candidate, `escalation` what to do now."""
    __match_args__: ClassVar[tuple[str, ...]]
    kind: ClassVar[Literal["inconclusive"]]
    cause: str
    cause_title: str
    article: Optional[str]
    probability: float
    escalation: Optional[str]
    questions_asked: int

class CauseRank(_Record):
    __match_args__: ClassVar[tuple[str, ...]]
    cause: str
    title: str
    article: Optional[str]
    probability: float

class Answer(_Record):
    __match_args__: ClassVar[tuple[str, ...]]
    question: str
    value: Optional[str]
    source: Literal["user", "probe", "text"]
    prompt: Optional[str]
    label: Optional[str]

class FixReport(_Record):
    __match_args__: ClassVar[tuple[str, ...]]
    fix: str
    cause: Optional[str]
    worked: bool
    outcome: _Outcome
    title: Optional[str]

class Input(_Record):
    __match_args__: ClassVar[tuple[str, ...]]
    kind: Literal["answer", "unknown", "fix", "back", "why", "how", "text", "unclear"]
    value: Optional[str]
    outcome: Optional[_Outcome]
    message: Optional[str]

class Evidence(_Record):
    __match_args__: ClassVar[tuple[str, ...]]
    kind: str
    subject: Optional[str]
    detail: Optional[str]
    factor: float

class Explanation(_Record):
    __match_args__: ClassVar[tuple[str, ...]]
    subject: Optional[str]
    text: Optional[str]
    items: tuple[Evidence, ...]
    causes: tuple[CauseRank, ...]
    expected_gain: float
    cost: float

# --- hosts and scripts ------------------------------------------------------------

class Limits(_Record):
    __match_args__: ClassVar[tuple[str, ...]]
    memory_kib: Optional[int]
    instructions: Optional[int]
    time_ms: Optional[int]
    exact_count: Optional[bool]
    def __init__(self, memory_kib: Optional[int] = None, instructions: Optional[int] = None,
                 time_ms: Optional[int] = None, exact_count: Optional[bool] = None) -> None: ...

_LimitsArg = Union[Limits, dict[str, Any], None]

class Change(_Record):
    __match_args__: ClassVar[tuple[str, ...]]
    op: str
    target: str
    before: str
    after: str
    script: Optional[str]
    fix: Optional[str]
    undone: bool

class Run(_Record):
    __match_args__: ClassVar[tuple[str, ...]]
    status: int
    message: str
    answer: Optional[str]
    verified: bool
    rolled_back: bool
    changes: tuple[Change, ...]
    notes: tuple[str, ...]
    elapsed_ms: float
    instructions: int
    memory_peak: int

class Probe(_Record):
    __match_args__: ClassVar[tuple[str, ...]]
    question: str
    script: Optional[str]
    answer: Optional[str]
    status: int
    message: str

class Host:
    """A machine reached through `target`'s methods (see help(tshoot.Host))."""
    def __init__(self, target: Any) -> None: ...
    @property
    def target(self) -> Any: ...
    @property
    def last_error(self) -> Optional[BaseException]: ...
    def journal(self) -> list[Change]: ...
    def journal_json(self) -> str: ...

class SimHost(Host):
    def __init__(self, path: Union[str, os.PathLike[str], None] = None, *,
                 json: Optional[_Text] = None, name: Optional[str] = None) -> None: ...
    def save(self) -> str: ...
    def set_confirm(self, yes: bool, /) -> None: ...

def run_script(name: str, body: _Text,
               mode: Literal["probe", "plan", "apply", "verify"] = "probe", *,
               host: Any = None, fix: Optional[FixInfo] = None,
               limits: _LimitsArg = None) -> Run: ...

# --- KB and Session -------------------------------------------------------------

_AnswerValue = Union[str, bool, int, float]

class KB:
    def __init__(self, path: Union[str, os.PathLike[str], None] = None, *,
                 query_budget_ms: int = 0, cache_kib: int = 0) -> None: ...
    @property
    def path(self) -> str: ...
    @property
    def closed(self) -> bool: ...
    @property
    def info(self) -> KBInfo: ...
    def search(self, text: _Text, limit: int = 10, *, prefix: bool = True,
               spelling: bool = True, any_word: bool = False, snippet_words: int = 24,
               mark: Optional[tuple[str, str]] = ...) -> Results: ...
    def article(self, id: str, /) -> Article: ...
    def tests(self) -> list[TestCase]: ...
    def session(self, text: Optional[_Text] = None, host: Any = None, *,
                conclude_at: float = ..., noise: float = ..., fixes: bool = True,
                written_order: bool = False, limits: _LimitsArg = None) -> Session: ...
    def script(self, name: str, /) -> str: ...
    def close(self) -> None: ...
    def __enter__(self) -> KB: ...
    def __exit__(self, t: Optional[type[BaseException]], v: Optional[BaseException],
                 tb: Optional[TracebackType]) -> Literal[False]: ...

class Session:
    def __init__(self, kb: KB, text: Optional[_Text] = None, host: Any = None, *,
                 conclude_at: float = ..., noise: float = ..., fixes: bool = True,
                 written_order: bool = False, limits: _LimitsArg = None) -> None: ...
    @classmethod
    def load(cls, kb: KB, data: _Text, *, host: Any = None, conclude_at: float = ...,
             noise: float = ..., fixes: bool = True, written_order: bool = False,
             limits: _LimitsArg = None) -> Session: ...
    @property
    def kb(self) -> KB: ...
    @property
    def host(self) -> Optional[Host]: ...
    def set_host(self, host: Any, limits: _LimitsArg = None) -> None: ...
    def probes(self) -> list[Probe]: ...
    def run_fix(self, fix: str, dry_run: bool = False) -> Run: ...
    @property
    def closed(self) -> bool: ...
    def next(self) -> Union[Ask, Fix, Conclude, Inconclusive]: ...
    def read(self, text: _Text, /) -> Input: ...
    def input(self, text: _Text, /) -> Input: ...
    def answer(self, question: str, value: _AnswerValue) -> None: ...
    def change(self, question: str, value: _AnswerValue) -> None: ...
    def unknown(self, question: str, /) -> None: ...
    def retract(self, question: str, /) -> None: ...
    def undo(self) -> None: ...
    def fix_result(self, fix: str, outcome: Union[_Outcome, bool] = ..., *,
                   worked: bool = ...) -> None: ...
    def fixes(self) -> list[FixReport]: ...
    def describe(self, text: _Text, /) -> None: ...
    def add_text(self, text: _Text, /) -> None: ...
    def symptom(self, id: str, /) -> None: ...
    def causes(self) -> list[CauseRank]: ...
    def answers(self) -> list[Answer]: ...
    def why(self, question: Optional[str] = None) -> Explanation: ...
    def how(self, cause: Optional[str] = None) -> Explanation: ...
    def save(self) -> str: ...
    def close(self) -> None: ...
    def __enter__(self) -> Session: ...
    def __exit__(self, t: Optional[type[BaseException]], v: Optional[BaseException],
                 tb: Optional[TracebackType]) -> Literal[False]: ...

# --- compiling ---------------------------------------------------------------------

class Diagnostic(_Record):
    __match_args__: ClassVar[tuple[str, ...]]
    severity: Literal["error", "warning", "note"]
    file: str
    line: int
    column: int
    code: Optional[str]
    message: str

class CompileStats(_Record):
    __match_args__: ClassVar[tuple[str, ...]]
    files: int
    articles: int
    questions: int
    facts: int
    causes: int
    fixes: int
    tests: int
    scripts: int
    errors: int
    warnings: int
    diagnostics: tuple[Diagnostic, ...]

_Path = Union[str, bytes, os.PathLike[str]]

def compile(sources: Union[_Path, Sequence[_Path]], output: Optional[_Path] = None, *,
            script_dirs: Optional[Union[_Path, Sequence[_Path]]] = None,
            warnings_are_errors: bool = False, max_file_size: int = 0,
            on_progress: Optional[Callable[[str, int, int], Any]] = None) -> CompileStats: ...
