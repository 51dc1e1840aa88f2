"""The document package (dinogui/document/) holds no Qt, and the window's flows are handed
what they use, never the window: both read from the sources, so a new import that breaks
either rule fails here."""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import dinogui.document

REPO = Path(__file__).resolve().parent.parent
QT = ("PySide6", "pyqtgraph", "shiboken6")

# A meta-path finder placed first refuses Qt: any import of it, however indirect, raises.
BLOCKED_IMPORT = f"""
import importlib, pkgutil, sys

class NoQt:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {QT!r}:
            raise ImportError("Qt is blocked: " + name)
        return None

sys.meta_path.insert(0, NoQt())
import dinogui.document as doc
names = sorted(m.name for m in pkgutil.iter_modules(doc.__path__))
for name in names:
    importlib.import_module("dinogui.document." + name)
print(",".join(names))
print(sorted(m for m in sys.modules if m.split(".")[0] in {QT!r}))
"""


def document_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(dinogui.document.__path__))


def test_every_document_module_imports_with_qt_blocked():
    out = subprocess.run([sys.executable, "-c", BLOCKED_IMPORT], capture_output=True,
                         text=True, cwd=REPO)
    assert out.returncode == 0, out.stderr
    imported, qt = out.stdout.strip().splitlines()
    assert imported.split(",") == document_modules()
    assert {"session", "messages", "corpus_summary", "sample_request", "live_settings",
            "name_scores", "favourites"} <= set(imported.split(","))
    assert qt == "[]"


def test_the_blocking_finder_does_refuse_qt():
    """The check above would pass vacuously if the finder let Qt through."""
    code = BLOCKED_IMPORT.replace("import dinogui.document as doc", "import dinogui.widgets.status")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert out.returncode != 0 and "Qt is blocked: PySide6" in out.stderr


# == the controllers are handed what they use, never the window ========================
CONTROLLERS = sorted((REPO / "dinogui" / "controllers").glob("*.py"))


def imported_modules(tree: ast.AST) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return found


def test_no_controller_imports_or_receives_the_main_window():
    assert len(CONTROLLERS) >= 10  # the glob found them
    for path in CONTROLLERS:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        assert not any("main_window" in m for m in imported_modules(tree)), path.name
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef):
                for arg in node.args.args + node.args.kwonlyargs:
                    assert arg.arg != "window", f"{path.name}: {node.name}({arg.arg})"
                    assert "MainWindow" not in ast.unparse(arg.annotation or ast.Constant(""))


def test_the_import_check_sees_a_main_window_import():
    tree = ast.parse("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                     "    from dinogui.main_window import MainWindow\n")
    assert "dinogui.main_window" in imported_modules(tree)


def test_no_build_order_guard_in_the_window_or_its_flows():
    """`hasattr(self, ...)`: a refresh that may run before what it reads was built."""
    for path in [*CONTROLLERS, REPO / "dinogui" / "main_window.py"]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "hasattr":
                assert ast.unparse(node.args[0]) != "self", f"{path.name}: {ast.unparse(node)}"
