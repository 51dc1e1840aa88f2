"""The main window: corpus and settings on the left, the live loss plot and the report log in
the middle, sampling on the right.

The window lays out the views and wires them to the flows that do the work: the
document's state is a Session (dinogui/document/session.py), which announces its
changes, and the window's title, actions and state follow it from one handler
(_session_changed); files, autosave, run records, the Inspector's follower and
sampling are controllers (dinogui/controllers/), each handed the Shell (session,
worker, tasks, dialogs, settings, notes) and the few views it uses, never the window.
The window never runs a training step: a TrainingWorker in its own thread owns the
attached Trainer; the window steers it (start, pause, step) and draws what it reports.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QSize, Qt, Slot
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

from dinogui import qt_guard
from dinogui.actions import make_actions
from dinogui.controllers.autosave import Autosaver
from dinogui.controllers.files import FileFlows, dropped_file
from dinogui.controllers.generator_export import GeneratorExport
from dinogui.controllers.inspector import InspectorFollower
from dinogui.controllers.lr_find import LrFinder
from dinogui.controllers.name_list import NameListScoring
from dinogui.controllers.runs import RunRecorder
from dinogui.controllers.sampling import SamplingController, SamplingViews
from dinogui.controllers.shell import Shell
from dinogui.controllers.shutdown import TerminationWatch
from dinogui.controllers.training import TrainingController, TrainingFlows, TrainingViews
from dinogui.core import schedule
from dinogui.core.corpus import bundled_corpus_path
from dinogui.core.trainer import Trainer
from dinogui.dialogs import Dialogs
from dinogui.document.corpus_summary import CorpusSummary
from dinogui.document.favourites import NearestIndex
from dinogui.document.messages import Answer
from dinogui.document.session import Session
from dinogui.icon import app_icon
from dinogui.settings import AppSettings, default_data_dir
from dinogui.tasks import TaskRunner
from dinogui.toolbar_icons import paint_action_icons
from dinogui.widgets.corpus_panel import CorpusPanel
from dinogui.widgets.health_plot import HealthPlot
from dinogui.widgets.hyperparams import HyperparamsPanel
from dinogui.widgets.inspector import InspectorView
from dinogui.widgets.loss_plot import LossPlot
from dinogui.widgets.novelty_plot import NoveltyPlot
from dinogui.widgets.report_log import ReportLog
from dinogui.widgets.runs_view import RunsView
from dinogui.widgets.samples_panel import SamplesPanel
from dinogui.widgets.status import MessageBar, TrainingStatus
from dinogui.widgets.wheel_guard import guard_wheel
from dinogui.window_geometry import (
    LEFT_MIN_WIDTH,
    RIGHT_MIN_WIDTH,
    fit_to_screen,
    restore_layout,
    save_layout,
)
from dinogui.worker import WorkerThread


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
        self.session = Session()
        self._shown_busy = ""  # what the status bar and the cursor last showed as loading
        self._ask_on_close = True  # False when a signal closes the window: nobody may answer

        self.worker_thread = WorkerThread()
        self.worker = self.worker_thread.worker
        self.worker.answered.connect(self._on_answer)
        self.worker_thread.start()
        self.tasks = TaskRunner(self)

        self.setWindowIcon(app_icon())
        self.setAcceptDrops(True)
        self.actions_ = make_actions(self)
        paint_action_icons(self.actions_, self.palette())  # again on a palette change
        self._build_widgets()
        self._build_menus_and_toolbar()
        self._build_tabs()
        guard_wheel(self)  # the wheel scrolls the columns, never changes an unfocused field
        self._build_controllers()
        self.termination = TerminationWatch(self.terminate, self)
        self._connect()
        self.files.recent.fill()
        restore_layout(self)
        self.fit_on_show = True  # the size is checked against the screen when first shown
        self.hyperparams.set_values(self.settings.hyperparameters())
        self.status.set_budget(self.hyperparams.budget_value())
        self.samples.set_values(self.settings.sampling())

        self.session.subscribe(self._session_changed)  # every controller exists by now
        self._session_changed()
        if load_corpus_now:
            self._open_initial_corpus(corpus)

    # == the flows, for the command line, the app and tests ===========================
    def open_path(self, path: str | Path) -> None:
        """Open a checkpoint or a name list, whichever the file is (`dinogui FILE`)."""
        self.files.open_path(path)

    def open_corpus_path(self, path: str | Path, ask: bool = True) -> None:
        self.files.open_corpus_path(path, ask)

    def open_checkpoint_path(self, path: str | Path) -> None:
        self.files.open_checkpoint_path(path)

    def save_to(self, path: Path) -> None:
        self.files.save_to(Path(path))

    def offer_restore(self) -> bool:
        return self.autosaver.offer_restore()

    @property
    def autosave_path(self) -> Path:
        return self.autosaver.path

    def watch_termination(self) -> bool:
        """SIGTERM/SIGHUP close the window (writing the autosave) as Quit does."""
        return self.termination.install()

    # == building ===================================================================
    def _build_widgets(self) -> None:
        a = self.actions_
        self.corpus_panel = CorpusPanel()
        self.hyperparams = HyperparamsPanel()
        self.hyperparams.find_lr_button.setDefaultAction(a.find_lr)
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
        self.left_scroll.setMinimumWidth(LEFT_MIN_WIDTH)
        self.left_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.left_scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Tab goes to the fields

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
        right_inner = QWidget()
        right_layout = QVBoxLayout(right_inner)
        right_layout.setContentsMargins(6, 6, 6, 6)
        right_layout.addWidget(self.samples)
        # a scroll area, so the window fits a 1024-pixel screen: narrower than the panel
        # wants, it scrolls sideways instead of pushing the window off the screen
        right = self.right_scroll = QScrollArea()
        right.setWidget(right_inner)
        right.setWidgetResizable(True)
        # as wide as the panel needs with this font (a real 9-point font wanted ~350 px where the
        # splitter gave less: the column scrolled sideways), never narrower than RIGHT_MIN_WIDTH
        right.setMinimumWidth(max(RIGHT_MIN_WIDTH, right_inner.minimumSizeHint().width()
                                  + right.verticalScrollBar().sizeHint().width()))
        right.setFrameShape(QScrollArea.Shape.NoFrame)
        right.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Tab goes to the fields
        self.loss_plot.caption.setWordWrap(True)  # a long caption wraps, not widens the window
        self.loss_plot.caption.setMinimumWidth(120)  # (its width-for-height is known late)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.left_scroll)
        self.splitter.addWidget(self.center)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setStretchFactor(2, 0)
        self.splitter.setChildrenCollapsible(False)
        self.setCentralWidget(self.splitter)
        self.setStatusBar(MessageBar())  # messages elide before the state labels
        self.status = TrainingStatus(self.statusBar())

    def _build_menus_and_toolbar(self) -> None:
        a = self.actions_
        bar = self.menuBar()
        file = bar.addMenu("&File")
        file.addActions([a.open_corpus, a.open_checkpoint])
        self.recent_menu = QMenu("Open &Recent", self)
        file.addMenu(self.recent_menu)
        file.addAction(a.hold_out_file)
        file.addSeparator()
        file.addActions([a.save, a.save_as, a.export_samples, a.export_generator])
        file.addSeparator()
        file.addAction(a.quit)
        train = bar.addMenu("&Training")
        train.addActions([a.start, a.pause, a.step])
        train.addSeparator()
        train.addAction(a.find_lr)
        train.addSeparator()
        train.addAction(a.reset)
        samples = self.samples_menu = bar.addMenu("S&amples")
        samples.addActions([a.sample, a.copy_samples, a.export_samples])
        view = self.view_menu = bar.addMenu("&View")
        view.addActions([a.per_name, a.per_char])
        view.addSeparator()
        view.addAction(a.fit_plot)
        help_ = bar.addMenu("&Help")
        help_.addAction(a.shortcuts)
        help_.addSeparator()
        help_.addActions([a.about, a.about_qt])

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

    def _build_tabs(self) -> None:
        """The tabs beside the loss plot, and their View menu entries."""
        a = self.actions_
        self.novelty_plot = NoveltyPlot()
        self.views.addTab(self.novelty_plot, "Novelty")
        self.nearest = NearestIndex()  # nearest corpus names: one index per corpus, shared
        self.inspector = InspectorView(a.refresh_inspector, a.score_names)
        self.views.addTab(self.inspector, "Inspector")
        self.runs_view = RunsView(a.delete_runs)
        for label in (self.runs_view.count_label, self.runs_view.table_title):
            label.setWordWrap(True)  # long lines wrap, so the center fits a 1024-pixel screen
        self.views.addTab(self.runs_view, "Runs")
        self.health = HealthPlot()  # measured in the worker's thread, drawn here
        self.views.addTab(self.health, "Health")
        # a direct call (as set_until): the worker reads it between steps
        self.health.every_changed.connect(lambda k: self.worker.set_health_every(k))
        self.worker.set_health_every(self.health.every_value)
        view = self.view_menu
        view.addSeparator()
        view.addActions([a.show_inspector, a.refresh_inspector])
        view.addAction(a.show_runs)
        view.addSeparator()
        view.addActions([a.show_loss, a.show_novelty])
        self.samples_menu.addSeparator()
        self.samples_menu.addActions([a.toggle_favourite, a.export_favourites])
        self.samples.add_favourite_actions(a.toggle_favourite, a.export_favourites)

    def _build_controllers(self) -> None:
        """The flows, each given the shell and only the views it draws into."""
        a = self.actions_
        shell = self.shell = Shell(self.session, self.worker, self.tasks, self.dialogs,
                                   self.settings, self.data_dir, self.log, self.statusBar(),
                                   parent=self)
        self.files = FileFlows(shell, self.hyperparams, self.recent_menu, a.clear_recent,
                               self.adopt)
        self.generator_export = GeneratorExport(shell, self.samples)
        self.autosaver = Autosaver(shell, self.files, self.adopt)
        self.runs = RunRecorder(shell, self.runs_view)
        self.follower = InspectorFollower(shell, self.inspector, self.views)
        self.name_list = NameListScoring(shell, self.inspector, self.nearest)
        self.sampling = SamplingController(
            shell, SamplingViews(self.samples, self.loss_plot, self.novelty_plot, self.status,
                                 a.copy_samples, a.export_samples, a.toggle_favourite,
                                 a.export_favourites), self.nearest)
        self.steering = TrainingController(
            shell, TrainingViews(self.hyperparams, self.status, self.loss_plot, self.health,
                                 a.pause),
            TrainingFlows(self.runs, self.sampling, self.follower, self.files.may_discard,
                          self.adopt))
        self.lr_finder = LrFinder(shell, self.hyperparams)
        self.lr_finder.running_changed.connect(lambda _running: self._show_actions())
        self.worker.progress.connect(self.steering.on_progress)
        self.worker.stopped.connect(self.steering.on_stopped)

    def _connect(self) -> None:
        a, files, steering = self.actions_, self.files, self.steering
        a.start.triggered.connect(steering.start)
        a.pause.triggered.connect(steering.pause)
        a.step.triggered.connect(steering.step)
        a.reset.triggered.connect(steering.reset_model)
        a.find_lr.triggered.connect(self.lr_finder.find)
        a.open_corpus.triggered.connect(files.open_corpus)
        a.hold_out_file.triggered.connect(files.hold_out_file)
        a.open_checkpoint.triggered.connect(files.open_checkpoint)
        a.save.triggered.connect(files.save)
        a.save_as.triggered.connect(files.save_as)
        a.clear_recent.triggered.connect(files.recent.clear)
        a.export_samples.triggered.connect(self.sampling.export)
        a.export_generator.triggered.connect(self.generator_export.export)
        a.quit.triggered.connect(self.close)
        a.sample.triggered.connect(self.sampling.sample)
        a.copy_samples.triggered.connect(self.sampling.copy)
        a.toggle_favourite.triggered.connect(self.sampling.toggle_favourite)
        a.export_favourites.triggered.connect(self.sampling.export_favourites)
        self.samples.favourites_changed.connect(self.sampling.update_actions)
        a.per_name.triggered.connect(lambda: self.loss_plot.set_scale("name"))
        a.per_char.triggered.connect(lambda: self.loss_plot.set_scale("char"))
        a.fit_plot.triggered.connect(self.loss_plot.auto_range)
        a.show_loss.triggered.connect(lambda: self.views.setCurrentWidget(self.loss_plot))
        a.show_novelty.triggered.connect(lambda: self.views.setCurrentWidget(self.novelty_plot))
        a.show_inspector.triggered.connect(lambda: self._show_view(self.inspector.name_edit))
        a.refresh_inspector.triggered.connect(self.follower.refresh)
        a.score_names.triggered.connect(self.name_list.score)
        a.show_runs.triggered.connect(lambda: self._show_view(self.runs_view.list))
        a.shortcuts.triggered.connect(self.show_shortcuts)
        a.about.triggered.connect(self.about)
        a.about_qt.triggered.connect(QApplication.aboutQt)
        self.loss_plot.scale_changed.connect(self._on_scale)
        self.hyperparams.model_changed.connect(steering.on_model_settings)
        self.hyperparams.live_changed.connect(steering.on_live_settings)
        self.hyperparams.budget_changed.connect(steering.on_budget)
        self._on_scale(self.loss_plot.scale)

    def _show_view(self, focus: QWidget) -> None:
        """Bring the tab holding `focus` to the front and give it the keyboard."""
        for i in range(self.views.count()):
            if self.views.widget(i).isAncestorOf(focus) or self.views.widget(i) is focus:
                self.views.setCurrentIndex(i)
        focus.setFocus()

    # == state shown ==================================================================
    def _session_changed(self) -> None:
        """The one place the window follows its document: title, actions, busy state."""
        s = self.session
        self.setWindowTitle(s.title())
        self.setWindowModified(s.modified)
        if s.busy != self._shown_busy:
            if s.busy and not self._shown_busy:
                QApplication.setOverrideCursor(Qt.CursorShape.BusyCursor)
            elif not s.busy:
                QApplication.restoreOverrideCursor()
            self._shown_busy = s.busy
            self.status.set_state(s.busy or s.idle_state())
        self._show_actions()

    def _show_actions(self) -> None:
        a, s = self.actions_, self.session
        model, idle, free = s.trainer is not None, not s.training, not s.busy
        a.start.setEnabled(model and idle and free)
        a.start.setText("&Resume" if s.iteration > 0 else "&Start")
        a.pause.setEnabled(s.training)
        a.step.setEnabled(model and idle and free)
        a.reset.setEnabled(model and free and s.iteration > 0)
        a.find_lr.setEnabled(model and free and not self.lr_finder.running)
        a.open_corpus.setEnabled(free)
        a.open_checkpoint.setEnabled(free)
        a.hold_out_file.setEnabled(model and idle and free)
        self.recent_menu.setEnabled(free)
        a.save.setEnabled(model and free)
        a.save_as.setEnabled(model and free)
        a.export_generator.setEnabled(model and free)
        a.sample.setEnabled(model and free)
        self.hyperparams.setEnabled(free)
        self.sampling.update_actions()  # copy, export and the favourites follow the list
        a.refresh_inspector.setEnabled(model and free)
        self.inspector.set_training(s.training)

    # == a model comes in ===============================================================
    def _open_initial_corpus(self, corpus: str | Path | None) -> None:
        candidates = [corpus] if corpus is not None else [self.settings.last_corpus(),
                                                          bundled_corpus_path()]
        for path in candidates:
            if path is not None and Path(path).is_file():
                self.files.open_corpus_path(path, ask=False)
                return
        self.shell.note("No corpus yet: open a text file with one name per line "
                        "(File > Open Corpus)")

    def adopt(self, trainer: Trainer, summary: CorpusSummary, checkpoint_path: Path | None,
              saved_iteration: int | None) -> None:
        """Show a new trainer (checked by session.check_for_views, not yet stepped by anyone)
        and hand it to the worker."""
        self.runs.finish()  # the old model's run keeps its last steps
        self.steering.model_changed()
        s = self.session
        old_preset = s.config.preset if s.config is not None else None
        st = trainer.state
        self.loss_plot.set_preset(trainer.config.preset,
                                  None if old_preset != trainer.config.preset
                                  else self.loss_plot.scale)
        self.loss_plot.load_history(trainer.history)
        self.sampling.adopt(trainer, summary)
        self.health.clear()
        self.status.reset(st.iteration, st.seconds, st.smooth, st.smooth_char,
                          None if trainer.config.counts_only
                          else schedule.rate(trainer.config, st.iteration))
        self.status.set_time_budget(trainer.config.time_budget)
        generation = self.worker.attach(trainer)
        self.loss_plot.set_count_line(None)
        self.worker.ask(lambda t: t.count_baseline(),  # on the worker's thread: up to ~1 s
                        lambda line, error: self._count_line(generation, line, error))
        s.adopt(trainer, summary, generation, checkpoint_path, saved_iteration)
        self.corpus_panel.show_summary(summary)
        self.hyperparams.set_config(trainer.config)
        self.status.set_state(s.idle_state())

    def _count_line(self, generation: int, line: tuple[int, float] | None,
                    error: BaseException | None) -> None:
        """The count model's held-out loss, for the loss plot's dashed line (this model's)."""
        if generation == self.worker.generation and error is None:
            self.loss_plot.set_count_line(line)

    def _on_scale(self, scale: str) -> None:
        (self.actions_.per_name if scale == "name" else self.actions_.per_char).setChecked(True)
        self.status.scale = scale
        self.status.refresh()

    @Slot(object)
    def _on_answer(self, answer: Answer) -> None:
        if not self.shell.closing:
            answer.callback(answer.result, answer.error)

    # == closing ======================================================================
    def terminate(self, signum: int) -> None:
        """SIGTERM/SIGHUP: close as Quit does, without questions (nobody may be there)."""
        self._ask_on_close = False
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt's name)
        if self.shell.closing:
            event.accept()
            return
        self.worker.pause()
        ask, self._ask_on_close = self._ask_on_close, True
        if not self.autosaver.write_on_close(ask=ask):
            event.ignore()  # the user stays: nothing was closed
            self.shell.note("Still open: the unsaved training is in the model")
            return
        self.shell.closing = True
        self.termination.uninstall()
        self.runs.close()
        self.worker_thread.stop()
        self.tasks.cancel()
        self.tasks.wait()
        if self.session.busy:
            QApplication.restoreOverrideCursor()
        save_layout(self)
        self.steering.save_hyperparameters()
        self.settings.set_sampling(self.samples.values())
        self.settings.sync()
        event.accept()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt's name)
        super().changeEvent(event)
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            paint_action_icons(self.actions_, self.palette())  # a dark desktop: light icons

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        if self.fit_on_show:
            self.fit_on_show = False
            fit_to_screen(self)

    # == drag and drop, about =========================================================
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if not self.session.busy and dropped_file(event) is not None:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        path = dropped_file(event)
        if path is not None:
            event.acceptProposedAction()
            self.files.open_path(path)

    def show_shortcuts(self) -> None:
        from dinogui.shortcuts import shortcut_rows, shortcuts_html

        self.dialogs.inform("Keyboard Shortcuts",
                            shortcuts_html(shortcut_rows(self.actions_.all())))

    def about(self) -> None:
        from dinogui.about import about_text

        self.dialogs.about("About dinogui",
                           about_text(self.data_dir, self.settings.q.fileName()))
