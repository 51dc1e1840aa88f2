"""Shared fixtures. Qt runs offscreen; reference data is read from ../shared/data when present."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("DINOGUI_SHARED_DATA", REPO.parent / "shared" / "data"))


def shared_file(name: str) -> Path:
    """A reference file from ../shared/data, or skip the test when it is absent."""
    path = SHARED_DATA / name
    if not path.is_file():
        pytest.skip(f"needs the reference file {path} (../shared/data beside the checkout, "
                    "or DINOGUI_SHARED_DATA): it is not there")
    return path


@pytest.fixture
def dinos_txt() -> Path:
    return shared_file("dinos.txt")


@pytest.fixture
def tiny_corpus(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.txt"
    path.write_text("Ada\nBob\nCyrus\nDan\nEve\nFinnegan\nGus\nHal\n", encoding="utf-8")
    return path


@pytest.fixture
def app_palette(qapp):
    """Set a palette on the application for one test, and put the old one back."""
    from PySide6.QtGui import QPalette  # here, so that tests without Qt never import it

    before = QPalette(qapp.palette())
    yield qapp.setPalette
    qapp.setPalette(before)
