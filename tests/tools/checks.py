"""checks.py: evaluates the CLI test scripts' checks, many per process.

tests/cli/lib.sh starts it once per test script (with the python meson found,
$TSHOOT_PYTHON) and sends it one request per check, so that no check starts an
interpreter of its own. A request on stdin is a count N then N fields, each
ended by a NUL byte; the first field names the check:

  json FILE EXPR    FILE holds one line of compact JSON ended by a newline,
                    and EXPR holds over j = that JSON
  saved FILE EXPR   EXPR holds over m = the machine saved in FILE, with
                    reg(key, name), keys(prefix) and files(prefix) (below)
  code CODE ARG...  CODE (dedented) runs with argv = [ARG...] (and json imported) and
                    raises nothing; what it prints goes to stderr
  module NAME       Python module NAME can be imported (quietly: no traceback)
  schema FILE NAME  FILE holds one JSON document valid under the JSON Schema
                    docs/schemas/NAME.json (python3-jsonschema; the schemas
                    are read and checked once, and refer to each other by
                    file name)

The reply on stdout is one line, "ok" or "fail"; what failed goes to stderr.
"""
import contextlib
import json
import os
import pathlib
import sys
import textwrap
import traceback


def read_field(stream, buf):
    """One NUL-ended field from stream (bytes in buf are read first)."""
    while b"\0" not in buf:
        chunk = stream.read1(65536)
        if not chunk:
            raise EOFError
        buf += chunk
    field, _, rest = buf.partition(b"\0")
    return field.decode("utf-8", "surrogateescape"), rest


def check_json(path, expr):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    assert text.endswith("\n"), "output does not end with a newline"
    assert text.count("\n") == 1, "JSON is not compact (one line) without a terminal"
    j = json.loads(text)
    if not eval(expr, {"j": j}):
        print("JSON was:", json.dumps(j, indent=2)[:3000], file=sys.stderr)
        return False
    return True


def check_saved(path, expr):
    """reg(key, name) reads a registry value (names case-insensitive, as on
    Windows), keys(prefix) lists the keys at and under a key, files(prefix) the
    files under a folder."""
    with open(path, encoding="utf-8") as f:
        m = json.load(f)
    regs = {k.lower(): {n.lower(): v for n, v in vals.items()}
            for k, vals in m.get("registry", {}).items()}

    def reg(key, name):
        return regs.get(key.lower(), {}).get(name.lower())

    def keys(prefix):
        p = prefix.lower()
        return [k for k in regs if k == p or k.startswith(p + "\\")]

    def files(prefix):
        p = prefix.lower()
        return [f for f in m.get("files", {}) if f.lower().startswith(p + "\\")]

    env = {"m": m, "reg": reg, "keys": keys, "files": files}
    if not eval("(" + expr + "\n)", env):
        print("saved machine:", json.dumps(m, indent=1)[:3000], file=sys.stderr)
        return False
    return True


def check_code(code, *argv):
    """What CODE prints goes to stderr: stdout carries the replies."""
    with contextlib.redirect_stdout(sys.stderr):
        exec(textwrap.dedent(code), {"argv": list(argv), "json": json})
    return True


_VALIDATORS = {}


def _schema_validator(name):
    """The validator of docs/schemas/NAME.json, with every schema of that
    folder in its store, so that "run.json#/$defs/run" resolves offline."""
    if name in _VALIDATORS:
        return _VALIDATORS[name]
    import jsonschema  # Debian: python3-jsonschema
    folder = pathlib.Path(os.environ["TSHOOT_SOURCE_ROOT"]) / "docs" / "schemas"
    store = {}
    for f in sorted(folder.glob("*.json")):
        with open(f, encoding="utf-8") as fh:
            store[f.resolve().as_uri()] = json.load(fh)
    uri = (folder / (name + ".json")).resolve().as_uri()
    schema = store[uri]
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    resolver = jsonschema.RefResolver(base_uri=uri, referrer=schema, store=store)
    _VALIDATORS[name] = cls(schema, resolver=resolver)
    return _VALIDATORS[name]


def check_schema(path, name):
    validator = _schema_validator(name)
    with open(path, encoding="utf-8") as f:
        j = json.load(f)
    errors = list(validator.iter_errors(j))
    for e in errors[:5]:
        where = "/".join(str(p) for p in e.absolute_path) or "(top)"
        print(f"{path}: not valid under docs/schemas/{name}.json at {where}: {e.message[:300]}",
              file=sys.stderr)
        for sub in sorted(e.context, key=lambda x: len(x.absolute_path))[-3:]:
            subwhere = "/".join(str(p) for p in sub.absolute_path) or "(top)"
            print(f"    {subwhere}: {sub.message[:200]}", file=sys.stderr)
    return not errors


def check_module(name):
    import importlib.util
    return importlib.util.find_spec(name) is not None


CHECKS = {"json": check_json, "saved": check_saved, "code": check_code, "schema": check_schema,
          "module": check_module}


def main():
    stream = sys.stdin.buffer
    buf = b""
    while True:
        try:
            count, buf = read_field(stream, buf)
        except EOFError:
            return 0
        fields = []
        for _ in range(int(count)):
            field, buf = read_field(stream, buf)
            fields.append(field)
        try:
            ok = CHECKS[fields[0]](*fields[1:])
        except Exception:  # a failed check, not a failed evaluator
            traceback.print_exc(limit=1, file=sys.stderr)
            ok = False
        sys.stderr.flush()
        sys.stdout.write("ok\n" if ok else "fail\n")
        sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
