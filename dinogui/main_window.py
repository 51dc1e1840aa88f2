"""The main window: corpus and settings on the left, the live loss plot and the report log in
the middle, sampling on the right.

The window never runs a training step. A TrainingWorker in its own thread
owns the attached Trainer; the window steers it (start, pause, step), asks it
for things between steps (a snapshot to sample from, a checkpoint to write)
and draws what it reports. Reading files and drawing names run in a
background pool, so a 100,000-name corpus loads while the window stays live.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

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

from dinogui import favourites, qt_guard
from dinogui.actions import make_actions
from dinogui.core import checkpoint
from dinogui.core.corpus import bundled_corpus_path, load_corpus
from dinogui.core.runs import Run, RunStore
from dinogui.core.sampling import ConstraintError
from dinogui.core.trainer import TrainConfig, Trainer
from dinogui.core.transfer import continue_on
from dinogui.dialogs import CHECKPOINT_FILTER, CORPUS_FILTER, TEXT_FILTER, Dialogs
from dinogui.icon import app_icon
from dinogui.settings import AUTOSAVE_NAME, AppSettings, default_data_dir
from dinogui.tasks import TaskRunner
from dinogui.widgets.corpus_panel import CorpusPanel, CorpusSummary
from dinogui.widgets.hyperparams import (
    LIVE_FIELDS,
    HyperparamsPanel,
    apply_live,
    live_change_text,
    plain_settings,
)
from dinogui.widgets.inspector import InspectorView, ModelSnapshot
from dinogui.widgets.loss_plot import LossPlot
from dinogui.widgets.novelty_plot import NoveltyPlot
from dinogui.widgets.report_log import ReportLog
from dinogui.widgets.runs_view import RunsView
from dinogui.widgets.samples_panel import SamplesPanel
from dinogui.widgets.status import MessageBar, TrainingStatus
from dinogui.worker import Answer, ProgressBatch, Stopped, WorkerThread

AUTOSAVE_MS = 3 * 60 * 1000  # autosave every three minutes while there is unsaved progress
STATUS_REFRESH = 0.25  # seconds between status bar refreshes while training
INSPECTOR_FOLLOW_MS = 2000  # the Inspector takes new weights this often while training
RUN_SAVE_MS = 30_000  # the run being trained is written to the runs folder this often
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
        self._build_inspector()
        self._build_runs()
        self._build_sampling_views()
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
        self.left_scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # widgets: Tab goes to the fields

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
        self.setStatusBar(MessageBar())  # widgets: messages elide before the state labels
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
        samples = self.samples_menu = bar.addMenu("S&amples")
        samples.addActions([a.sample, a.copy_samples, a.export_samples])
        view = self.view_menu = bar.addMenu("&View")
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
            self.splitter.setSizes([280, 680, 400])
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
        self._favourites_update()
        self._inspector_update()

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
        self._runs_finish()  # the old model's run keeps its last steps
        old_preset = self.config.preset if self.config is not None else None
        st = trainer.state
        self.loss_plot.set_preset(trainer.config.preset,
                                  None if old_preset != trainer.config.preset
                                  else self.loss_plot.scale)
        self.loss_plot.load_history(trainer.history)
        self._adopt_sampling_views(trainer, summary)
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
                f"Changing {plain_settings(changed)} needs a fresh "  # widgets: plain words
                f"model. Reset the model and discard its {self.iteration:,} iterations"
                + (" (unsaved)" if self.modified else "") + "?",
                yes="Reset Model", no="Keep Model")
            if not ok:
                self.hyperparams.set_config(self.config)
                return
        self._rebuild(wanted, f"New model after changing {plain_settings(changed)}")  # widgets
        self._save_hyperparameters()

    def _on_live_settings(self, changes: dict) -> None:
        self._save_hyperparameters()
        if self.trainer is None:
            return
        trace = live_change_text(self.config, changes)  # widgets: lr/clip changes leave a trace
        self.config = replace(self.config, **changes)
        self.settings_changed = True
        self.worker.ask(lambda t: apply_live(t, changes),
                        lambda it, error: self._live_applied(trace, it, error))
        self._update_title()

    def _live_applied(self, trace: tuple[str, str] | None, iteration, error) -> None:
        """widgets: a learning-rate or clip change, in the log and on the loss plot."""
        if error is not None or trace is None or iteration == 0:
            self._answer_ignored(None, error)
            return
        self.log.note(f"Changed the {trace[0]} from iteration {iteration:,}")
        self.loss_plot.mark(iteration, trace[1])

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
        self._runs_begin()  # before the first step: a fresh model starts a run record
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
        self._sampling_views_progress(batch)
        self._runs_progress(batch)
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
        self.status.forget_speed()  # widgets: no stale speed or ETA after a pause
        text = {"paused": f"Paused at iteration {stopped.iteration:,}",
                "budget": f"Reached the budget: {stopped.iteration:,} iterations",
                "step": f"Stepped to iteration {stopped.iteration:,}",
                "diverged": f"Training stopped at iteration {stopped.iteration:,}: "
                            "the loss diverged",
                "failed": f"Training stopped at iteration {stopped.iteration:,}: "
                          f"{stopped.message}"}[stopped.reason]
        self.status.set_state({"diverged": "Diverged", "failed": "Stopped by an error"}.get(
            stopped.reason, self._idle_state()))
        self.status.refresh()
        self.loss_plot.redraw()
        self._update_title()
        self._update_actions()
        self._runs_stopped()
        self._inspector_follow()
        if stopped.reason != "step":
            self._note(text)
        if stopped.reason == "failed":
            self.dialogs.error(
                "Training stopped",
                f"A training step failed at iteration {stopped.iteration:,}:\n{stopped.message}"
                "\n\nThe model keeps the weights of the last step that finished; save it, "
                "or reset it.")
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
        """Draw names as `dinogui sample` would from the model as it is now, and score them.

        The worker hands over a snapshot (weights and checkpoint bytes, between two
        steps); drawing, scoring and the nearest corpus names run in the background.
        """
        req = self.samples.request()
        corpus = self.trainer.corpus  # never modified: safe to read here
        try:
            spec = req.spec(corpus.lowercase)
        except ConstraintError as e:
            self._refuse("Cannot sample", e, "kept the list as it was")
            return
        known = self.summary.known if self.summary is not None else frozenset(corpus.names)
        nearest = self._nearest

        def snapshot(t: Trainer):
            source = favourites.Source(t.iteration, t.config.to_dict(), t.corpus.title,
                                       t.corpus.source, favourites.checkpoint_bytes(t))
            best = req.best and t.best_params is not None  # else: the latest, and said so
            best_iteration = t.state.best_iteration if best else None
            return t.sampler(copy_params=True, best=best), source, best_iteration

        def drawn(result, error) -> None:
            if error is not None:
                self._refuse("Cannot sample", error, "kept the list as it was")
                return
            self._show_draw(result)
            self._update_actions()

        def snapped(result, error) -> None:
            if error is not None:
                drawn(None, error)
                return
            sampler, source, best_iteration = result
            self.tasks.run(lambda: favourites.draw_scored(
                sampler, req.count, req.seed, spec, known, nearest.of(corpus.names), source,
                best_iteration), drawn)

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
        self._runs_close()
        self.worker_thread.stop()
        self.tasks.cancel()
        self.tasks.wait()
        if self.busy:
            QApplication.restoreOverrideCursor()
        self._save_layout()
        event.accept()

    # == inspector (issue 5) ==========================================================
    def _build_inspector(self) -> None:
        a = self.actions_
        self.inspector = InspectorView(a.refresh_inspector, a.score_names, self.dialogs,
                                       self.tasks.run)
        self.views.addTab(self.inspector, "Inspector")
        self.view_menu.addSeparator()
        self.view_menu.addActions([a.show_inspector, a.refresh_inspector])
        a.show_inspector.triggered.connect(lambda: self._show_view(self.inspector.name_edit))
        a.refresh_inspector.triggered.connect(self._refresh_inspector)
        self._inspector_asking = False
        # ticks only while the Inspector is the tab in front: no wake-ups of the window's
        # thread (and hand-overs of the GIL) for a view nobody looks at
        self._inspector_timer = QTimer(self)
        self._inspector_timer.setInterval(INSPECTOR_FOLLOW_MS)
        self._inspector_timer.timeout.connect(self._inspector_follow)
        self.views.currentChanged.connect(self._inspector_shown_or_hidden)

    def _inspector_shown_or_hidden(self, _index: int = 0) -> None:
        if self.views.currentWidget() is self.inspector:
            self._inspector_timer.start()
        else:
            self._inspector_timer.stop()
        self._inspector_follow()

    def _show_view(self, focus: QWidget) -> None:
        """Bring the tab holding `focus` to the front and give it the keyboard."""
        for i in range(self.views.count()):
            if self.views.widget(i).isAncestorOf(focus) or self.views.widget(i) is focus:
                self.views.setCurrentIndex(i)
        focus.setFocus()

    def _inspector_update(self) -> None:
        self.actions_.refresh_inspector.setEnabled(self.trainer is not None and not self.busy)
        self.inspector.set_training(self.training)

    def _refresh_inspector(self) -> None:
        """Ctrl+Shift+I: take the model's weights now (and show the Inspector)."""
        self.views.setCurrentWidget(self.inspector)
        self._inspector_take()

    def _inspector_follow(self) -> None:
        """Keep the visible Inspector's snapshot current: at once for another model or a
        stopped one, and every INSPECTOR_FOLLOW_MS while training when Follow is ticked."""
        if self._closed or self.views.currentWidget() is not self.inspector:
            return
        snap = self.inspector.snapshot
        if snap is not None and self.inspector.snapshot_key == (self.generation, self.iteration):
            return
        if snap is None or snap.generation != self.generation or not self.training \
                or self.inspector.follow.isChecked():
            self._inspector_take()

    def _inspector_take(self) -> None:
        if self.trainer is None or self._inspector_asking or self._closed:
            return
        generation = self.generation
        known = self.summary.known if self.summary is not None else frozenset()

        def snapshot(t: Trainer) -> ModelSnapshot:
            return ModelSnapshot(t.sampler(copy_params=True), t.iteration, generation,
                                 t.corpus.lowercase, t.corpus.names, known)

        def taken(snap, error) -> None:
            self._inspector_asking = False
            if error is not None:
                self._note(f"Inspector: could not read the model: {error}")
            elif snap.generation == self.generation:
                self.inspector.set_snapshot(snap)
                if snap.iteration != self.iteration and not self.training:
                    self._inspector_follow()  # stepped meanwhile

        self._inspector_asking = True
        self.worker.ask(snapshot, taken)

    # == runs (issue 5) ===============================================================
    def _build_runs(self) -> None:
        a = self.actions_
        self.run_store = RunStore(self.data_dir / "runs")
        self.current_run: Run | None = None  # the run being recorded
        self._run_generation: int | None = None  # the model it belongs to
        self.runs_view = RunsView(a.delete_runs)
        self.views.addTab(self.runs_view, "Runs")
        self.view_menu.addAction(a.show_runs)
        a.show_runs.triggered.connect(lambda: self._show_view(self.runs_view.list))
        self.runs_view.delete_requested.connect(self._delete_runs)
        self._run_save_timer = QTimer(self)
        self._run_save_timer.setInterval(RUN_SAVE_MS)
        self._run_save_timer.timeout.connect(self._runs_save)
        store = self.run_store

        def loaded(scan, error) -> None:
            if error is not None:
                self._note(f"Could not read the runs folder: {error}")
            elif scan.note():
                self._note(scan.note())  # one damaged file; the other runs still show
            self.runs_view.set_runs([] if error is not None else scan.runs)

        self.tasks.run(store.scan, loaded)

    def _runs_begin(self) -> None:
        """Training a fresh model starts a run (each model once, even after a deletion)."""
        self.runs_view.set_training(True)  # widgets: the live run's row says "(training)"
        if self.iteration != 0 or self._run_generation == self.generation:
            return
        self._run_generation = generation = self.generation

        def started(run, error) -> None:
            if error is not None or generation != self.generation:
                return
            self.current_run = run
            self.runs_view.add_run(run, live=True)
            self._save_run(run)

        self.worker.ask(Run.start, started)  # runs before the first step
        self._run_save_timer.start()

    def _runs_progress(self, batch: ProgressBatch) -> None:
        if self.current_run is not None and batch.generation == self._run_generation:
            self.runs_view.extend_live(batch.iterations, batch.smooth_char, batch.val_points)

    def _runs_stopped(self) -> None:
        self.runs_view.set_training(False)  # widgets: a paused run is not "(training)"
        self._run_save_timer.stop()
        self._runs_save()

    def _runs_save(self) -> None:
        """Take the current run's curves from the trainer and write them, in the background."""
        run = self.current_run
        if run is None or self._run_generation != self.generation:
            return

        def updated(newer, error) -> None:
            if error is not None or self.current_run is None \
                    or self.current_run.run_id != newer.run_id:
                return  # deleted (or replaced) in the meantime
            self.current_run = newer
            self.runs_view.update_run(newer)
            self._save_run(newer)

        self.worker.ask(lambda t: _updated_run(run, t), updated)

    def _save_run(self, run: Run) -> None:
        def saved(_path, error) -> None:
            if error is not None:
                self._note(f"Could not write the run record: {error}")

        store = self.run_store
        self.tasks.run(lambda: store.save(run), saved)

    def _runs_finish(self) -> None:
        """Another model is about to be attached: write the current run's last steps."""
        run = self.current_run
        if run is None:
            return
        self.current_run = None
        self._run_save_timer.stop()
        self.runs_view.end_live()
        try:
            newer = self.worker.call(lambda t: _updated_run(run, t))
        except Exception as e:  # the record keeps its last saved state
            self._note(f"Could not write the run record: {e}")
            return
        self.runs_view.update_run(newer)
        self._save_run(newer)  # queued after any earlier write of this run, never before

    def _runs_close(self) -> None:
        run = self.current_run
        if run is None:
            return
        try:
            newer = self.worker.call(lambda t: _updated_run(run, t), timeout=60)
            self.tasks.wait()  # earlier writes of this run first
            self.run_store.save(newer)
        except Exception as e:  # closing must not fail
            print(f"dinogui: could not write the run record: {e}")

    def _delete_runs(self, run_ids: list[str]) -> None:
        runs = [self.runs_view.runs[r] for r in run_ids if r in self.runs_view.runs]
        if not runs:
            return
        live = self.current_run is not None and self.current_run.run_id in run_ids
        listed = "\n".join(f"#{self.runs_view.numbers[r.run_id]}  {r.label}" for r in runs[:8])
        more = f"\n… and {len(runs) - 8} more" if len(runs) > 8 else ""
        note = ("The model being trained is not affected, but its run stops being recorded."
                if live else "Checkpoints and the model are not affected.")
        if not self.dialogs.confirm(
                "Delete runs",
                f"Delete {len(runs)} run{'s' if len(runs) > 1 else ''} from disk?\n\n"
                f"{listed}{more}\n\n{note}", yes="Delete", no="Cancel"):
            return
        failed = []
        for r in runs:
            try:
                self.run_store.delete(r.run_id)
            except OSError as e:
                failed.append(f"{r.label}: {e.strerror or e}")
        if live:
            self.current_run = None
            self._run_save_timer.stop()
        self.runs_view.remove_runs([r.run_id for r in runs])
        if failed:
            self.dialogs.error("Delete runs", "Could not delete:\n" + "\n".join(failed))
        self._note(f"Deleted {len(runs) - len(failed)} run{'s' if len(runs) > 1 else ''}")

    # == samples: held-out curve, novelty rate, scores, favourites (issue 5) ==========
    def _build_sampling_views(self) -> None:
        a = self.actions_
        self._nearest = favourites.NearestIndex()  # nearest corpus names, built once per corpus
        self.novelty_plot = NoveltyPlot()
        self.views.insertTab(1, self.novelty_plot, "Novelty")
        self.view_menu.addSeparator()
        self.view_menu.addActions([a.show_loss, a.show_novelty])
        a.show_loss.triggered.connect(lambda: self.views.setCurrentWidget(self.loss_plot))
        a.show_novelty.triggered.connect(lambda: self.views.setCurrentWidget(self.novelty_plot))
        self.samples_menu.addSeparator()
        self.samples_menu.addActions([a.toggle_favourite, a.export_favourites])
        self.samples.add_favourite_actions(a.toggle_favourite, a.export_favourites)
        a.toggle_favourite.triggered.connect(self.toggle_favourite)
        a.export_favourites.triggered.connect(self.export_favourites)
        self.samples.favourites_changed.connect(self._favourites_update)
        self._favourites_update()

    def _adopt_sampling_views(self, trainer: Trainer, summary: CorpusSummary) -> None:
        """A model comes in: its held-out points; the novelty plot starts over."""
        st = trainer.state
        self.loss_plot.set_validation(st.val_iterations, st.val_losses)
        self.samples.set_best_available(self.loss_plot.best)
        if st.iteration > 0:
            self.novelty_plot.clear(
                f"Report names are not kept in checkpoints: the novelty rate of this model "
                f"appears from its next report on (iteration {st.iteration:,} now)")
        else:
            self.novelty_plot.clear()

    def _sampling_views_progress(self, batch: ProgressBatch) -> None:
        if batch.val_points:
            self.loss_plot.add_validation(batch.val_points)
            self.samples.set_best_available(self.loss_plot.best)
        if batch.reports and self.summary is not None:
            self.novelty_plot.add_reports(batch.reports, self.summary.known)

    def _show_draw(self, result: favourites.DrawResult) -> None:
        source = result.rows[0].source if result.rows else None
        how = result.settings.describe()
        if source is not None:
            how += f" · iteration {source.iteration:,}"
        counts = []
        if result.not_new is not None:
            counts.append(f"{result.not_new:,} already in the corpus")
        if result.wrong_ending is not None:
            counts.append(f"{result.wrong_ending:,} not ending in "
                          f"{result.settings.spec.suffix!r}")
        if counts:
            how += f" · dropped {' and '.join(counts)} ({result.drawn:,} drawn)"
        problem = ""
        if result.problem:
            problem = f"{result.problem[:1].upper()}{result.problem[1:]}."
            self._note(f"Sample: {result.problem}")
        self.samples.show_draw(result.rows, how, problem)

    def toggle_favourite(self) -> None:
        changed = self.samples.toggle_favourites()
        if changed:
            n = abs(changed)
            self.statusBar().showMessage(
                f"{'Starred' if changed > 0 else 'Unstarred'} {n} name{'s' if n > 1 else ''}"
                f" · {len(self.samples.favourites)} favourites", 3000)

    def _favourites_update(self) -> None:
        if not hasattr(self, "_nearest"):
            return  # still building
        a = self.actions_
        self.status.set_favourites(len(self.samples.favourites))  # widgets: on every star
        a.export_favourites.setEnabled(len(self.samples.favourites) > 0)
        a.toggle_favourite.setEnabled(bool(self.samples.names())
                                      or len(self.samples.favourites) > 0)

    def export_favourites(self) -> None:
        """Write favourites.txt/.json and the checkpoint(s) that drew them (in the background)."""
        items = list(self.samples.favourites)
        if not items:
            return
        title = items[0].source.corpus_title or "names"
        folder = Path(self.settings.last_folder())
        path = self.dialogs.save_path("Export Favourites",
                                      str(folder / f"{title}-favourites.txt"), TEXT_FILTER)
        if not path:
            return

        def written(files, error) -> None:
            if error is not None:
                self._refuse("Cannot export favourites", error, "kept the favourites")
                return
            self.settings.set_last_folder(path)
            self._note(f"Exported {len(items)} favourite{'s' if len(items) > 1 else ''}: "
                       + ", ".join(str(f.name) for f in files) + f" in {files[0].parent}")

        self.tasks.run(lambda: favourites.export(items, path), written)

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


def _updated_run(run: Run, trainer: Trainer) -> Run:
    """A copy of the run with the trainer's current curves (runs on the worker's thread)."""
    newer = replace(run)
    newer.update(trainer)
    return newer


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
        return checkpoint.describe(path)
    except checkpoint.CheckpointError:  # a damaged file is reported when it is opened
        return "details unreadable"

