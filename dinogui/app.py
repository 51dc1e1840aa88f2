"""`dinogui` with no arguments: the desktop window."""

from __future__ import annotations

import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from dinogui.settings import APPLICATION, ORGANIZATION


def run_app(argv: list[str] | None = None) -> int:
    """Open the main window and run until it closes; returns the exit status (0)."""
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
    app.setWindowIcon(app_icon())
    pg.setConfigOptions(antialias=False)  # the smoothed curve turns it on for itself
    window = MainWindow()
    window.show()
    window.watch_termination()  # logout or `kill`: the autosave is written before exiting
    QTimer.singleShot(0, window.offer_restore)  # once the window is up
    return app.exec()
