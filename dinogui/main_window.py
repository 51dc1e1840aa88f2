"""The main window: corpus and settings on the left, the live loss plot and the report log in
the middle, sampling on the right.

The window never runs a training step. A TrainingWorker in its own thread
owns the attached Trainer; the window steers it (start, pause, step), asks it
for things between steps (a snapshot to sample from, a checkpoint to write)
and draws what it reports. Reading files and drawing names run in a
background pool, so a 100,000-name corpus loads while the window stays live.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSize, Qt, QTimer, Slot
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QApplication,
    QMainWindow,
    QMenu,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from core import checkpoint
from core.corpus import bundled_corpus_path, load_corpus
from core.trainer import TrainConfig, Trainer
from core.transfer import continue_on
from dinogui import qt_guard
from dinogui.actions import make_actions
from dinogui.dialogs import CHECKPOINT_FILTER, CORPUS_FILTER, TEXT_FILTER, Dialogs
from dinogui.icon import app_icon
from dinogui.settings import AUTOSAVE_NAME, AppSettings, default_data_dir
from dinogui.tasks import TaskRunner
from dinogui.widgets.corpus_panel import CorpusPanel, CorpusSummary
from dinogui.widgets.hyperparams import LIVE_FIELDS, HyperparamsPanel
from dinogui.widgets.loss_plot import LossPlot
from dinogui.widgets.report_log import ReportLog
from dinogui.widgets.samples_panel import SamplesPanel
from dinogui.widgets.status import TrainingStatus
from dinogui.worker import Answer, ProgressBatch, Stopped, WorkerThread

AUTOSAVE_MS = 3 * 60 * 1000  # autosave every three minutes while there is unsaved progress
STATUS_REFRESH = 0.25  # seconds between status bar refreshes while training
CHECKPOINT_SUFFIX = ".npz"


class MainWindow(QMainWindow):
    def __init__(self, settings: AppSettings | None = None, dialogs: Dialogs | None = None,
                 data_dir: str | Path | None = None,
                 corpus: str | Path | None = None, load_corpus_now: bool = True) -> None:
        """settings, dialogs and data_dir are replaceable for tests; corpus overrides the
        remembered one (default: the last corpus, else the bundled dinosaurs)."""
        qt_guard.guard()
        super().__init__()
        self.settings = settings or AppSettings()
        self.dialogs = dialogs or Dialogs(self)
        self.data_dir = Path(data_dir) if data_dir is not None else default_data_dir()

        self.trainer: Trainer | None = None  # owned by the worker once attached
        self.config: TrainConfig | None = None  # the attached trainer's settings, as set here
        self.summary: CorpusSummary | None = None
        self.generation = 0
        self.iteration = 0
        self.total_chars = 0  # characters trained on, as last reported
        self.training = False
        self.checkpoint_path: Path | None = None
        self.saved_iteration: int | None = 0  # None: nothing of this model is in a file
        self.settings_changed = False
        self.busy = ""  # what is loading, or "" when nothing is
        self._closed = False

        self.worker_thread = WorkerThread()
        self.worker = self.worker_thread.worker
        self.worker.progress.connect(self._on_progress)
        self.worker.stopped.connect(self._on_stopped)
        self.worker.answered.connect(self._on_answer)
        self.worker_thread.start()
        self.tasks = TaskRunner(self)

        self.setWindowIcon(app_icon())
        self.setAcceptDrops(True)
        self.actions_ = make_actions(self)
        self._build_widgets()
        self._build_menus_and_toolbar()
        self._connect()
        self._restore_layout()
        self.hyperparams.set_values(self.settings.hyperparameters())
        self.status.set_budget(self.hyperparams.budget_value())
        self.samples.set_values(self.settings.sampling())

        self._autosave_timer = QTimer(self)
        self._autosave_timer.setInterval(AUTOSAVE_MS)
        self._autosave_timer.timeout.connect(self.autosave)
        self._autosave_timer.start()
        self._status_shown = 0.0  # when the status bar was last refreshed

        self._update_title()
        self._update_actions()
        if load_corpus_now:
            self._open_initial_corpus(corpus)

    # == building ===================================================================
    def _build_widgets(self) -> None:
        a = self.actions_
        self.corpus_panel = CorpusPanel()
        self.hyperparams = HyperparamsPanel()
        left = QWidget()
        column = QVBoxLayout(left)
        column.setContentsMargins(6, 6, 6, 6)
        column.addWidget(self.corpus_panel)
        column.addWidget(self.hyperparams)
        column.addStretch(1)
        self.left_scroll = QScrollArea()
        self.left_scroll.setWidget(left)
        self.left_scroll.setWidgetResizable(True)
        self.left_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.left_scroll.setMinimumWidth(250)
        self.left_scroll.setFrameShape(QScrollArea.Shape.NoFrame)

        self.loss_plot = LossPlot()
        self.log = ReportLog()
        # tabs, so later views (held-out curve, inspector, runs) sit beside these
        self.views = QTabWidget()
        self.views.setDocumentMode(True)
        self.views.addTab(self.loss_plot, "Loss")
        self.logs = QTabWidget()
        self.logs.setDocumentMode(True)
        self.logs.addTab(self.log, "Reports")
        self.center = QSplitter(Qt.Orientation.Vertical)
        self.center.addWidget(self.views)
        self.center.addWidget(self.logs)
        self.center.setStretchFactor(0, 3)
        self.center.setStretchFactor(1, 2)
        self.center.setChildrenCollapsible(False)

        a.copy_samples.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.samples = SamplesPanel(a.sample, a.copy_samples, a.export_samples)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(6, 6, 6, 6)
        right_layout.addWidget(self.samples)
        right.setMinimumWidth(250)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.left_scroll)
        self.splitter.addWidget(self.center)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setStretchFactor(2, 0)
        self.splitter.setChildrenCollapsible(False)
        self.setCentralWidget(self.splitter)
        self.status = TrainingStatus(self.statusBar())

    def _build_menus_and_toolbar(self) -> None:
        a = self.actions_
        bar = self.menuBar()
        file = bar.addMenu("&File")
        file.addActions([a.open_corpus, a.open_checkpoint])
        self.recent_menu = QMenu("Open &Recent", self)
        file.addMenu(self.recent_menu)
        file.addSeparator()
        file.addActions([a.save, a.save_as, a.export_samples])
        file.addSeparator()
        file.addAction(a.quit)
        train = bar.addMenu("&Training")
        train.addActions([a.start, a.pause, a.step])
        train.addSeparator()
        train.addAction(a.reset)
        samples = bar.addMenu("S&amples")
        samples.addActions([a.sample, a.copy_samples, a.export_samples])
        view = bar.addMenu("&View")
        view.addActions([a.per_name, a.per_char])
        view.addSeparator()
        view.addAction(a.fit_plot)
        help_ = bar.addMenu("&Help")
        help_.addActions([a.about, a.about_qt])
        self._fill_recent_menu()

        tools = QToolBar("Training")
        tools.setObjectName("main-toolbar")
        tools.setIconSize(QSize(20, 20))
        tools.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        tools.setMovable(False)
        tools.addActions([a.start, a.pause, a.step, a.reset])
        tools.addSeparator()
        tools.addActions([a.open_corpus, a.open_checkpoint, a.save])
        tools.addSeparator()
        tools.addAction(a.sample)
        self.addToolBar(tools)
        self.toolbar = tools

    def _connect(self) -> None:
        a = self.actions_
        a.start.triggered.connect(self.start)
        a.pause.triggered.connect(self.pause)
        a.step.triggered.connect(self.step)
        a.reset.triggered.connect(self.reset_model)
        a.open_corpus.triggered.connect(self.open_corpus)
        a.open_checkpoint.triggered.connect(self.open_checkpoint)
        a.save.triggered.connect(self.save)
        a.save_as.triggered.connect(self.save_as)
        a.export_samples.triggered.connect(self.export_samples)
        a.quit.triggered.connect(self.close)
        a.sample.triggered.connect(self.sample)
        a.copy_samples.triggered.connect(self.copy_samples)
        a.per_name.triggered.connect(lambda: self.loss_plot.set_scale("name"))
        a.per_char.triggered.connect(lambda: self.loss_plot.set_scale("char"))
        a.fit_plot.triggered.connect(self.loss_plot.auto_range)
        a.clear_recent.triggered.connect(self._clear_recent)
        a.about.triggered.connect(self.about)
        a.about_qt.triggered.connect(QApplication.aboutQt)
        self.loss_plot.scale_changed.connect(self._on_scale)
        self.hyperparams.model_changed.connect(self._on_model_settings)
        self.hyperparams.live_changed.connect(self._on_live_settings)
        self.hyperparams.budget_changed.connect(self._on_budget)
        self._on_scale(self.loss_plot.scale)

    def _restore_layout(self) -> None:
        geometry = self.settings.blob("geometry")
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(1360, 840)
        for key, widget in (("state", self), ("splitter", self.splitter),
                            ("center", self.center)):
            blob = self.settings.blob(key)
            if blob is not None:
                widget.restoreState(blob)
        if self.settings.blob("splitter") is None:
            self.splitter.setSizes([300, 760, 300])
            self.center.setSizes([520, 240])

    def _save_layout(self) -> None:
        s = self.settings
        s.set_blob("geometry", self.saveGeometry())
        s.set_blob("state", self.saveState())
        s.set_blob("splitter", self.splitter.saveState())
        s.set_blob("center", self.center.saveState())
        s.set_hyperparameters(self.hyperparams.values())
        s.set_sampling(self.samples.values())
        s.sync()

    # == state shown ==================================================================
    @property
    def modified(self) -> bool:
        """True while the model has progress (or settings) that no file holds."""
        if self.trainer is None:
            return False
        if self.saved_iteration is None:
            return True
        return self.iteration != self.saved_iteration or (
            self.settings_changed and self.iteration > 0)

    def _update_title(self) -> None:
        name = self.summary.title if self.summary is not None else "no corpus"
        self.setWindowTitle(f"dinogui - {name}[*]")
        self.setWindowModified(self.modified)

    def _update_actions(self) -> None:
        a = self.actions_
        model, idle, free = self.trainer is not None, not self.training, not self.busy
        a.start.setEnabled(model and idle and free)
        a.start.setText("&Resume" if self.iteration > 0 else "&Start")
        a.pause.setEnabled(self.training)
        a.step.setEnabled(model and idle and free)
        a.reset.setEnabled(model and free and self.iteration > 0)
        a.open_corpus.setEnabled(free)
        a.open_checkpoint.setEnabled(free)
        self.recent_menu.setEnabled(free)
        a.save.setEnabled(model and free)
        a.save_as.setEnabled(model and free)
        a.sample.setEnabled(model and free)
        has_names = bool(self.samples.names())
        a.export_samples.setEnabled(has_names)
        a.copy_samples.setEnabled(has_names)
        self.hyperparams.setEnabled(free)

    def _set_busy(self, text: str) -> None:
        self.busy = text
        if text:
            self.status.set_state(text)
            QApplication.setOverrideCursor(Qt.CursorShape.BusyCursor)
        else:
            QApplication.restoreOverrideCursor()
            self.status.set_state(self._idle_state())
        self._update_actions()

    def _idle_state(self) -> str:
        if self.training:
            return "Training"
        if self.trainer is None:
            return "No model"
        return "Paused" if self.iteration > 0 else "Ready"

    def _note(self, text: str) -> None:
        self.log.note(text)
        self.statusBar().showMessage(text, 5000)

    # == loading ======================================================================
    def _open_initial_corpus(self, corpus: str | Path | None) -> None:
        candidates = [corpus] if corpus is not None else [self.settings.last_corpus(),
                                                          bundled_corpus_path()]
        for path in candidates:
            if path is not None and Path(path).is_file():
                self.open_corpus_path(path, ask=False)
                return
        self._note("No corpus yet: open a text file with one name per line (File > Open Corpus)")

    def open_corpus(self) -> None:
        path = self.dialogs.open_path("Open Corpus", self.settings.last_folder(), CORPUS_FILTER)
        if path:
            self.open_corpus_path(path)

    def open_corpus_path(self, path: str | Path, ask: bool = True) -> None:
        """Load a name list: a fresh model on it, or (when asked) the current model goes on."""
        if self.busy or self._closed:
            return
        path = Path(path)
        carry_on = False
        if ask and self.trainer is not None and self.iteration > 0:
            choice = self.dialogs.choose(
                "Open Corpus",
                f"The current model has trained {self.iteration:,} iterations on "
                f"{self.summary.title if self.summary else 'its names'}.\n\n"
                f"Train this model on {path.name} (its vocabulary must cover the new names), "
                "or start a new model on it?",
                ["Train This Model on It", "Start a New Model"])
            if choice is None:
                return
            carry_on = choice == 0
            if not carry_on and not self._may_discard("start a new model"):
                return
        config = None if carry_on else self.hyperparams.config()
        self._set_busy(f"Loading {path.name}…")

        def load():
            corpus = load_corpus(path)
            summary = CorpusSummary.of(corpus)
            return corpus, summary, (None if config is None else Trainer(corpus, config))

        def loaded(result, error) -> None:
            if error is not None:
                self._set_busy("")
                self._refuse("Cannot open corpus", error, "kept the current corpus")
                return
            corpus, summary, trainer = result
            if trainer is not None:
                self._set_busy("")
                self._adopt(trainer, summary, checkpoint_path=None, saved_iteration=0)
                self._remember_corpus(path)
                self._note(f"Loaded {summary.title}: {summary.stats.names:,} names; a new "
                           f"{trainer.config.preset} model")
                return
            self.worker.pause()
            self.worker.ask(lambda t: continue_on(t, corpus),
                            lambda moved, err: self._continued(moved, err, summary, path))

        self.tasks.run(load, loaded)

    def _continued(self, trainer, error, summary: CorpusSummary, path: Path) -> None:
        self._set_busy("")
        if error is not None:
            self._refuse(f"Cannot train this model on {path.name}", error,
                         "kept the current corpus and model. Start a new model to train on "
                         "these names, or open a corpus that uses only the model's characters")
            return
        self._adopt(trainer, summary, checkpoint_path=None, saved_iteration=None)
        self._remember_corpus(path)
        self._note(f"The model goes on with {summary.title} from iteration {trainer.iteration:,}")

    def open_checkpoint(self) -> None:
        path = self.dialogs.open_path("Open Checkpoint", self.settings.last_folder(),
                                      CHECKPOINT_FILTER)
        if path:
            self.open_checkpoint_path(path)

    def open_checkpoint_path(self, path: str | Path, autosave: bool = False) -> None:
        """Load a saved model with its corpus, settings, loss curve and iteration."""
        if self.busy or self._closed:
            return
        path = Path(path)
        if not autosave and not self._may_discard("open another model"):
            return
        self._set_busy(f"Loading {path.name}…")

        def load():
            trainer = checkpoint.load(path)
            return trainer, CorpusSummary.of(trainer.corpus)

        def loaded(result, error) -> None:
            self._set_busy("")
            if error is not None:
                self._refuse("Cannot open checkpoint", error, "kept the current model")
                return
            trainer, summary = result
            if autosave:
                source = self.settings.autosave_source()
                self._adopt(trainer, summary, Path(source) if source else None, None)
                self._note(f"Restored the autosaved model at iteration {trainer.iteration:,}")
            else:
                self._adopt(trainer, summary, path, trainer.iteration)
                self.settings.add_recent(path)
                self.settings.set_last_folder(path)
                self._fill_recent_menu()
                self._note(f"Opened {path.name}: {summary.title}, iteration "
                           f"{trainer.iteration:,}, {trainer.config.preset} preset")

        self.tasks.run(load, loaded)

    def _adopt(self, trainer: Trainer, summary: CorpusSummary, checkpoint_path: Path | None,
               saved_iteration: int | None) -> None:
        """Show a new trainer (not yet stepped by anyone) and hand it to the worker."""
        old_preset = self.config.preset if self.config is not None else None
        st = trainer.state
        self.loss_plot.set_preset(trainer.config.preset,
                                  None if old_preset != trainer.config.preset
                                  else self.loss_plot.scale)
        self.loss_plot.load_history(trainer.history)
        self.status.reset(st.iteration, st.seconds, st.smooth, st.smooth_char)
        self.generation = self.worker.attach(trainer)
        self.trainer, self.config, self.summary = trainer, trainer.config, summary
        self.iteration, self.total_chars = st.iteration, st.total_chars
        self.training = False
        self.checkpoint_path, self.saved_iteration = checkpoint_path, saved_iteration
        self.settings_changed = False
        self.corpus_panel.show_summary(summary)
        self.hyperparams.set_config(trainer.config)
        self.status.set_state(self._idle_state())
        self._update_title()
        self._update_actions()

    def _refuse(self, title: str, error: BaseException, kept: str) -> None:
        reason = str(error) if not isinstance(error, OSError) else (
            f"{error.filename or ''}: {error.strerror or error}")
        self.dialogs.error(title, f"{reason}\n\ndinogui {kept}.")
        self._note(f"{title}: {reason}")

    def _may_discard(self, doing: str) -> bool:
        if not self.modified or self.iteration == 0:
            return True
        return self.dialogs.confirm(
            "Unsaved training",
            f"The model has {self.iteration:,} iterations of training that are not saved. "
            f"Discard them and {doing}?", yes="Discard", no="Cancel")

    def _remember_corpus(self, path: Path) -> None:
        self.settings.set_last_corpus(str(path.resolve()))
        self.settings.set_last_folder(path)
        self.settings.add_recent(path)
        self._fill_recent_menu()

    def _fill_recent_menu(self) -> None:
        menu = self.recent_menu
        menu.clear()
        recent = self.settings.recent_files()
        for path in recent:
            action = menu.addAction(Path(path).name)
            action.setToolTip(path)
            action.setStatusTip(path)
            action.triggered.connect(lambda _=False, p=path: self._open_recent(p))
        if recent:
            menu.addSeparator()
        menu.addAction(self.actions_.clear_recent)
        self.actions_.clear_recent.setEnabled(bool(recent))

    def _open_recent(self, path: str) -> None:
        if not Path(path).is_file():
            self.dialogs.error("Open Recent", f"{path}: no such file (removed from the list)")
            self.settings.remove_recent(path)
            self._fill_recent_menu()
        elif path.endswith(CHECKPOINT_SUFFIX):
            self.open_checkpoint_path(path)
        else:
            self.open_corpus_path(path)

    def _clear_recent(self) -> None:
        self.settings.clear_recent()
        self._fill_recent_menu()

    # == models: reset and settings ===================================================
    def reset_model(self) -> None:
        if self.trainer is None or self.busy:
            return
        if not self._may_discard("reset the model"):
            return
        self._rebuild(self.hyperparams.config(), "Reset: fresh weights")

    def _rebuild(self, config: TrainConfig, note: str) -> None:
        """A fresh model on the current names, built in the background."""
        corpus, summary = self.trainer.corpus, self.summary  # the corpus is never modified
        self.worker.pause()
        self._set_busy("Building the model…")

        def built(trainer, error) -> None:
            self._set_busy("")
            if error is not None:
                self._refuse("Cannot build the model", error, "kept the current model")
                self.hyperparams.set_config(self.config)
                return
            self._adopt(trainer, summary, checkpoint_path=None, saved_iteration=0)
            self._note(f"{note} ({trainer.config.preset}, {trainer.config.hidden} hidden units)")

        self.tasks.run(lambda: Trainer(corpus, config), built)

    def _on_model_settings(self) -> None:
        if self.trainer is None or self.busy:
            return
        wanted = self.hyperparams.config()
        current = self.config
        kept_live = replace(wanted, **{k: getattr(current, k) for k in LIVE_FIELDS})
        if kept_live == current:
            return
        changed = [k for k, v in wanted.to_dict().items()
                   if k not in LIVE_FIELDS and v != getattr(current, k)]
        if self.iteration > 0:
            ok = self.dialogs.confirm(
                "New model needed",
                f"Changing {', '.join(c.replace('_', ' ') for c in changed)} needs a fresh "
                f"model. Reset the model and discard its {self.iteration:,} iterations"
                + (" (unsaved)" if self.modified else "") + "?",
                yes="Reset Model", no="Keep Model")
            if not ok:
                self.hyperparams.set_config(self.config)
                return
        self._rebuild(wanted, f"New model for the changed {', '.join(changed)}")
        self._save_hyperparameters()

    def _on_live_settings(self, changes: dict) -> None:
        self._save_hyperparameters()
        if self.trainer is None:
            return
        self.config = replace(self.config, **changes)
        self.settings_changed = True
        self.worker.ask(lambda t: t.set_live(**changes), self._answer_ignored)
        self._update_title()

    def _on_budget(self, budget: int | None) -> None:
        self._save_hyperparameters()
        self.status.set_budget(budget)
        if self.training:
            self.worker.set_until(budget)

    def _save_hyperparameters(self) -> None:
        self.settings.set_hyperparameters(self.hyperparams.values())

    def _on_scale(self, scale: str) -> None:
        (self.actions_.per_name if scale == "name" else self.actions_.per_char).setChecked(True)
        self.status.scale = scale
        self.status.refresh()

    # == training =====================================================================
    def start(self) -> None:
        if self.trainer is None or self.training or self.busy:
            return
        budget = self.hyperparams.budget_value()
        if budget is not None and self.iteration >= budget:
            more = max(budget, 1000)  # as much again
            target = self.iteration + more
            if not self.dialogs.confirm(
                    "Iteration budget reached",
                    f"The model has reached the budget of {budget:,} iterations. "
                    f"Train on to {target:,}?", yes=f"Train to {target:,}", no="Cancel"):
                return
            self.hyperparams.set_budget(target)
            self.status.set_budget(target)
            self._save_hyperparameters()
            budget = target
        self._begin(until=budget)

    def step(self) -> None:
        if self.trainer is None or self.training or self.busy:
            return
        self._begin(steps=1)

    def _begin(self, until: int | None = None, steps: int | None = None) -> None:
        self.training = True
        self.status.forget_speed()
        self.worker.start(until=until, steps=steps)
        self.status.set_state("Training" if steps is None else "Stepping")
        if steps is None:
            self._note(f"Training from iteration {self.iteration:,}"
                       + (f" to {until:,}" if until is not None else ""))
        self._update_actions()

    def pause(self) -> None:
        if self.training:
            self.worker.pause()
            self.actions_.pause.setEnabled(False)
            self.status.set_state("Pausing…")

    @Slot(object)
    def _on_progress(self, batch: ProgressBatch) -> None:
        if batch.generation != self.generation or self._closed:
            return
        if len(batch.iterations):
            self.loss_plot.append(batch.iterations, batch.loss, batch.chars, batch.names,
                                  batch.smooth, batch.smooth_char)
            self.status.add_batch(batch.wall, batch.iteration, batch.total_chars, batch.seconds,
                                  float(batch.smooth[-1]), float(batch.smooth_char[-1]))
        if batch.reports:
            self.log.add_reports(batch.reports)
        if batch.wall - self._status_shown >= STATUS_REFRESH:
            self._status_shown = batch.wall
            self.status.refresh()
        was_modified = self.modified
        self.iteration, self.total_chars = batch.iteration, batch.total_chars
        if self.modified != was_modified:
            self._update_title()

    @Slot(object)
    def _on_stopped(self, stopped: Stopped) -> None:
        if stopped.generation != self.generation or self._closed:
            return
        self.training = False
        self.iteration = stopped.iteration
        self.status.iteration = stopped.iteration
        text = {"paused": f"Paused at iteration {stopped.iteration:,}",
                "budget": f"Reached the budget: {stopped.iteration:,} iterations",
                "step": f"Stepped to iteration {stopped.iteration:,}",
                "diverged": f"Training stopped at iteration {stopped.iteration:,}: "
                            "the loss diverged"}[stopped.reason]
        self.status.set_state(self._idle_state() if stopped.reason != "diverged"
                              else "Diverged")
        self.status.refresh()
        self.loss_plot.redraw()
        self._update_title()
        self._update_actions()
        if stopped.reason != "step":
            self._note(text)
        if stopped.reason == "diverged":
            self.dialogs.error(
                "Training stopped",
                f"{stopped.message[:1].upper()}{stopped.message[1:]}.\n\n"
                "Lower the learning rate (or the gradient clip) and press Resume, or "
                "reset the model.")

    @Slot(object)
    def _on_answer(self, answer: Answer) -> None:
        if not self._closed:
            answer.callback(answer.result, answer.error)

    def _answer_ignored(self, _result, error) -> None:
        if error is not None:
            self._note(f"Could not apply the setting: {error}")

    # == sampling =====================================================================
    def sample(self) -> None:
        if self.trainer is None or self.busy:
            return
        req = self.samples.request()
        known = self.summary.known if self.summary is not None else frozenset()

        def snapshot(t: Trainer):
            return t.sampler(copy_params=True), t.iteration

        def drawn(result, error) -> None:
            if error is not None:
                self._refuse("Cannot sample", error, "kept the list as it was")
                return
            names, iteration = result
            self.samples.show_names(names, known, f"seed {req.seed}, temperature "
                                    f"{req.temperature:g}, iteration {iteration:,}")
            self._update_actions()

        def snapped(result, error) -> None:
            if error is not None:
                drawn(None, error)
                return
            sampler, iteration = result
            self.tasks.run(lambda: (sampler.sample(req.count, req.seed, req.temperature,
                                                   req.max_len), iteration), drawn)

        self.worker.ask(snapshot, snapped)

    def copy_samples(self) -> None:
        n = self.samples.copy_to_clipboard()
        if n:
            self.statusBar().showMessage(f"Copied {n} name{'s' if n > 1 else ''}", 3000)

    def export_samples(self) -> None:
        names = self.samples.names()
        if not names:
            return
        title = self.summary.title if self.summary else "names"
        folder = Path(self.settings.last_folder())
        path = self.dialogs.save_path("Export Samples", str(folder / f"{title}-samples.txt"),
                                      TEXT_FILTER)
        if not path:
            return
        try:
            Path(path).write_text("\n".join(names) + "\n", encoding="utf-8")
        except OSError as e:
            self._refuse("Cannot export samples", e, "kept the names in the list")
            return
        self.settings.set_last_folder(path)
        self._note(f"Exported {len(names)} names to {path}")

    # == saving =======================================================================
    def save(self) -> None:
        if self.checkpoint_path is None:
            self.save_as()
        else:
            self.save_to(self.checkpoint_path)

    def save_as(self) -> None:
        if self.trainer is None:
            return
        folder = Path(self.settings.last_folder())
        suggested = self.checkpoint_path or folder / f"{self.summary.title}{CHECKPOINT_SUFFIX}"
        path = self.dialogs.save_path("Save Checkpoint", str(suggested), CHECKPOINT_FILTER)
        if path:
            if not Path(path).suffix:
                path += CHECKPOINT_SUFFIX
            self.save_to(Path(path))

    def save_to(self, path: Path) -> None:
        """Write the model between two steps (training goes on) and note the iteration saved."""
        if self.trainer is None:
            return

        def write(t: Trainer) -> int:
            checkpoint.save(t, path)
            return t.iteration

        def written(iteration, error) -> None:
            if error is not None:
                self._refuse("Cannot save checkpoint", error, "did not change the file")
                return
            self.checkpoint_path, self.saved_iteration = path, iteration
            self.settings_changed = False
            self.settings.add_recent(path)
            self.settings.set_last_folder(path)
            self._fill_recent_menu()
            self._discard_autosave()
            self._update_title()
            self._note(f"Saved {path.name} at iteration {iteration:,}")

        self.worker.ask(write, written)

    @property
    def autosave_path(self) -> Path:
        return self.data_dir / AUTOSAVE_NAME

    def autosave(self) -> None:
        """Write unsaved progress to the autosave file, between two steps."""
        if self.trainer is None or not self.modified or self._closed:
            return
        path = self.autosave_path
        self.settings.set_autosave_source(str(self.checkpoint_path or ""))

        def done(iteration, error) -> None:
            if error is None:
                self.statusBar().showMessage(f"Autosaved at iteration {iteration:,}", 3000)
            else:
                self._note(f"Autosave failed: {error}")

        self.worker.ask(lambda t: (checkpoint.save(t, path), t.iteration)[1], done)

    def _discard_autosave(self) -> None:
        self.autosave_path.unlink(missing_ok=True)

    def offer_restore(self) -> bool:
        """At launch: if the last session left unsaved training, offer to bring it back."""
        path = self.autosave_path
        if not path.is_file():
            return False
        info = _autosave_info(path)
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(path.stat().st_mtime))
        if self.dialogs.confirm(
                "Restore unsaved training?",
                f"dinogui closed with training that was not saved ({info}, autosaved {when}).\n\n"
                "Restore it?", yes="Restore", no="Discard"):
            self.open_checkpoint_path(path, autosave=True)
            return True
        path.replace(path.with_name("autosave-discarded.npz"))  # one last chance, by hand
        self._note("Discarded the autosaved training (kept as autosave-discarded.npz)")
        return False

    # == closing ======================================================================
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt's name)
        if self._closed:
            event.accept()
            return
        self._closed = True
        self._autosave_timer.stop()
        self.worker.pause()
        try:
            if self.trainer is not None and self.modified:
                self.settings.set_autosave_source(str(self.checkpoint_path or ""))
                self.worker.call(lambda t: checkpoint.save(t, self.autosave_path), timeout=60)
            else:
                self._discard_autosave()
        except Exception as e:  # closing must not fail; say what was lost
            print(f"dinogui: could not write the autosave: {e}")
        self.worker_thread.stop()
        self.tasks.cancel()
        self.tasks.wait()
        if self.busy:
            QApplication.restoreOverrideCursor()
        self._save_layout()
        event.accept()

    # == drag and drop, about =========================================================
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if not self.busy and _dropped_file(event) is not None:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        path = _dropped_file(event)
        if path is None:
            return
        event.acceptProposedAction()
        if path.suffix.lower() == CHECKPOINT_SUFFIX:
            self.open_checkpoint_path(path)
        else:
            self.open_corpus_path(path)

    def about(self) -> None:
        self.dialogs.about(
            "About dinogui",
            "<h3>dinogui</h3>"
            "<p>A desktop trainer for character-level name generators: a NumPy recurrent "
            "network learns a list of names live, and invents new ones.</p>"
            "<p>The <i>classic</i> preset is the Dinosaurus Island exercise exactly; the "
            "<i>default</i> preset trains mini-batches with Adam.</p>"
            "<p>F5 start · F6 pause · F10 one step · Ctrl+G sample</p>"
            "<p>MIT licence.</p>")


def _dropped_file(event) -> Path | None:
    mime = event.mimeData()
    if not mime.hasUrls():
        return None
    for url in mime.urls():
        if url.isLocalFile() and Path(url.toLocalFile()).is_file():
            return Path(url.toLocalFile())
    return None


def _autosave_info(path: Path) -> str:
    """'iteration 12,000 on dinosaurs' from the file's metadata, without loading the model."""
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(z["meta"].tobytes().decode("utf-8"))
        iteration = meta["state"]["iteration"]
        corpus = Path(meta["corpus"]["source"]).stem
        return f"iteration {iteration:,} on {corpus}"
    except Exception:  # a damaged file is reported when it is opened
        return "details unreadable"

