"""The one training loop: Trainer.step() until a stop rule says enough, and why.

`dinogui train` and the window's worker both train through StepLoop, so a rule
(a budget, early stopping, the blow-up watch, the Health tab's probe) means the
same in both. What differs stays with the caller, in its callbacks: the CLI
prints and logs each step, the worker batches steps into signals, runs jobs and
pauses.

The rules, in the order they are checked:
  before each step   should_stop() (a pause, a swapped trainer, Ctrl-C: its reason),
                     the iteration target `until`, the step budget `steps`, a time budget
                     the model spent already (TrainConfig.time_budget), the time budget
                     `seconds` (wall time since run() began)
  the step           TrainingDiverged: "diverged" (the trainer kept its last good weights);
                     with catch_failures, any other error: "failed"
  after each step    on_step(result, health sample), then a blow-up the watch sees
                     (on_blowup says whether to stop), then early stopping (the step's
                     `stopped`: "patience", or "fitted" for the count model)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .blowup import Blowup, BlowupWatch
from .health import HealthProbe, HealthSample, due
from .trainer import StepResult, Trainer, TrainingDiverged

# why a loop ended, besides should_stop's reasons and a step's own `stopped`
UNTIL = "until"  # the iteration count reached `until`
STEPS = "steps"  # `steps` steps were taken
SECONDS = "seconds"  # the time budget was used up
DIVERGED = "diverged"
FAILED = "failed"
BLOWUP = "blowup"


@dataclass(frozen=True)
class LoopEnd:
    """Why the loop ended, with what the caller tells the user about it."""

    reason: str
    message: str = ""  # the error, the blow-up's summary or the patience message
    blowup: Blowup | None = None  # the one the watch saw in this run, stopping or not


def _never() -> str | None:
    return None


def _stop_on_blowup(_blowup: Blowup) -> bool:
    return True


@dataclass
class StepLoop:
    """Steps one trainer under the rules above. `until` and `health_every` may be changed
    between steps (by should_stop, say); the rest is fixed for a run."""

    trainer: Trainer
    until: int | None = None  # stop once trainer.iteration reaches this
    steps: int | None = None  # stop after this many steps
    seconds: float | None = None  # stop once this much time has passed
    health_every: int = 0  # probe the steps with iteration % health_every == 0 (0: none)
    watch: BlowupWatch | None = None  # it only looks: the numbers stay the trainer's
    should_stop: Callable[[], str | None] = _never  # a reason to stop now, or None
    on_step: Callable[[StepResult, HealthSample | None], None] | None = None
    on_blowup: Callable[[Blowup], bool] = _stop_on_blowup  # True: stop there
    report_stop: Callable[[], bool] | None = None  # Trainer.step's stop (a report's names)
    catch_failures: bool = False  # any error of a step ends the loop as "failed"
    clock: Callable[[], float] = time.perf_counter
    taken: int = field(default=0, init=False)  # steps taken by run()
    step_seconds: float = field(default=0.0, init=False)  # the time they took

    def run(self) -> LoopEnd:
        """Step until a rule stops it; the trainer is left after its last complete step."""
        trainer, clock = self.trainer, self.clock
        probe, blowup = HealthProbe(trainer), None
        started = clock()
        while True:
            reason = self._before_step()
            if reason is not None:
                return LoopEnd(reason, blowup=blowup)
            t0 = clock()
            if self.seconds is not None and t0 - started >= self.seconds:
                return LoopEnd(SECONDS, blowup=blowup)
            # a count model has no gradients to watch; only the watched steps pay for it
            watched = due(trainer.iteration, self.health_every) \
                and not trainer.config.counts_only
            try:
                if watched:
                    probe.before_step()
                r = trainer.step() if self.report_stop is None \
                    else trainer.step(stop=self.report_stop)
                sample = probe.after_step(r.iteration) if watched else None
            except TrainingDiverged as e:
                return LoopEnd(DIVERGED, str(e), blowup)
            except Exception as e:
                if not self.catch_failures:
                    raise
                return LoopEnd(FAILED, f"{type(e).__name__}: {e}", blowup)
            self.step_seconds += clock() - t0
            self.taken += 1
            seen = None if self.watch is None else self.watch.observe(r)
            if self.on_step is not None:
                self.on_step(r, sample)
            if seen is not None:
                blowup = seen
                if self.on_blowup(seen):
                    return LoopEnd(BLOWUP, seen.summary(), seen)
            if r.stopped is not None:  # early stopping
                why = trainer.patience_message() if r.stopped == "patience" else ""
                return LoopEnd(r.stopped, why, blowup)

    def _before_step(self) -> str | None:
        """The reason to stop before the next step, if any (but the time: see run)."""
        reason = self.should_stop()
        if reason is not None:
            return reason
        if self.until is not None and self.trainer.iteration >= self.until:
            return UNTIL
        if self.steps is not None and self.taken >= self.steps:
            return STEPS
        if self.trainer.budget_left() == 0:  # the model's own time budget, spent before
            return SECONDS
        return None
