"""Helpers for the window's tests: scripted dialogs and a window on temporary folders.

Importing this module guards the process against PySide6 6.12.0's reference
leak (see dinogui/qt_guard.py) before any Qt object exists, and puts Qt's
standard paths into test mode, so no test touches the user's own settings.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QPoint, QPointF, QSettings, QStandardPaths, Qt
from PySide6.QtGui import QColor, QPalette, QWheelEvent
from PySide6.QtWidgets import QApplication

from dinogui import qt_guard

qt_guard.guard()
QStandardPaths.setTestModeEnabled(True)

WAIT_MS = 20_000  # generous: the machine is shared; tests wait for events, not for time


class ScriptedDialogs:
    """Answers the window's questions from lists given by the test, and records what it said.

    A question without a scripted answer fails the test: the window asked
    something the test did not expect.
    """

    def __init__(self) -> None:
        self.open_paths: list[str] = []
        self.save_paths: list[str] = []
        self.confirms: list[bool] = []
        self.choices: list[int | None] = []
        self.options: list[list[str]] = []  # each choice's buttons, the default first
        self.asked: list[tuple[str, str]] = []
        self.errors: list[tuple[str, str]] = []
        self.infos: list[tuple[str, str]] = []

    def _next(self, queue: list, title: str, text: str):
        self.asked.append((title, text))
        if not queue:
            raise AssertionError(f"unexpected question {title!r}: {text}")
        return queue.pop(0)

    def open_path(self, title: str, folder: str, file_filter: str) -> str | None:
        return self._next(self.open_paths, title, folder)

    def open_many(self, title: str, folder: str, file_filter: str) -> list[str]:
        """The next scripted open path, or list of paths (a multiple selection)."""
        got = self._next(self.open_paths, title, folder)
        return [] if got is None else [got] if isinstance(got, str) else list(got)

    def save_path(self, title: str, suggested: str, file_filter: str) -> str | None:
        return self._next(self.save_paths, title, suggested)

    def confirm(self, title: str, text: str, yes: str = "OK", no: str = "Cancel") -> bool:
        return self._next(self.confirms, title, text)

    def confirm_or_later(self, title: str, text: str, yes: str, no: str,
                         later: str = "Later") -> bool | None:
        return self._next(self.confirms, title, text)  # None: Escape (later)

    def choose(self, title: str, text: str, options: list[str]) -> int | None:
        self.options.append(list(options))
        return self._next(self.choices, title, text)

    def inform(self, title: str, text: str) -> None:
        self.infos.append((title, text))

    def error(self, title: str, text: str) -> None:
        self.errors.append((title, text))

    def about(self, title: str, text: str) -> None:
        self.infos.append((title, text))


def settings_at(folder: Path):
    from dinogui.settings import AppSettings

    return AppSettings(QSettings(str(folder / "dinogui.ini"), QSettings.Format.IniFormat))


def open_window(qtbot, folder: Path, corpus: Path | None = None, dialogs=None, settings=None,
                preset: str | None = "classic", **panel):
    """A shown MainWindow on temporary settings and data folders, its model ready.

    preset and panel (hyperparameter widget name -> value) are set before the
    corpus loads, so the first model already has them. The preset is classic unless
    given (most tests pin the seed's numbers); None keeps what the window chose itself
    (a first launch: the default preset).
    """
    from dinogui.main_window import MainWindow

    dialogs = dialogs or ScriptedDialogs()
    window = MainWindow(settings=settings or settings_at(folder), dialogs=dialogs,
                        data_dir=folder / "data", load_corpus_now=False)
    qtbot.addWidget(window)
    window.show()
    if preset == "default":  # tests train to their budgets: the default preset checks every
        panel.setdefault("patience", 0)  # step or two on their tiny lists, and 5 would stop it
    set_panel(window, preset=preset, **panel)
    if corpus is not None:
        window.open_corpus_path(corpus, ask=False)
        wait_ready(qtbot, window)
    return window


def set_panel(window, preset: str | None = None, **values) -> None:
    """Set hyperparameter widgets as a user would (their change signals fire)."""
    hp = window.hyperparams
    if preset is not None:
        hp.preset.setCurrentIndex(hp.preset.findData(preset))
    for name, value in values.items():
        box = getattr(hp, name)
        if hasattr(box, "findData"):
            box.setCurrentIndex(box.findData(value))
        else:
            box.setValue(value)


def wait_ready(qtbot, window) -> None:
    qtbot.waitUntil(lambda: window.session.trainer is not None and not window.session.busy,
                    timeout=WAIT_MS)


def wait_stopped(qtbot, window) -> None:
    qtbot.waitUntil(lambda: not window.session.training, timeout=WAIT_MS)


def train(qtbot, window, until: int) -> None:
    """Press Start with an iteration budget and wait for the budget to be reached."""
    window.hyperparams.budget.setValue(until)
    window.actions_.start.trigger()
    qtbot.waitUntil(lambda: not window.session.training and window.session.iteration >= until,
                    timeout=WAIT_MS)


def trainer_arrays(window) -> dict[str, np.ndarray]:
    """The attached trainer's history, read between steps by the worker."""
    return window.worker.call(lambda t: t.history.to_arrays())


def settle() -> None:
    """Deliver every event already posted (repaints asked for, queued signals, zero timers),
    so a test can check that something did NOT happen without sleeping for it."""
    from PySide6.QtCore import QCoreApplication

    for _ in range(3):  # an event handled may post another (a paint asking for a repaint)
        QCoreApplication.sendPostedEvents()
        QCoreApplication.processEvents()


def dark_palette() -> QPalette:
    """A dark desktop's palette, for the tests that switch the application to it."""
    p = QPalette()
    for role, rgb in ((QPalette.ColorRole.Window, (45, 45, 45)),
                      (QPalette.ColorRole.WindowText, (230, 230, 230)),
                      (QPalette.ColorRole.Base, (30, 30, 30)),
                      (QPalette.ColorRole.Text, (230, 230, 230)),
                      (QPalette.ColorRole.Button, (55, 55, 55)),
                      (QPalette.ColorRole.ButtonText, (230, 230, 230)),
                      (QPalette.ColorRole.PlaceholderText, (150, 150, 150))):
        p.setColor(role, QColor(*rgb))
    return p


def wheel(widget, notches: int = 1) -> None:
    """Notches of the mouse wheel over the middle of the widget (negative: towards the user)."""
    at = QPointF(widget.width() / 2, widget.height() / 2)
    for _ in range(abs(notches)):
        QApplication.sendEvent(widget, QWheelEvent(
            at, widget.mapToGlobal(at), QPoint(0, 0), QPoint(0, 120 if notches > 0 else -120),
            Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
            Qt.ScrollPhase.NoScrollPhase, False))
    settle()


def draw(qtbot, w) -> None:
    """Press Sample (Ctrl+G) and wait for the new list."""
    before = w.samples.summary.text()
    w.actions_.sample.trigger()
    qtbot.waitUntil(lambda: w.samples.summary.text() != before and not w.session.busy,
                    timeout=WAIT_MS)
