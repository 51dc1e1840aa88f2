"""Steering the worker: start, pause, one step, reset, the settings panel's changes; and
what the worker reports while it trains, drawn into the views."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from dinogui.core import quality, schedule
from dinogui.core.trainer import LIVE_FIELDS, TrainConfig, Trainer
from dinogui.messages import ProgressBatch, Stopped
from dinogui.widgets.hyperparams import apply_live, live_change_text, plain_settings

if TYPE_CHECKING:
    from dinogui.main_window import MainWindow

STATUS_REFRESH = 0.25  # seconds between status bar refreshes while training


class TrainingController(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.w = window
        self.s = window.session
        self._status_shown = 0.0  # when the status bar was last refreshed
        self._own_budget: int | None = None  # the budget before "Train on to ..." raised it
        self._early_stop: str | None = None  # why the model last stopped early (patience)

    def model_changed(self) -> None:
        """Another model: a budget raised to train the last one on goes back to the user's."""
        self._early_stop = None
        if self._own_budget is not None:
            self.w.hyperparams.set_budget(self._own_budget)
            self.w.status.set_budget(self._own_budget)
            self._own_budget = None

    # -- models: reset and settings ------------------------------------------------
    def reset_model(self) -> None:
        if self.s.trainer is None or self.s.busy:
            return
        if not self.w.may_discard("reset the model"):
            return
        # the model's own settings, every one of them, not the panel's (which shows only some)
        self._rebuild(self.s.config, "Reset: fresh weights")

    def _rebuild(self, config: TrainConfig, note: str, picked: bool = False) -> None:
        """A fresh model on the current names, built in the background (picked: its model is
        the quality preset's picks, which the panel then follows)."""
        # the corpus is never modified: safe to share
        corpus, summary = self.s.trainer.corpus, self.s.summary
        self.w.worker.pause()
        self.w.set_busy("Building the model…")

        def built(trainer, error) -> None:
            self.w.set_busy("")
            if error is not None:
                self.w.refuse("Cannot build the model", error, "kept the current model")
                self.w.hyperparams.set_config(self.s.config)
                return
            self.w.adopt(trainer, summary, checkpoint_path=None, saved_iteration=0)
            if picked:
                self.w.hyperparams.show_recipe(trainer.config)
            self.w.note(f"{note} ({trainer.config.preset}, {trainer.config.hidden} hidden units)")

        self.w.tasks.run(lambda: Trainer(corpus, config), built)

    def on_model_settings(self) -> None:
        if self.s.trainer is None or self.s.busy:
            return
        current = self.s.config
        wanted = self.w.hyperparams.config(base=current)
        picked = wanted.preset == "quality" != current.preset and \
            self.w.hyperparams.follows_recipe()
        if picked:  # into the quality preset, the model unshaped: its picks for the budget
            wanted = quality.apply(wanted, self.s.trainer.corpus)
        kept_live = replace(wanted, **{k: getattr(current, k) for k in LIVE_FIELDS})
        if kept_live == current:
            return
        changed = [k for k, v in wanted.to_dict().items()
                   if k not in LIVE_FIELDS and v != getattr(current, k)]
        what = f"Changing {plain_settings(changed)} needs a fresh model."
        if not self.s.may_discard_silently():  # unsaved progress: Save (the default) first
            ok = self.w.may_discard("start the new model", why=what + "\n\n")
        elif self.s.iteration > 0:  # all of it is in a file: nothing is lost
            ok = self.w.dialogs.confirm(
                "New model needed",
                f"{what} Start one (the trained model stays in "
                f"{self.s.checkpoint_path.name if self.s.checkpoint_path else 'its file'})?",
                yes="Start New Model", no="Keep Model")
        else:
            ok = True
        if not ok:
            self.w.hyperparams.set_config(self.s.config)
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
            self.w.hyperparams.show_problem(f"{str(e)[:1].upper()}{str(e)[1:]}: kept the "
                                            "settings as they were.")
            self.w.hyperparams.set_config(self.s.config)
            return
        trace = live_change_text(self.s.config, changes)  # lr and clip changes leave a trace
        if "time_budget" in changes:
            self.w.status.set_time_budget(changes["time_budget"])
        self.s.live_changed(changes)
        if not self.s.training:  # the status bar's rate: the next step's, under the new settings
            self.w.status.set_rate(self.w.next_rate())
        self.w.worker.ask(lambda t: apply_live(t, changes),
                          lambda it, error: self._live_applied(trace, it, error))
        self.w.update_title()

    def _live_applied(self, trace: tuple[str, str] | None, iteration, error) -> None:
        """A learning-rate or clip change, in the log and on the loss plot."""
        if error is not None or trace is None or iteration == 0:
            self._answer_ignored(None, error)
            return
        self.w.log.note(f"Changed the {trace[0]} from iteration {iteration:,}")
        self.w.loss_plot.mark(iteration, trace[1])

    def on_budget(self, budget: int | None) -> None:
        self._own_budget = None  # the user set it: it is theirs now
        self.save_hyperparameters()
        self.w.status.set_budget(budget)
        if self.s.training:
            self.w.worker.set_until(budget)

    def save_hyperparameters(self) -> None:
        values = self.w.hyperparams.values()
        if self._own_budget is not None:
            values["budget"] = self._own_budget
        self.w.settings.set_hyperparameters(values)

    # -- training ------------------------------------------------------------------
    def start(self) -> None:
        if self.w.trainer is None or self.w.training or self.w.busy:
            return
        budget = self.w.hyperparams.budget_value()
        if budget is not None and self.w.iteration >= budget:
            more = max(budget, 1000)  # as much again
            target = self.w.iteration + more
            if not self.w.dialogs.confirm(
                    "Iteration budget reached",
                    f"The model has reached the budget of {budget:,} iterations. "
                    f"Train on to {target:,}?", yes=f"Train to {target:,}", no="Cancel"):
                return
            if self._own_budget is None:  # the user's budget, for the next model
                self._own_budget = budget
            self.w.hyperparams.set_budget(target)  # this model's only: not remembered
            self.w.status.set_budget(target)
            budget = target
        self._begin(until=budget)

    def step(self) -> None:
        if self.w.trainer is None or self.w.training or self.w.busy:
            return
        self._begin(steps=1)

    def _begin(self, until: int | None = None, steps: int | None = None) -> None:
        self.w.runs.begin()  # before the first step: a fresh model starts a run record
        self.s.training = True
        self.w.status.forget_speed()
        self.w.worker.start(until=until, steps=steps)
        self.w.status.set_state("Training" if steps is None else "Stepping")
        self.w.status.set_finished(None)
        if steps is None:
            self.w.note(f"Training from iteration {self.w.iteration:,}"
                        + (f" to {until:,}" if until is not None else "")
                        + self._resume_warning() + self._schedule_warning())
        self.w.update_actions()

    def _resume_warning(self) -> str:
        """Resuming past an early stop: say that the next quiet check stops it again."""
        cfg = self.s.config
        if self._early_stop is None or cfg is None or not cfg.patience:
            return ""
        return (f". It stopped early ({self._early_stop}): it stops again at the next "
                f"held-out check (every {cfg.val_every:,} iterations) unless that one is "
                "better; raise Quiet checks to train on longer")

    def _schedule_warning(self) -> str:
        """Resuming past the schedule's end (a loaded run, or "Train on to ..."): rate 0."""
        cfg = self.s.config
        ended = None if cfg is None else schedule.ended(cfg, self.w.iteration)
        if ended is None:
            return ""
        return (f". Warning: {ended}: choose the constant Schedule, or type a new Iterations "
                f"budget for a new {cfg.lr_schedule} schedule to it")

    def pause(self) -> None:
        if self.w.training:
            self.w.worker.pause()
            self.w.actions_.pause.setEnabled(False)
            self.w.status.set_state("Pausing…")

    def on_progress(self, batch: ProgressBatch) -> None:
        if batch.generation != self.w.generation or self.w.closing:
            return
        if len(batch.iterations):
            self.w.loss_plot.append(batch.iterations, batch.loss, batch.chars, batch.names,
                                  batch.smooth, batch.smooth_char)
            self.w.status.add_batch(batch.wall, batch.iteration, batch.total_chars, batch.seconds,
                                  float(batch.smooth[-1]), float(batch.smooth_char[-1]),
                                  batch.lr)
        if batch.reports:
            self.w.log.add_reports(batch.reports)
        if batch.health:
            self.w.health.add(batch.health)
        self.w.sampling.progress(batch)
        self.w.runs.progress(batch)
        if batch.wall - self._status_shown >= STATUS_REFRESH:
            self._status_shown = batch.wall
            self.w.status.refresh()
        if self.s.progressed(batch.iteration, batch.total_chars):
            self.w.update_title()

    def on_stopped(self, stopped: Stopped) -> None:
        if stopped.generation != self.w.generation or self.w.closing:
            return
        self.s.training = False
        self.s.progressed(stopped.iteration)
        self.w.status.iteration = stopped.iteration
        self.w.status.forget_speed()  # no stale speed or ETA after a pause
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
        self.w.status.set_state({"diverged": "Diverged", "failed": "Stopped by an error",
                                 "blowup": "Paused: the loss blew up",
                                 "fitted": "Fitted",
                                 "seconds": "Finished: time budget spent",
                                 "patience": f"Stopped: {short}"}.get(
            stopped.reason, self.s.idle_state()))
        if stopped.reason == "patience":
            self.w.status.set_finished("Finished early: no held-out gain",
                                       f"Stopped early at iteration {stopped.iteration:,}: "
                                       f"{stopped.message}")
        self.w.status.refresh()
        self.w.loss_plot.redraw()
        self.w.health.redraw()
        self.w.update_title()
        self.w.update_actions()
        self.w.runs.stopped()
        self.w.follower.follow()
        self.w.sampling.trained_to(stopped.iteration)
        if stopped.reason != "step":
            self.w.note(text)
        if stopped.reason == "failed":
            self.w.dialogs.error(
                "Training stopped",
                f"A training step failed at iteration {stopped.iteration:,}:\n{stopped.message}"
                "\n\nThe model keeps the weights of the last step that finished; save it, "
                "or reset it.")
        if stopped.reason == "diverged":
            self.w.dialogs.error(
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
            self.w.dialogs.error("The loss blew up", f"{what}\n\nTraining is paused; no "
                                 "earlier weights were kept to go back to.")
            return
        at = blowup.good.iteration
        choice = self.w.dialogs.choose(
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
        self.w.set_busy("Going back…")

        def back(trainer, error) -> None:
            self.w.set_busy("")
            if error is not None:
                self.w.refuse("Cannot go back", error, "kept the current weights")
                return
            self.w.adopt(trainer, summary, checkpoint_path=path, saved_iteration=saved)
            self.w.note(f"Went back to the weights from iteration {good.iteration:,}, "
                        f"before the loss blew up at {blowup.iteration:,}")

        self.w.worker.ask(lambda now: good.trainer(now), back)

    def _answer_ignored(self, _result, error) -> None:
        if error is not None:
            self.w.note(f"Could not apply the setting: {error}")

