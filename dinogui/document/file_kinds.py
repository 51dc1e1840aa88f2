"""What a file is, by its name and first bytes, and when two names are one file: plain
rules the window's file flows and the command line share (no Qt)."""

from __future__ import annotations

import os
from pathlib import Path

from dinogui.core import checkpoint

CHECKPOINT_SUFFIX = checkpoint.SUFFIX  # what new checkpoints are called
CHECKPOINT_SUFFIXES = {".npz", CHECKPOINT_SUFFIX}  # .npz: those of version 1


def is_checkpoint(path: Path) -> bool:
    """A checkpoint by its name, else by its first bytes (a zip, or a safetensors header)."""
    # a pipe (`dinogui <(...)`) is never read here: its head would be lost to the corpus
    return path.suffix.lower() in CHECKPOINT_SUFFIXES or checkpoint.looks_like_checkpoint(path)


class KindsPath(type(Path())):
    """Several name lists opened together (names by kind): the first file's place, their
    names joined as the one name messages show."""

    def __new__(cls, paths: list[Path]):
        self = super().__new__(cls, paths[0])
        self.paths = paths
        return self

    @property
    def name(self) -> str:
        return " + ".join(p.name for p in self.paths)


def same_file(a: str | Path, b: str | Path) -> bool:
    """One file under two names (a link, a relative path); where one is missing, whether
    they would be the same place."""
    try:
        return os.path.samefile(a, b)
    except OSError:  # one is missing: compare where they would be
        return os.path.realpath(a) == os.path.realpath(b)
