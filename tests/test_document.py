"""The document package (dinogui/document/) holds no Qt, and the window's flows are handed
what they use, never the window: both read from the sources, so a new import that breaks
either rule fails here."""

from __future__ import annotations

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
