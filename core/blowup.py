"""Noticing that the loss blew up, and keeping the last good weights to go back to.

The seed's recipe (one name per step, plain SGD, no held-out names) can fall
apart long into a run: on towns-302 the smoothed loss reaches 7.5 per name, then
within a few hundred steps the model forgets nearly everything and reports turn to
letter soup. Classic keeps no best weights, so training on ruins the model silently.

BlowupWatch observes a trainer's StepResults and never changes a number it trains
(it only reads them, and copies the weights between steps). Its rule:

    fast = an average of the per-character loss over the last ~100 steps (an EMA, 0.01)
    low  = the lowest `fast` seen so far
    a blow-up: fast > max(RATIO * low, low + HALFWAY * (guess - low))

where guess = log(V) is the per-character loss of a uniform guess. So the loss
has to lose half of all it had learned over guessing, and (while it has learned
little) rise by half again: a noisy or slowly rising loss never gets there. The
per-character loss because the seed's per-name one starts at the loss of 7
names (SEED_NAMES), which says nothing about these names' lengths. A 100-step
average because the seed's 1000-step one needs ~1,500 steps to cross.

Measured (python -m dinogui.bench.blowup prints these): healthy runs got at most
0.58 of the way from `low` to the threshold (towns-302, classic, 45,000 steps),
dinos 0.32 (classic) and 0.09 (default); towns-302's blow-up (under the Haswell
BLAS kernel) begins near iteration 38,180 and is seen at 38,405.

The weights: every `every` iterations (the report interval, at least MIN_EVERY),
when the seed's smoothed loss is the lowest of all copies so far, a copy of what
the trainer needs to continue exactly (parameters, optimizer, state, history).
Watching costs ~1 microsecond a step beside the step's ~100 (copies included).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np

from .trainer import StepResult, Trainer

RATE = 0.01  # the fast average's weight for each new step: ~100 steps
RATIO = 1.5  # the fast loss must exceed its lowest by this factor...
HALFWAY = 0.5  # ...and have climbed this share of the way back up to a uniform guess
MIN_EVERY = 500  # at most one copy of the weights per this many iterations
# the fast average crosses the threshold ~150-250 steps after a blow-up begins: weights copied
# less than this many steps before it was seen may be spoiled already
LAG = 300


@dataclass(frozen=True)
class GoodPoint:
    """A copy of everything a trainer needs to go on from `iteration` exactly."""

    iteration: int  # steps taken
    smooth: float  # the seed's smoothed loss per name then
    smooth_char: float
    fast: float  # the watch's ~100-step average loss per character then
    params: dict[str, np.ndarray]
    optimizer: object  # core.optim.Optimizer or None (classic)
    state: object  # core.trainer.TrainState
    history: object  # core.history.History
    best_params: dict[str, np.ndarray] | None

    @classmethod
    def of(cls, trainer: Trainer, fast: float) -> GoodPoint:
        st = trainer.state
        return cls(st.iteration, st.smooth, st.smooth_char, fast, _copied(trainer.params),
                   copy.deepcopy(trainer.optimizer), copy.deepcopy(st),
                   trainer.history.copy(), _copied(trainer.best_params))

    def trainer(self, now: Trainer) -> Trainer:
        """A trainer at this point, with `now`'s corpus and settings (a lowered learning rate
        stays lowered); this point stays intact for another go."""
        return Trainer.restore(now.corpus, now.config, _copied(self.params),
                               copy.deepcopy(self.optimizer), copy.deepcopy(self.state),
                               self.history.copy(), _copied(self.best_params))


@dataclass(frozen=True)
class Blowup:
    """What the watch saw: when, how far the loss rose, and the weights from before."""

    iteration: int  # steps taken when it was seen
    preset: str
    smooth: float  # the seed's smoothed loss per name then
    smooth_char: float
    fast: float  # the ~100-step average loss per character then
    low: float  # its lowest before
    guess: float  # a uniform guess's loss per character
    good: GoodPoint | None  # the weights to go back to (None: none were kept)

    def summary(self) -> str:
        """One line: what happened and which weights were good. The recent average leads:
        the seed's smoothed loss lags ~1,000 steps (and may still be falling from its start)."""
        classic, good = self.preset == "classic", self.good
        scale = "smoothed loss" if classic else "smoothed loss per character"
        shown = (lambda p: p.smooth) if classic else (lambda p: p.smooth_char)
        kept = "" if good is None else (
            f"; the weights from iteration {good.iteration:,} ({scale} {shown(good):.4f}) "
            "were good")
        return (f"the loss blew up at iteration {self.iteration:,} (per character over the "
                f"last ~100 steps {self.low:.3g} -> {self.fast:.3g}, a uniform guess "
                f"{self.guess:.3g}; {scale} {shown(self):.5g}){kept}")


class BlowupWatch:
    """Feed it each StepResult of `trainer`; observe() returns a Blowup once, when it sees one.

    It keeps firing at most once: after a blow-up it only watches again from a
    trainer it is rebuilt for (go_back() gives one).
    """

    def __init__(self, trainer: Trainer, every: int | None = None) -> None:
        self.trainer = trainer
        self.every = max(MIN_EVERY, trainer.config.sample_every if every is None else every)
        self.guess = math.log(trainer.vocab.size)  # a uniform guess's loss per character
        st = trainer.state
        self.fast = st.smooth_char  # seeded with the trainer's own smoothed loss
        self.low = self.fast
        self.good: GoodPoint | None = None  # the copy at the lowest smoothed loss
        self.older: GoodPoint | None = None  # the one it replaced
        self.copies = 0  # copies of the weights taken (for tests and the benchmark)
        self.fired: Blowup | None = None
        if st.iteration == 0 or st.iteration % self.every == 0:
            self._keep()

    def threshold(self) -> float:
        low = self.low
        return max(RATIO * low, low + HALFWAY * (self.guess - low))

    def observe(self, r: StepResult) -> Blowup | None:
        """The blow-up, the first time the loss leaves its range; else None."""
        if self.fired is not None:
            return None
        self.fast += (r.loss / r.chars - self.fast) * RATE
        if self.fast < self.low:
            self.low = self.fast
        elif self.fast > self.threshold():
            st = self.trainer.state
            self.fired = Blowup(st.iteration, self.trainer.config.preset, st.smooth,
                                st.smooth_char, self.fast, self.low, self.guess,
                                self.good_point(st.iteration))
            return self.fired
        if (r.iteration + 1) % self.every == 0:
            self._keep()
        return None

    def _keep(self) -> None:
        """Copy the weights when the seed's smoothed loss is the lowest of all copies so far
        (the lowest, not the latest, and the one before it kept too: see good_point)."""
        st = self.trainer.state
        if self.good is None or st.smooth_char <= self.good.smooth_char:
            self.good, self.older = GoodPoint.of(self.trainer, self.fast), self.good
            self.copies += 1

    def good_point(self, iteration: int) -> GoodPoint | None:
        """The weights to go back to from a blow-up seen at `iteration`: the lowest copy,
        unless it is under LAG steps old (the blow-up may have begun before it)."""
        good = self.good
        if good is not None and iteration - good.iteration < LAG and self.older is not None:
            return self.older
        return good


def _copied(params: dict[str, np.ndarray] | None) -> dict[str, np.ndarray] | None:
    return None if params is None else {k: v.copy() for k, v in params.items()}
