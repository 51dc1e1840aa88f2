"""Past training runs: each run's settings and loss curves, kept to compare later.

A run is a small .npz in a runs folder (JSON metadata plus curve arrays, no
pickles), rewritten atomically as the run goes on. The full model lives in
checkpoints; a run keeps only what a comparison needs.
"""

from __future__ import annotations

import io
import json
import os
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .atomic import write_atomic
from .trainer import Trainer


@dataclass
class Run:
    run_id: str
    corpus: str
    config: dict
    started: float  # Unix time
    iterations: int = 0
    smooth_char: np.ndarray = field(default_factory=lambda: np.zeros(0))  # per iteration
    val_iterations: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    val_losses: np.ndarray = field(default_factory=lambda: np.zeros(0))
    best_val: float | None = None

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
        self.val_iterations = np.array(st.val_iterations, dtype=np.int64)
        self.val_losses = np.array(st.val_losses, dtype=np.float64)
        self.best_val = st.best_val


class RunStore:
    """A folder of runs, one file each."""

    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder = Path(folder)

    def path(self, run_id: str) -> Path:
        return self.folder / f"run-{run_id}.npz"

    def save(self, run: Run) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        meta = {"run_id": run.run_id, "corpus": run.corpus, "config": run.config,
                "started": run.started, "iterations": run.iterations, "best_val": run.best_val}
        target = self.path(run.run_id)
        buf = io.BytesIO()
        np.savez(buf, meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
                 smooth_char=run.smooth_char, val_iterations=run.val_iterations,
                 val_losses=run.val_losses)
        write_atomic(target, buf.getbuffer())
        return target

    def load(self, path: str | os.PathLike) -> Run:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(z["meta"].tobytes().decode("utf-8"))
            return Run(meta["run_id"], meta["corpus"], meta["config"], meta["started"],
                       meta["iterations"], z["smooth_char"], z["val_iterations"],
                       z["val_losses"], meta["best_val"])

    def runs(self) -> list[Run]:
        """Every readable run, oldest first; damaged files are skipped, not fatal."""
        found = []
        for p in sorted(self.folder.glob("run-*.npz")):
            try:
                found.append(self.load(p))
            except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile):
                continue
        return sorted(found, key=lambda r: r.started)

    def delete(self, run_id: str) -> None:
        self.path(run_id).unlink(missing_ok=True)


def differing_settings(runs: list[Run]) -> dict[str, list]:
    """Settings whose values are not the same in every run, with each run's value."""
    keys = sorted({k for r in runs for k in r.config} | {"corpus"})
    table = {}
    for k in keys:
        values = [r.corpus if k == "corpus" else r.config.get(k) for r in runs]
        if len({json.dumps(v) for v in values}) > 1:
            table[k] = values
    return table
