"""`dinogui` with no arguments (or a file to open): the desktop window."""

from __future__ import annotations

import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from dinogui.settings import APPLICATION, ORGANIZATION


def run_app(argv: list[str] | None = None, open_file: str | None = None) -> int:
    """Open the main window (on `open_file`, a name list or a checkpoint, when given) and run
    until it closes; returns the exit status (0)."""
    import pyqtgraph as pg

    from dinogui import qt_guard
    from dinogui.icon import app_icon
    from dinogui.main_window import MainWindow
    from dinogui.worker import pin_blas_threads

    qt_guard.guard()
    pin_blas_threads()
    app = QApplication.instance() or QApplication(sys.argv if argv is None else argv)
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setDesktopFileName("dinogui")  # ties the window to the --install-desktop entry's icon
    app.setWindowIcon(app_icon())
    pg.setConfigOptions(antialias=False)  # the smoothed curve turns it on for itself
    window = MainWindow()
    window.show()
    QTimer.singleShot(0, lambda: start(window, open_file))  # once the window is up
    return app.exec()


def start(window, open_file: str | None) -> None:
    """Once the last corpus has loaded: offer to restore unsaved training, then open the
    file asked for, if any.

    The window's background tasks run and answer in the order given, so a task queued now
    answers after the initial corpus; a restore asked for before that would find the
    window busy. The file opens last, so a file that cannot be used leaves the window on
    that model, with the message the File menu gives.
    """

    def then(_result, _error) -> None:
        window.offer_restore()
        if open_file is not None:
            window.open_file(open_file)

    window.tasks.run(lambda: None, then)
