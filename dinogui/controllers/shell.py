"""What every flow shares, instead of the window: the document, the worker that trains it,
the background tasks, the questions put to the user, the remembered settings, and the
notes (the report log and the status bar). Each controller gets this and the few views it
draws into; the window builds them and wires them, and none of them can reach it."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QStatusBar

from dinogui.dialogs import Dialogs
from dinogui.document.session import Session
from dinogui.settings import AppSettings
from dinogui.tasks import TaskRunner
from dinogui.widgets.report_log import ReportLog
from dinogui.worker import TrainingWorker


class Shell(QObject):
    """The controllers' QObject parent too: they go when the window that owns this goes."""

    def __init__(self, session: Session, worker: TrainingWorker, tasks: TaskRunner,
                 dialogs: Dialogs, settings: AppSettings, data_dir: Path, log: ReportLog,
                 status_bar: QStatusBar, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session, self.worker, self.tasks = session, worker, tasks
        self.dialogs, self.settings, self.data_dir = dialogs, settings, data_dir
        self.log, self.status_bar = log, status_bar
        self.closing = False  # set once the close is decided: late answers are dropped

    def note(self, text: str) -> None:
        """Into the log whole; the status bar shows its first sentence, which fits a
        1024-pixel window (advice that follows, "Sample From the best, or ...", is in the log)."""
        self.log.note(text)
        self.status_bar.showMessage(text.split(". ", 1)[0], 5000)

    def flash(self, text: str, ms: int = 3000) -> None:
        """A passing word in the status bar only (copied, starred, autosaved)."""
        self.status_bar.showMessage(text, ms)

    def refuse(self, title: str, error: BaseException, kept: str) -> None:
        """One clear error: a dialog saying what was kept, and the same line in the log."""
        reason = str(error) if not isinstance(error, OSError) else (
            f"{error.filename or ''}: {error.strerror or error}")
        self.dialogs.error(title, f"{reason}\n\ndinogui {kept}.")
        self.note(f"{title}: {reason}")
