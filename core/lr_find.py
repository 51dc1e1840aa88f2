"""A learning-rate finder: Smith's range test (fastai's lr_find), on a copy of the model.

The copy takes one training step per rate, the rates rising geometrically from the
lowest to the highest; each step's loss per character is smoothed as fastai does
(an exponential average, weight 0.98, corrected for its start at 0). The sweep ends
early once the smoothed loss passes DIVERGE times its lowest, or when a step diverges.

The suggestion is a tenth of the rate at the lowest smoothed loss. The lowest point is
where the loss is about to blow up (the average lags the rising rate, so the true
edge is a little earlier still); a tenth of it is Smith's and fastai's rule of thumb
for a rate that is fast and still safe. The other common rule, the steepest descent
of the curve, takes a derivative of a noisy 100-step curve and jumps between
neighbouring points from seed to seed; the minimum is one robust number. The
suggestion is rounded to two significant digits (what a user would type) and is
never below the sweep's first rate.

The trainer given is never touched: find_lr copies its parameters, optimizer state
and training state first (copy_trainer), so its next step is the one it would have
taken anyway.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .settings import LR_FIND, MAX_INTERVAL
from .trainer import Trainer, TrainingDiverged

BETA = 0.98  # fastai's smoothing: ~50 steps of memory
DIVERGE = 4.0  # the sweep stops once the smoothed loss is this many times its lowest
SHRINK = 10.0  # the suggestion: the rate at the lowest smoothed loss over this


@dataclass(frozen=True)
class Sweep:
    """A finished sweep: one entry per step taken (fewer than planned when it stopped)."""

    rates: np.ndarray  # the rate of each step taken
    losses: np.ndarray  # each step's loss per character (nats)
    smoothed: np.ndarray  # their debiased exponential average
    planned: int  # steps the sweep would have taken to reach the highest rate
    # "end" (every rate), "diverged" (DIVERGE x the lowest), "nan" (a step failed),
    # "cancelled" (stop() said so)
    stopped: str
    suggestion: float | None  # None when no step was taken
    failed_rate: float | None = None  # "nan": the rate whose step diverged

    @property
    def lowest(self) -> int:
        """The step with the lowest smoothed loss."""
        return int(np.argmin(self.smoothed))


def sweep_rates(low: float, high: float, steps: int) -> np.ndarray:
    """`steps` rates from low to high, both exact, each the last times (high/low)^(1/(steps-1))."""
    problems = [p for name, v in (("min_lr", low), ("max_lr", high), ("steps", steps))
                if (p := LR_FIND[name].problem(v)) is not None]
    if not problems and not low < high:
        problems.append(f"the lowest rate ({low:g}) must be below the highest ({high:g})")
    if problems:
        raise ValueError("; ".join(problems))
    rates = np.geomspace(low, high, steps)
    rates[0], rates[-1] = low, high  # geomspace's ends can be off by an ulp
    return rates


def smooth(losses: np.ndarray, beta: float = BETA) -> np.ndarray:
    """fastai's smoothed loss: avg = beta * avg + (1 - beta) * loss, divided by 1 - beta^n."""
    out = np.empty(len(losses))
    avg = 0.0
    for i, loss in enumerate(losses):
        avg = beta * avg + (1.0 - beta) * float(loss)
        out[i] = avg / (1.0 - beta ** (i + 1))
    return out


def suggest(rates: np.ndarray, smoothed: np.ndarray) -> float:
    """A tenth of the rate at the lowest smoothed loss, to 2 significant digits, at least
    the first rate."""
    rate = max(float(rates[int(np.argmin(smoothed))]) / SHRINK, float(rates[0]))
    return float(f"{rate:.2g}")


def copy_trainer(trainer: Trainer) -> Trainer:
    """An independent trainer that goes on exactly as `trainer` would (run between steps)."""
    opt = copy.deepcopy(trainer.optimizer)
    params = {k: v.copy() for k, v in trainer.params.items()}
    twin = Trainer.restore(trainer.corpus, trainer.config, params, opt,
                           copy.deepcopy(trainer.state), trainer.history.copy(), None)
    # the sweep wants the steps' losses only: no report names, no held-out checks that
    # could stop it (a check still runs at a multiple of MAX_INTERVAL: iteration 0); and each
    # step at the swept rate itself, not scaled by a warm-up or a schedule (a finished cosine
    # run's would make every rate 0), nor stopped by a spent time budget
    twin.set_live(samples=0, sample_every=MAX_INTERVAL, val_every=MAX_INTERVAL, patience=0,
                  lr_schedule="constant", warmup=0, time_budget=0.0)
    return twin


def find_lr(trainer: Trainer, low: float = LR_FIND["min_lr"].default,
            high: float = LR_FIND["max_lr"].default, steps: int = LR_FIND["steps"].default,
            stop: Callable[[], bool] | None = None) -> Sweep:
    """Sweep the rates on a copy of `trainer` (left exactly as it was); stop() is asked
    between steps and ends the sweep early when True."""
    rates = sweep_rates(low, high, steps)
    twin = copy_trainer(trainer)
    losses: list[float] = []
    stopped, best, avg, failed = "end", math.inf, 0.0, None
    with np.errstate(all="ignore"):  # a diverging step is caught by the trainer's checks
        for i, rate in enumerate(rates):
            if stop is not None and stop():
                stopped = "cancelled"
                break
            twin.set_live(lr=float(rate))
            try:
                r = twin.step()
            except TrainingDiverged:
                stopped, failed = "nan", float(rate)
                break
            losses.append(r.loss / r.chars)
            avg = BETA * avg + (1.0 - BETA) * losses[-1]
            smoothed = avg / (1.0 - BETA ** (i + 1))
            best = min(best, smoothed)
            if smoothed > DIVERGE * best:
                stopped = "diverged"
                break
    taken = np.asarray(losses, dtype=np.float64)
    smoothed = smooth(taken)
    rates = rates[:len(taken)]
    return Sweep(rates, taken, smoothed, steps, stopped,
                 suggest(rates, smoothed) if len(taken) else None, failed)
