"""What the training worker tells the window, as plain values (no Qt: views import these).

    progress(ProgressBatch)  the steps since the last batch, column by column
    stopped(Stopped)         training ended, and why
    answered(Answer)         the result of a job asked for with ask()
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from dinogui.core.blowup import Blowup
from dinogui.core.config import TrainConfig
from dinogui.core.health import HealthSample
from dinogui.core.trainer import StepResult, Trainer


@dataclass
class Report:
    """A report step: the names the trainer drew, as the seed prints them."""

    iteration: int
    smooth: float
    smooth_char: float
    samples: list[str]
    val_loss: float | None = None


@dataclass
class ProgressBatch:
    """Consecutive training steps, column by column (all arrays have the same length)."""

    generation: int  # which attached trainer these steps belong to
    iterations: np.ndarray  # (n,) the seed's 0-based j of each step
    loss: np.ndarray  # (n,) summed over the step's names
    chars: np.ndarray
    names: np.ndarray
    smooth: np.ndarray  # the seed's smoothed per-name loss after each step
    smooth_char: np.ndarray
    reports: list[Report] = field(default_factory=list)
    val_points: list[tuple[int, float]] = field(default_factory=list)  # (iteration, loss)
    iteration: int = 0  # steps taken after the batch
    total_chars: int = 0
    seconds: float = 0.0  # the trainer's training time so far
    wall: float = 0.0  # time.perf_counter() when the batch left the worker
    health: list[HealthSample] = field(default_factory=list)  # the watched steps' figures
    lr: float | None = None  # the learning rate the last step took (None: a count model)
    # a labelled model: (iteration, held-out loss of each kind)
    kind_points: list[tuple[int, list[float]]] = field(default_factory=list)
    budget_spent: float | None = None  # seconds of the time budget used (None: no budget)

    @classmethod
    def from_steps(cls, generation: int, steps: list[StepResult], trainer: Trainer,
                   wall: float, health: list[HealthSample] | None = None) -> ProgressBatch:
        def col(name: str, dtype) -> np.ndarray:
            return np.fromiter((getattr(r, name) for r in steps), dtype=dtype, count=len(steps))

        reports = [Report(r.iteration, r.smooth, r.smooth_char, list(r.samples), r.val_loss)
                   for r in steps if r.samples is not None]
        val = [(r.iteration, r.val_loss) for r in steps if r.val_loss is not None]
        st = trainer.state
        return cls(generation, col("iteration", np.int64), col("loss", np.float64),
                   col("chars", np.int64), col("names", np.int64), col("smooth", np.float64),
                   col("smooth_char", np.float64), reports, val, st.iteration,
                   st.total_chars, st.seconds, wall, list(health or ()),
                   None if trainer.config.counts_only or not steps else steps[-1].lr,
                   [(r.iteration, r.val_by_label) for r in steps if r.val_by_label is not None],
                   trainer.budget_clock.total if trainer.config.time_budget else None)


@dataclass(frozen=True)
class Stopped:
    """Why training stopped; `message` explains a divergence, a blow-up or the patience's
    stop."""

    generation: int
    # "paused", "budget", "step", "patience" (no better held-out loss for `patience` checks),
    # "diverged", "failed" (an error in a step), "blowup" (the loss left its range)
    reason: str
    iteration: int
    message: str = ""
    blowup: Blowup | None = None  # what the watch saw, with the good weights to go back to
    config: TrainConfig | None = None  # the trainer's settings when it stopped (frozen)


@dataclass
class Answer:
    callback: Callable
    result: object = None
    error: BaseException | None = None
