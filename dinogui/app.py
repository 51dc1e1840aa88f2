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
    window.watch_termination()  # logout or `kill`: the autosave is written before exiting
    QTimer.singleShot(0, lambda: start(window, open_file))  # once the window is up
    return app.exec()


def start(window, open_file: str | None) -> None:
    """Once the last corpus is in: offer to restore unsaved training, then, once that is
    settled, open the file asked for, if any.

    Each waits for the window to be free (no load or build under way, no question open):
    a restored model adopted before the initial corpus's model was built would be replaced
    by it. A file that cannot be used leaves the window on the model it has, with the
    message the File menu gives.
    """

    def when_free(then) -> None:
        if window.shell.closing:
            return
        if window.session.busy or window.tasks.busy or QApplication.activeModalWidget() is not None:
            QTimer.singleShot(50, lambda: when_free(then))
            return
        then()

    def restore_then_open() -> None:
        window.offer_restore()
        if open_file is not None:
            when_free(lambda: window.open_path(open_file))

    when_free(restore_then_open)
