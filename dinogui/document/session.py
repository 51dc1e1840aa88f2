"""The document the window shows: which model, on which names, from which file, and what of
it no file holds yet. Plain Python (no Qt), so its rules are tested without a window.

The trainer itself belongs to the worker's thread once attached; the session keeps a
reference only to read what never changes under training (its corpus) and to know that
there is a model at all. Everything else here is what the window was last told.

Whatever changes what the window shows of it (its title, the modified mark, which actions
are on, the busy state) is announced to the callbacks given to subscribe(), so the window
follows the document from one place instead of refreshing after each flow.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from dinogui.core import schedule
from dinogui.core.config import TrainConfig
from dinogui.core.history import COLUMNS
from dinogui.core.trainer import Trainer
from dinogui.document.corpus_summary import CorpusSummary

APP_NAME = "dinogui"


@dataclass
class Session:
    trainer: Trainer | None = None  # owned by the worker once attached
    config: TrainConfig | None = None  # the attached trainer's settings, as set here
    summary: CorpusSummary | None = None
    generation: int = 0  # the worker's number for the attached trainer
    iteration: int = 0  # as last reported
    total_chars: int = 0
    training: bool = False
    checkpoint_path: Path | None = None  # the file Save writes (None: Save asks)
    saved_iteration: int | None = 0  # what the last file written holds; None: no file does
    settings_changed: bool = False  # a live setting changed since the last save
    busy: str = ""  # what is loading, or "" when nothing is
    autosaved_iteration: int | None = None  # what the autosave file holds, if it is current
    _listeners: list[Callable[[], None]] = field(default_factory=list, repr=False,
                                                 compare=False)

    # -- who follows it --------------------------------------------------------------
    def subscribe(self, callback: Callable[[], None]) -> None:
        """callback() after every change to what the window shows of the document."""
        self._listeners.append(callback)

    def _changed(self) -> None:
        for callback in list(self._listeners):
            callback()

    # -- a model comes in ----------------------------------------------------------
    def adopt(self, trainer: Trainer, summary: CorpusSummary, generation: int,
              checkpoint_path: Path | None, saved_iteration: int | None) -> None:
        st = trainer.state
        self.trainer, self.config, self.summary = trainer, trainer.config, summary
        self.generation = generation
        self.iteration, self.total_chars = st.iteration, st.total_chars
        self.training = False
        self.checkpoint_path, self.saved_iteration = checkpoint_path, saved_iteration
        self.settings_changed = False
        self.autosaved_iteration = None
        self._changed()

    def progressed(self, iteration: int, total_chars: int | None = None) -> bool:
        """Training reported; True (and announced) when that changed whether the model is
        modified. Other reports change nothing shown here: none is announced, so a batch
        costs the window no refresh."""
        was = self.modified
        self.iteration = iteration
        if total_chars is not None:
            self.total_chars = total_chars
        if self.modified == was:
            return False
        self._changed()
        return True

    def began(self) -> None:
        """The worker was told to train (or to take one step)."""
        self.training = True
        self._changed()

    def stopped(self, iteration: int, config: TrainConfig | None = None) -> None:
        """The worker stopped at this iteration; `config`: the trainer's settings then. The
        one the trainer changes by itself is the schedule's length it sizes to a time budget:
        that is taken (the rest stays as set here: a live change may still be on its way)."""
        self.training = False
        self.iteration = iteration
        if config is not None and self.config is not None and config.time_budget > 0:
            self.config = replace(self.config, schedule_iterations=config.schedule_iterations)
        self._changed()

    def set_busy(self, text: str) -> None:
        """What is loading ("" when nothing is): the model is not to be touched meanwhile."""
        self.busy = text
        self._changed()

    def live_changed(self, changes: dict) -> None:
        if self.config is not None:
            self.config = replace(self.config, **changes)
            self.settings_changed = True
            self._changed()

    def saved(self, path: Path, iteration: int) -> None:
        self.checkpoint_path, self.saved_iteration = path, iteration
        self.settings_changed = False
        self.autosaved_iteration = None
        self._changed()

    # -- what no file holds --------------------------------------------------------
    @property
    def modified(self) -> bool:
        """True while the model has progress (or settings) that no file holds."""
        if self.trainer is None:
            return False
        if self.saved_iteration is None:
            return True
        return self.iteration != self.saved_iteration or (
            self.settings_changed and self.iteration > 0)

    @property
    def unsaved_iterations(self) -> int:
        """Iterations trained since the last save (all of them when no file holds the model)."""
        if self.trainer is None:
            return 0
        base = self.saved_iteration if self.saved_iteration is not None else 0
        return max(self.iteration - base, 0)

    def may_discard_silently(self) -> bool:
        """Nothing would be lost by replacing the model (no question needed)."""
        return not self.modified or self.iteration == 0

    # -- autosave bookkeeping --------------------------------------------------------
    def autosave_due(self) -> bool:
        """Unsaved progress the autosave file does not hold yet."""
        return self.modified and self.autosaved_iteration != self.iteration

    def autosaved(self, iteration: int) -> None:
        self.autosaved_iteration = iteration

    # -- what the window shows ---------------------------------------------------------
    @property
    def name(self) -> str:
        """The document's name: the checkpoint file once there is one, else the corpus."""
        if self.checkpoint_path is not None:
            return self.checkpoint_path.name
        if self.summary is not None:
            return self.summary.title
        return ""

    def title(self) -> str:
        """`name[*] — dinogui`, as desktop apps title a document; Qt shows the [*] as *
        while the model is modified."""
        if self.checkpoint_path is None and self.summary is None:
            return APP_NAME
        return f"{self.name}[*] — {APP_NAME}"

    def next_rate(self) -> float | None:
        """The learning rate the model's next step takes (None: no model, or a count model)."""
        if self.config is None or self.config.counts_only:
            return None
        return schedule.rate(self.config, self.iteration)

    def idle_state(self) -> str:
        if self.training:
            return "Training"
        if self.trainer is None:
            return "No model"
        return "Paused" if self.iteration > 0 else "Ready"


def check_for_views(trainer: Trainer) -> None:
    """Raise ValueError unless the window can show everything this trainer holds.

    Run before a loaded model replaces the current one, so a crafted file is refused
    whole instead of leaving the window half switched.
    """
    st = trainer.state
    if not isinstance(st.iteration, int) or st.iteration < 0:
        raise ValueError("its iteration count is not a whole number of zero or more")
    if len(trainer.history) > st.iteration:  # fewer when older steps were thinned out
        raise ValueError("its loss history does not match its iteration count")
    for name in COLUMNS:
        if not np.isfinite(trainer.history.column(name)).all():
            raise ValueError(f"its loss history ({name}) holds NaN or infinite values")
    if len(st.val_iterations) != len(st.val_losses):
        raise ValueError("its held-out curve has more iterations than losses (or fewer)")
    for i, loss in zip(st.val_iterations, st.val_losses, strict=True):
        if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < max(st.iteration, 1):
            raise ValueError(f"its held-out curve names iteration {i!r}, not one it trained")
        # inf is what validation records when the model diverged on the held-out names
        if isinstance(loss, bool) or not isinstance(loss, (int, float)) or math.isnan(loss) \
                or loss < 0:
            raise ValueError(f"its held-out curve holds {loss!r}, not a loss")
    for name in ("smooth", "smooth_char", "seconds"):
        value = getattr(st, name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not math.isfinite(value):
            raise ValueError(f"its {name.replace('_', ' ')} is {value!r}, not a finite number")
    if isinstance(st.total_chars, bool) or not isinstance(st.total_chars, int) \
            or st.total_chars < 0:
        raise ValueError("its character count is not a whole number of zero or more")
    if st.best_iteration is not None and (not isinstance(st.best_iteration, int)
                                          or not 0 <= st.best_iteration < st.iteration):
        raise ValueError("its best iteration is not one it trained")
