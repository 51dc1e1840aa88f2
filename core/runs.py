"""Past training runs: each run's settings and loss curves, kept to compare later.

A run is a small safetensors file in a runs folder (JSON metadata plus curve
arrays, read with the checkpoints' strict reader), rewritten atomically as the
run goes on. The full model lives in checkpoints; a run keeps only what a
comparison needs: the smoothed loss at the iterations the trainer's bounded
history keeps, and every held-out measurement. Runs saved as .npz by earlier
versions still load.
"""

from __future__ import annotations

import json
import math
import os
import re
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .atomic import write_atomic
from .checkpoint_format import Damaged, SafetensorsFile, strict_json, to_safetensors
from .legacy_npz import LegacyNpz
from .trainer import Trainer

FORMAT = "dinogui-run"
VERSION = "2"
MAX_POINTS = 10_000_000  # far beyond any run: a larger curve is a damaged file


class RunError(ValueError):
    """A run file that cannot be read (the reason, without the path)."""


@dataclass
class Run:
    run_id: str
    corpus: str
    config: dict
    started: float  # Unix time
    iterations: int = 0
    smooth_char: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (n,)
    val_iterations: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    val_losses: np.ndarray = field(default_factory=lambda: np.zeros(0))
    best_val: float | None = None
    # (n,) the iteration of each smooth_char point: every one of the recent steps, a
    # thinned selection of older ones (core/history.py)
    curve_x: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def __post_init__(self) -> None:
        if len(self.curve_x) != len(self.smooth_char):  # not given: every step from 0
            self.curve_x = np.arange(len(self.smooth_char), dtype=np.int64)

    @property
    def label(self) -> str:
        stamp = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.started))
        return f"{self.corpus} · {self.config.get('preset')} · {stamp}"

    @classmethod
    def start(cls, trainer: Trainer) -> Run:
        run = cls(uuid.uuid4().hex[:12], trainer.corpus.title, trainer.config.to_dict(),
                  time.time())
        run.update(trainer)
        return run

    def update(self, trainer: Trainer) -> None:
        """Take the trainer's current curves (and any live setting changes)."""
        st = trainer.state
        self.config = trainer.config.to_dict()
        self.iterations = st.iteration
        self.smooth_char = trainer.history.column("smooth_char").copy()
        self.curve_x = trainer.history.column("iteration").copy()
        self.val_iterations = np.array(st.val_iterations, dtype=np.int64)
        self.val_losses = np.array(st.val_losses, dtype=np.float64)
        self.best_val = st.best_val


@dataclass
class RunScan:
    """What reading a runs folder found: the runs, and each file skipped with its reason."""

    runs: list[Run]
    skipped: list[tuple[Path, str]]

    def note(self) -> str | None:
        """One line for the user about the skipped files, or None."""
        if not self.skipped:
            return None
        path, reason = self.skipped[0]
        more = f" (and {len(self.skipped) - 1} more)" if len(self.skipped) > 1 else ""
        return f"Skipped a damaged run record{more}: {path.name}: {reason}"


class RunStore:
    """A folder of runs, one file each."""

    SUFFIX = ".safetensors"
    LEGACY_SUFFIX = ".npz"

    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder = Path(folder)

    def path(self, run_id: str) -> Path:
        return self.folder / f"run-{run_id}{self.SUFFIX}"

    def save(self, run: Run) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        meta = {"run_id": run.run_id, "corpus": run.corpus, "config": run.config,
                "started": run.started, "iterations": run.iterations, "best_val": run.best_val}
        arrays = {"smooth_char": np.asarray(run.smooth_char, dtype=np.float64),
                  "curve_x": np.asarray(run.curve_x, dtype=np.int64),
                  "val_iterations": np.asarray(run.val_iterations, dtype=np.int64),
                  "val_losses": np.asarray(run.val_losses, dtype=np.float64)}
        target = self.path(run.run_id)
        write_atomic(target, to_safetensors(
            arrays, {"format": FORMAT, "version": VERSION, "dinogui": json.dumps(meta)}))
        self.path_legacy(run.run_id).unlink(missing_ok=True)  # now superseded
        return target

    def path_legacy(self, run_id: str) -> Path:
        return self.folder / f"run-{run_id}{self.LEGACY_SUFFIX}"

    def load(self, path: str | os.PathLike) -> Run:
        """The run in the file; RunError (with the reason) when it is damaged."""
        path = Path(path)
        try:
            with open(path, "rb") as f:
                head = f.read(9)
            if head.startswith(b"PK\x03\x04"):
                return _load_npz(path)
            if head[8:9] != b"{":
                raise RunError("is not a dinogui run record")
            return _load_safetensors(path)
        except RunError:
            raise
        except Damaged as e:
            raise RunError(str(e)) from None
        except OSError as e:
            raise RunError(f"cannot be read ({e.strerror or e})") from None
        except (ValueError, TypeError, KeyError, IndexError, ArithmeticError,
                RecursionError) as e:
            raise RunError(f"damaged ({type(e).__name__})") from None

    def scan(self) -> RunScan:
        """Every readable run, oldest first, and the files skipped (damaged) with why."""
        found, skipped = [], []
        paths = sorted(self.folder.glob(f"run-*{self.SUFFIX}"))
        have = {p.name[: -len(self.SUFFIX)] for p in paths}
        paths += [p for p in sorted(self.folder.glob(f"run-*{self.LEGACY_SUFFIX}"))
                  if p.name[: -len(self.LEGACY_SUFFIX)] not in have]
        for p in paths:
            try:
                found.append(self.load(p))
            except RunError as e:
                skipped.append((p, str(e)))
        return RunScan(sorted(found, key=lambda r: r.started), skipped)

    def runs(self) -> list[Run]:
        """Every readable run, oldest first; damaged files are skipped (scan() says which)."""
        return self.scan().runs

    def delete(self, run_id: str) -> None:
        self.path(run_id).unlink(missing_ok=True)
        self.path_legacy(run_id).unlink(missing_ok=True)


def _load_safetensors(path: Path) -> Run:
    with SafetensorsFile(path) as f:
        if f.metadata.get("format") != FORMAT or f.metadata.get("version") != VERSION:
            raise RunError("is not a dinogui run record")
        meta = strict_json(f.metadata.get("dinogui", ""), "its metadata")
        arrays = {k: f.read(k) for k in _checked(f.entries, ("smooth_char", "curve_x",
                                                            "val_iterations", "val_losses"))}
    return _run(meta, arrays)


def _load_npz(path: Path) -> Run:
    """A run of version 1: every iteration's smoothed loss, from iteration 0 on."""
    with LegacyNpz(path, re.compile(r"(meta|smooth_char|val_iterations|val_losses)\.npy")) as z:
        meta_entry = z.entries.get("meta")
        if meta_entry is None or meta_entry.dtype != np.uint8 or meta_entry.nbytes > 2**24:
            raise RunError("is not a dinogui run record")
        meta = strict_json(z.read("meta").tobytes(), "its metadata")
        names = ("smooth_char", "val_iterations", "val_losses")
        arrays = {k: z.read(k) for k in _checked(z.entries, names)}
    arrays["curve_x"] = np.arange(len(arrays["smooth_char"]), dtype=np.int64)
    return _run(meta, arrays)


def _checked(entries, names) -> tuple[str, ...]:
    for k in names:
        e = entries.get(k)
        if e is None or len(e.shape) != 1 or e.shape[0] > MAX_POINTS \
                or e.dtype.kind not in "fiu":
            raise RunError(f"its {k} is missing or malformed")
    return names


def _run(meta, a: dict[str, np.ndarray]) -> Run:
    if not isinstance(meta, dict):
        raise RunError("its metadata is not a JSON object")
    types = {"run_id": str, "corpus": str, "config": dict, "started": (int, float),
             "iterations": int}
    for k, t in types.items():
        if not isinstance(meta.get(k), t) or isinstance(meta.get(k), bool):
            raise RunError(f"its {k} is missing or malformed")
    best = meta.get("best_val")
    if best is not None and (isinstance(best, bool) or not isinstance(best, (int, float))):
        raise RunError("its best_val is malformed")
    if not math.isfinite(meta["started"]) or meta["iterations"] < 0:
        raise RunError("its start time or iteration count is out of range")
    if len(a["smooth_char"]) != len(a["curve_x"]) or len(a["val_iterations"]) != len(
            a["val_losses"]):
        raise RunError("its curves differ in length")
    x = a["curve_x"].astype(np.int64)
    if len(x) and (x[0] < 0 or (np.diff(x) <= 0).any() or x[-1] >= meta["iterations"]):
        raise RunError("its curve's iterations are out of order")
    return Run(meta["run_id"], meta["corpus"], meta["config"], float(meta["started"]),
               meta["iterations"], a["smooth_char"].astype(np.float64),
               a["val_iterations"].astype(np.int64), a["val_losses"].astype(np.float64),
               None if best is None else float(best), x)


def differing_settings(runs: list[Run]) -> dict[str, list]:
    """Settings whose values are not the same in every run, with each run's value."""
    keys = sorted({k for r in runs for k in r.config} | {"corpus"})
    table = {}
    for k in keys:
        values = [r.corpus if k == "corpus" else r.config.get(k) for r in runs]
        if len({json.dumps(v) for v in values}) > 1:
            table[k] = values
    return table
