"""Steering the worker: start, pause, one step, reset, the settings panel's changes; and
what the worker reports while it trains, drawn into the views."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction

from dinogui.controllers.inspector import InspectorFollower
from dinogui.controllers.runs import RunRecorder
from dinogui.controllers.sampling import SamplingController
from dinogui.controllers.shell import Shell
from dinogui.core import quality, schedule
from dinogui.core.config import LIVE_FIELDS, TrainConfig
from dinogui.core.settings import AUTO_VAL_CHECKS
from dinogui.core.trainer import Trainer
from dinogui.document.live_settings import apply_live, live_change_text, plain_settings
from dinogui.document.messages import ProgressBatch, Stopped
from dinogui.widgets.health_plot import HealthPlot
from dinogui.widgets.hyperparams import HyperparamsPanel
from dinogui.widgets.loss_plot import LossPlot
from dinogui.widgets.status import TrainingStatus

STATUS_REFRESH = 0.25  # seconds between status bar refreshes while training


@dataclass(frozen=True)
class TrainingViews:
    """What steering reads and draws into."""

    hyperparams: HyperparamsPanel  # the settings; the budget
    status: TrainingStatus
    loss_plot: LossPlot
    health: HealthPlot
    pause: QAction  # off at once when pressed, before the worker stops


@dataclass(frozen=True)
class TrainingFlows:
    """The other flows that follow training, and the two ways a model comes in."""

    runs: RunRecorder
    sampling: SamplingController
    follower: InspectorFollower
    may_discard: Callable[..., bool]  # (doing, why="") -> False when the user cancels
    adopt: Callable  # (trainer, summary, checkpoint_path, saved_iteration): show it


class TrainingController(QObject):
    def __init__(self, shell: Shell, views: TrainingViews, flows: TrainingFlows) -> None:
        super().__init__(shell)
        self.shell = shell
        self.views = views
        self.flows = flows
        self.s = shell.session
        self._status_shown = 0.0  # when the status bar was last refreshed
        self._own_budget: int | None = None  # the budget before "Train on to ..." raised it
        self._early_stop: str | None = None  # why the model last stopped early (patience)

    def model_changed(self) -> None:
        """Another model: a budget raised to train the last one on goes back to the user's."""
        self._early_stop = None
        if self._own_budget is not None:
            self.views.hyperparams.set_budget(self._own_budget)
            self.views.status.set_budget(self._own_budget)
            self._own_budget = None

    # -- models: reset and settings ------------------------------------------------
    def reset_model(self) -> None:
        if self.s.trainer is None or self.s.busy:
            return
        if not self.flows.may_discard("reset the model"):
            return
        # the model's own settings, every one of them, not the panel's (which shows only some)
        self._rebuild(self.s.config, "Reset: fresh weights")

    def _rebuild(self, config: TrainConfig, note: str, picked: bool = False) -> None:
        """A fresh model on the current names, built in the background (picked: its model is
        the quality preset's picks, which the panel then follows)."""
        # the corpus is never modified: safe to share
        corpus, summary = self.s.trainer.corpus, self.s.summary
        if config.time_budget > 0 and config.lr_schedule != "constant":
            # the old model's schedule was sized to its own steps' time: the new one sizes its own
            config = replace(config, schedule_iterations=0)
        self.shell.worker.pause()
        self.s.set_busy("Building the model…")

        def built(trainer, error) -> None:
            self.s.set_busy("")
            if error is not None:
                self.shell.refuse("Cannot build the model", error, "kept the current model")
                self.views.hyperparams.set_config(self.s.config)
                return
            self.flows.adopt(trainer, summary, checkpoint_path=None, saved_iteration=0)
            cfg = trainer.config
            if picked:  # what was picked, as a new list's recipe is told (controllers/files.py)
                self.views.hyperparams.show_recipe(cfg)
                self.shell.log.note(f"Model: {quality.describe(corpus, cfg.time_budget)}. "
                                    "Change any model setting to shape it yourself")
            self.shell.note(f"{note} ({cfg.preset}, {cfg.hidden} hidden units)")

        self.shell.tasks.run(lambda: Trainer(corpus, config), built)

    def on_model_settings(self) -> None:
        if self.s.trainer is None or self.s.busy:
            return
        current = self.s.config
        wanted = self.views.hyperparams.config(base=current)
        picked = wanted.preset == "quality" != current.preset and \
            self.views.hyperparams.follows_recipe()
        if picked:  # into the quality preset, the model unshaped: its picks for the budget
            wanted = quality.apply(wanted, self.s.trainer.corpus)
        kept_live = replace(wanted, **{k: getattr(current, k) for k in LIVE_FIELDS})
        if kept_live == current:
            return
        changed = [k for k, v in wanted.to_dict().items()
                   if k not in LIVE_FIELDS and v != getattr(current, k)]
        what = f"Changing {plain_settings(changed)} needs a fresh model."
        if not self.s.may_discard_silently():  # unsaved progress: Save (the default) first
            ok = self.flows.may_discard("start the new model", why=what + "\n\n")
        elif self.s.iteration > 0:  # all of it is in a file: nothing is lost
            ok = self.shell.dialogs.confirm(
                "New model needed",
                f"{what} Start one (the trained model stays in "
                f"{self.s.checkpoint_path.name if self.s.checkpoint_path else 'its file'})?",
                yes="Start New Model", no="Keep Model")
        else:
            ok = True
        if not ok:
            self.views.hyperparams.set_config(self.s.config)
            return
        self._rebuild(wanted, f"New model after changing {plain_settings(changed)}", picked)
        self.save_hyperparameters()

    def on_live_settings(self, changes: dict) -> None:
        self.save_hyperparameters()
        if self.s.trainer is None:
            return
        try:  # e.g. a cosine schedule without a number of iterations to end at
            replace(self.s.config, **changes)
        except ValueError as e:
            self.views.hyperparams.show_problem(f"{str(e)[:1].upper()}{str(e)[1:]}: kept the "
                                                "settings as they were.")
            self.views.hyperparams.set_config(self.s.config)
            return
        trace = live_change_text(self.s.config, changes)  # lr and clip changes leave a trace
        if "time_budget" in changes:
            self.views.status.set_time_budget(changes["time_budget"])
        self.s.live_changed(changes)
        if not self.s.training:  # the status bar's rate: the next step's, under the new settings
            self.views.status.set_rate(self.s.next_rate())
        self.shell.worker.ask(lambda t: apply_live(t, changes),
                              lambda it, error: self._live_applied(trace, it, error))

    def _live_applied(self, trace: tuple[str, str] | None, iteration, error) -> None:
        """A learning-rate or clip change, in the log and on the loss plot."""
        if error is not None or trace is None or iteration == 0:
            self._answer_ignored(None, error)
            return
        self.shell.log.note(f"Changed the {trace[0]} from iteration {iteration:,}")
        self.views.loss_plot.mark(iteration, trace[1])

    def on_budget(self, budget: int | None) -> None:
        self._own_budget = None  # the user set it: it is theirs now
        self.save_hyperparameters()
        self.views.status.set_budget(budget)
        if self.s.training:
            self.shell.worker.set_until(budget)

    def save_hyperparameters(self) -> None:
        values = self.views.hyperparams.values()
        if self._own_budget is not None:
            values["budget"] = self._own_budget
        self.shell.settings.set_hyperparameters(values)

    # -- training ------------------------------------------------------------------
    def start(self) -> None:
        if self.s.trainer is None or self.s.training or self.s.busy:
            return
        budget = self.views.hyperparams.budget_value()
        if budget is not None and self.s.iteration >= budget:
            more = max(budget, 1000)  # as much again
            target = self.s.iteration + more
            if not self.shell.dialogs.confirm(
                    "Iteration budget reached",
                    f"The model has reached the budget of {budget:,} iterations. "
                    f"Train on to {target:,}?", yes=f"Train to {target:,}", no="Cancel"):
                return
            if self._own_budget is None:  # the user's budget, for the next model
                self._own_budget = budget
            self.views.hyperparams.set_budget(target)  # this model's only: not remembered
            self.views.status.set_budget(target)
            budget = target
        self._begin(until=budget)

    def step(self) -> None:
        if self.s.trainer is None or self.s.training or self.s.busy:
            return
        self._begin(steps=1)

    def _begin(self, until: int | None = None, steps: int | None = None) -> None:
        self.flows.runs.begin()  # before the first step: a fresh model starts a run record
        self.s.began()
        self.views.status.forget_speed()
        self.shell.worker.start(until=until, steps=steps)
        self.views.status.set_state("Training" if steps is None else "Stepping")
        self.views.status.set_finished(None)
        if steps is None:
            self.shell.note(f"Training from iteration {self.s.iteration:,}"
                            + (f" to {until:,}" if until is not None else "")
                            + self._resume_warning() + self._schedule_warning())

    def _resume_warning(self) -> str:
        """Resuming past an early stop: say that the next quiet check stops it again."""
        cfg = self.s.config
        if self._early_stop is None or cfg is None or not cfg.patience:
            return ""
        cadence = f"every {cfg.val_every:,} iterations" if cfg.val_every else \
            f"{AUTO_VAL_CHECKS} per pass over the training names"  # val_every 0: by data seen
        return (f". It stopped early ({self._early_stop}): it stops again at the next "
                f"held-out check ({cadence}) unless that one is better; raise Quiet checks "
                "to train on longer")

    def _schedule_warning(self) -> str:
        """Resuming past the schedule's end (a loaded run, or "Train on to ..."): rate 0."""
        cfg = self.s.config
        ended = None if cfg is None else schedule.ended(cfg, self.s.iteration)
        if ended is None:
            return ""
        return (f". Warning: {ended}: choose the constant Schedule, or type a new Iterations "
                f"budget for a new {cfg.lr_schedule} schedule to it")

    def pause(self) -> None:
        if self.s.training:
            self.shell.worker.pause()
            self.views.pause.setEnabled(False)
            self.views.status.set_state("Pausing…")

    def on_progress(self, batch: ProgressBatch) -> None:
        if batch.generation != self.s.generation or self.shell.closing:
            return
        if len(batch.iterations):
            v = self.views
            v.loss_plot.append(batch.iterations, batch.loss, batch.chars, batch.names,
                               batch.smooth, batch.smooth_char)
            v.status.add_batch(batch.wall, batch.iteration, batch.total_chars, batch.seconds,
                               float(batch.smooth[-1]), float(batch.smooth_char[-1]), batch.lr,
                               batch.budget_spent)
        if batch.reports:
            self.shell.log.add_reports(batch.reports)
        if batch.health:
            self.views.health.add(batch.health)
        self.flows.sampling.progress(batch)
        self.flows.runs.progress(batch)
        if batch.wall - self._status_shown >= STATUS_REFRESH:
            self._status_shown = batch.wall
            self.views.status.refresh()
        self.s.progressed(batch.iteration, batch.total_chars)  # announced if now modified

    def on_stopped(self, stopped: Stopped) -> None:
        if stopped.generation != self.s.generation or self.shell.closing:
            return
        self.s.stopped(stopped.iteration, stopped.config)  # the title and actions follow
        self.views.status.iteration = stopped.iteration
        self.views.status.forget_speed()  # no stale speed or ETA after a pause
        again = "again " if stopped.reason == "patience" and self._early_stop else ""
        if stopped.reason == "patience":
            self._early_stop = stopped.message
        elif stopped.reason != "paused" and stopped.reason != "step":
            self._early_stop = None
        text = {"paused": f"Paused at iteration {stopped.iteration:,}",
                "budget": f"Reached the budget: {stopped.iteration:,} iterations",
                "seconds": f"Reached the time budget ({self.s.config.time_budget:g} s of "
                           f"training) at iteration {stopped.iteration:,}: raise Budget to "
                           "train on",
                "step": f"Stepped to iteration {stopped.iteration:,}",
                "fitted": "Fitted the count model: counted the training names"
                          + ("" if self.s.trainer.state.best_val is None else
                             ", discounts tuned on the held-out names (held-out loss "
                             f"{self.s.trainer.state.best_val:.4f})"),
                "patience": f"Stopped {again}at iteration {stopped.iteration:,}: "
                            f"{stopped.message}. Sample From the best, or raise Quiet checks "
                            "and Resume",
                "diverged": f"Training stopped at iteration {stopped.iteration:,}: "
                            "the loss diverged",
                "blowup": f"Paused at iteration {stopped.iteration:,}: {stopped.message}",
                "failed": f"Training stopped at iteration {stopped.iteration:,}: "
                          f"{stopped.message}"}[stopped.reason]
        # the count the log gives ("for 6 checks" when a Resume added one), not the setting
        short = stopped.message.split(" (")[0]
        # short words beside the labels a 1024-pixel bar must keep whole (the rate, the
        # time): the reason in full is the tooltip's, and the log's
        self.views.status.set_state({"diverged": "Diverged", "failed": "Stopped by an error",
                                     "blowup": "Paused: the loss blew up",
                                     "fitted": "Fitted",
                                     "seconds": "Finished: time budget spent",
                                     "patience": "Stopped early"}.get(
            stopped.reason, self.s.idle_state()),
            f"Stopped: {short}" if stopped.reason == "patience" else None)
        if stopped.reason == "patience":
            self.views.status.set_finished("Finished early: no held-out gain",
                                           f"Stopped early at iteration {stopped.iteration:,}: "
                                           f"{stopped.message}")
        self.views.status.refresh()
        self.views.loss_plot.redraw()
        self.views.health.redraw()
        self.flows.runs.stopped()
        self.flows.follower.follow()
        self.flows.sampling.trained_to(stopped.iteration)
        if stopped.reason != "step":
            self.shell.note(text)
        if stopped.reason == "failed":
            self.shell.dialogs.error(
                "Training stopped",
                f"A training step failed at iteration {stopped.iteration:,}:\n{stopped.message}"
                "\n\nThe model keeps the weights of the last step that finished; save it, "
                "or reset it.")
        if stopped.reason == "diverged":
            self.shell.dialogs.error(
                "Training stopped",
                f"{stopped.message[:1].upper()}{stopped.message[1:]}.\n\n"
                "Lower the learning rate (or the gradient clip) and press Resume, or "
                "reset the model.")

        if stopped.reason == "blowup":
            self._offer_going_back(stopped)

    # -- a blow-up: back to the good weights, or on ----------------------------------
    def _offer_going_back(self, stopped: Stopped) -> None:
        """Paused at a blow-up: go back to the weights before it, keep training, or stay."""
        blowup = stopped.blowup
        what = f"{stopped.message[:1].upper()}{stopped.message[1:]}."
        if blowup.good is None:
            self.shell.dialogs.error("The loss blew up", f"{what}\n\nTraining is paused; no "
                                     "earlier weights were kept to go back to.")
            return
        at = blowup.good.iteration
        choice = self.shell.dialogs.choose(
            "The loss blew up",
            f"{what}\n\nTraining is paused. Go back to the weights from iteration {at:,}: "
            "the model, its loss curve and its iteration return to that point. From there "
            "the same settings take the same steps again: lower the learning rate before "
            "you resume. Or keep training these weights (no second warning).",
            [f"Go Back to Iteration {at:,}", "Keep Training"])
        if choice == 0:
            self.go_back(blowup)
        elif choice == 1:
            self.start()

    def go_back(self, blowup) -> None:
        """The trainer at the blow-up's good point, built between steps, shown in its place."""
        if self.s.trainer is None or self.s.busy or self.s.training:
            return
        good, summary = blowup.good, self.s.summary
        path, saved = self.s.checkpoint_path, self.s.saved_iteration
        self.s.set_busy("Going back…")

        def back(trainer, error) -> None:
            self.s.set_busy("")
            if error is not None:
                self.shell.refuse("Cannot go back", error, "kept the current weights")
                return
            self.flows.adopt(trainer, summary, checkpoint_path=path, saved_iteration=saved)
            self.shell.note(f"Went back to the weights from iteration {good.iteration:,}, "
                            f"before the loss blew up at {blowup.iteration:,}")

        self.shell.worker.ask(lambda now: good.trainer(now), back)

    def _answer_ignored(self, _result, error) -> None:
        if error is not None:
            self.shell.note(f"Could not apply the setting: {error}")

