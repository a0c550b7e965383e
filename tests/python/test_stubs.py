"""The type stubs (tshoot/__init__.pyi) describe the module as it is."""
import ast
import inspect
import pathlib

import tshoot

STUB = pathlib.Path(tshoot.__file__).with_name("__init__.pyi")


def stub_tree():
    return ast.parse(STUB.read_text(encoding="utf-8"))


def test_stub_shipped():
    assert STUB.is_file()
    assert STUB.with_name("py.typed").is_file()


def test_every_public_name_is_stubbed():
    names = set()
    for node in stub_tree().body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign):
            names.add(node.target.id)
    missing = [n for n in tshoot.__all__ if n not in names]
    assert not missing, missing


def test_classes_match():
    for node in stub_tree().body:
        if not isinstance(node, ast.ClassDef) or node.name.startswith("_"):
            continue
        cls = getattr(tshoot, node.name)
        stubbed = set()
        for item in node.body:
            if isinstance(item, ast.FunctionDef):
                stubbed.add(item.name)
            elif isinstance(item, ast.AnnAssign):
                stubbed.add(item.target.id)
        probe = cls("m") if issubclass(cls, BaseException) else cls   # instance attributes
        for name in stubbed - {"__init__", "__enter__", "__exit__"}:
            assert hasattr(probe, name), f"{node.name}.{name} is in the stub, not in the module"
        # what the module has is in the stub: methods, properties and fields
        fields = set(getattr(cls, "__match_args__", ()))
        public = {n for n, _ in inspect.getmembers(cls)
                  if not n.startswith("_") and n not in dir(Exception)}
        if issubclass(cls, list):
            public -= set(dir(list))
        inherited = {n for b in cls.__mro__[1:] for n in vars(b)}
        own = (public - inherited) | fields
        assert own <= stubbed | {"kind"}, f"{node.name}: not in the stub: {own - stubbed}"
