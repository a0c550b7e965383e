"""Run the Python tests with pytest, as `meson test` does (see meson.build).

    TSHOOT_PY_TESTS   the folder of the tests (this one)
    TSHOOT_PY_PRELOAD sanitizer runtimes to load first (a sanitized build), or ""
    PYTHONPATH        the build's bindings/python, which holds the tshoot package

Exit status 77 (skipped) when this python has no pytest.
"""
import os
import sys


def main():
    preload = os.environ.get("TSHOOT_PY_PRELOAD", "")
    if preload and os.environ.get("TSHOOT_PY_PRELOADED") != "1":
        # python is not built with the sanitizers: their runtimes must come first
        env = dict(os.environ, TSHOOT_PY_PRELOADED="1")
        env["LD_PRELOAD"] = ":".join(filter(None, [preload, env.get("LD_PRELOAD", "")]))
        # python's own allocator hides blocks from ASan: use malloc. Leak checks
        # stay on (ASAN_OPTIONS from meson): python frees or keeps reachable
        # what it allocates, so what LeakSanitizer reports is the extension's.
        env["PYTHONMALLOC"] = "malloc"
        os.execve(sys.executable, [sys.executable] + sys.argv, env)
    try:
        import pytest
    except ImportError:
        print("SKIP: this python (%s) has no pytest (Debian: apt-get install python3-pytest)"
              % sys.executable)
        return 77
    here = os.environ.get("TSHOOT_PY_TESTS") or os.path.dirname(os.path.abspath(__file__))
    args = ["-p", "no:cacheprovider", "--rootdir", here, here] + sys.argv[1:]
    return pytest.main(args)


if __name__ == "__main__":
    sys.exit(main())
