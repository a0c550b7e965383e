"""Fixtures of the Python tests.

The environment comes from `meson test` (tests/meson.build, tests/python/meson.build):
TSHOOT_KB is the KB this build compiled from kb/ (the shipped Kerio KB),
TSHOOT_SOURCE_ROOT the repository, TSHOOT_BIN the tshoot command, PYTHONPATH
the build's bindings/python.
"""
import os
import pathlib
import sys

import pytest

import tshoot

ROOT = pathlib.Path(os.environ.get("TSHOOT_SOURCE_ROOT",
                                   pathlib.Path(__file__).resolve().parents[2]))
KERIO_TEXT = "Outlook won't start after the update, something about kofmsp.dll"

# the example chatbot is imported by its tests
sys.path.insert(0, str(ROOT / "bindings" / "python" / "examples"))


@pytest.fixture(scope="session")
def kb_path():
    path = os.environ.get("TSHOOT_KB")
    if not path or not os.path.isfile(path):
        pytest.skip("TSHOOT_KB does not name a compiled KB (run through meson test)")
    return path


@pytest.fixture(scope="session")
def kb(kb_path):
    with tshoot.KB(kb_path) as k:
        yield k


@pytest.fixture(scope="session")
def car_kb(tmp_path_factory):
    """The textbook 'car won't start' rule base, compiled by the binding."""
    out = tmp_path_factory.mktemp("car") / "car.db"
    tshoot.compile([ROOT / "tests" / "data" / "car" / "car.xml"], out)
    with tshoot.KB(out) as k:
        yield k
