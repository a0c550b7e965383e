"""Every Python block of docs/python.md runs (each on its own, from the
repository's root), so the guide cannot drift from the module."""
import contextlib
import io
import re

import pytest

from conftest import ROOT

DOC = ROOT / "docs" / "python.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


def test_blocks_found():
    assert len(BLOCKS) >= 5


@pytest.mark.parametrize("n", range(len(BLOCKS)))
def test_block_runs(n, kb_path, monkeypatch):
    monkeypatch.setenv("TSHOOT_KB", kb_path)
    monkeypatch.chdir(ROOT)          # the examples name files from the repository's root
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(BLOCKS[n], f"{DOC}:block{n + 1}", "exec"), {"__name__": "__doc_example__"})
    assert out.getvalue()
