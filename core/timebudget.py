"""A run's time budget (TrainConfig.time_budget): the seconds its steps have taken, the stop
once they reach the budget, and a cosine or linear schedule's length sized to end with it.

A run given a time rather than a number of steps cannot know its schedule's length up
front. The first step is not timed (it fits a hybrid's count model and makes the first
held-out check: ~1 s on names.txt, 100 ordinary steps' worth); after PROBE_STEPS more, the
horizon is set from their mean time, and at every held-out check after that it is set again
from every step timed so far, so a machine whose load changes mid-run still ends its
schedule at the budget. A horizon the run was given (a resumed run's saved one, or set by
hand) is kept: only one this module set is moved.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

clock = time.perf_counter  # the steps' clock (tests drive a fake one)
PROBE_STEPS = 20  # steps timed before the first estimate


@dataclass
class BudgetClock:
    """The training time of one trainer's steps, on top of what the run spent before it."""

    spent_before: float = 0.0  # a resumed run's training seconds
    steps_before: int = 0  # and its steps: their mean time serves until this run has its own
    spent: float = 0.0  # seconds inside this trainer's steps
    timed: float = 0.0  # of which those of the steps after the first
    timed_steps: int = 0
    steps: int = 0
    horizon: int | None = None  # the last schedule length set from the budget

    @property
    def total(self) -> float:
        return self.spent_before + self.spent

    def add(self, seconds: float) -> None:
        self.spent += seconds
        self.steps += 1
        if self.steps > 1:
            self.timed += seconds
            self.timed_steps += 1

    def horizon_for(self, iteration: int, budget: float) -> int | None:
        """The iteration at which a schedule from `iteration` ends as the budget does (the
        steps left at the mean step time so far): this run's once PROBE_STEPS are timed, a
        resumed run's saved mean before that; None when there is neither."""
        if self.timed_steps >= PROBE_STEPS:
            per_step = self.timed / self.timed_steps
        elif self.steps_before > 0 and self.spent_before > 0:
            per_step = self.spent_before / self.steps_before
        else:
            return None
        per_step = max(per_step, 1e-9)
        left = max(0.0, budget - self.total)
        return iteration + max(1, int(left / per_step))
