"""The window's size and layout: remembered between sessions, and always on the screen.

It opens at the remembered geometry when the screen holds it, else at most the
screen's free space (never below the minimum size, which fits 1024x768), centred.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QRect, QSize

if TYPE_CHECKING:
    from dinogui.main_window import MainWindow

DEFAULT_SIZE = QSize(1360, 840)  # the first launch's size, on a screen that holds it
FRAME = QSize(16, 48)  # room left for the window manager's frame and title bar
LEFT_MIN_WIDTH = 276  # the settings panel, its fields whole; with the others it fits 1024 pixels
RIGHT_MIN_WIDTH = 270  # the sampling panel (it scrolls when narrower than it wants)


def fits(geometry: QRect, available: QRect) -> bool:
    """The window (its client area, plus room for a frame) lies within the screen's space."""
    return available.contains(geometry.adjusted(0, -FRAME.height() + 8, 0, 0)) \
        and geometry.width() + FRAME.width() <= available.width() + 8


def restore_layout(w: MainWindow) -> None:
    """The remembered geometry, splitters and toolbar (checked against the screen once the
    window is shown: fit_to_screen)."""
    geometry = w.settings.blob("geometry")
    if geometry is None or not w.restoreGeometry(geometry):
        w.resize(DEFAULT_SIZE)
    for key, widget in (("state", w), ("splitter", w.splitter), ("center", w.center)):
        blob = w.settings.blob(key)
        if blob is not None:
            widget.restoreState(blob)
    if w.settings.blob("splitter") is None:
        w.splitter.setSizes([280, 680, 400])
        w.center.setSizes([520, 240])


def save_layout(w: MainWindow) -> None:
    s = w.settings
    s.set_blob("geometry", w.saveGeometry())
    s.set_blob("state", w.saveState())
    s.set_blob("splitter", w.splitter.saveState())
    s.set_blob("center", w.center.saveState())


def fit_to_screen(w: MainWindow) -> None:
    """Keep the size if the screen holds it, else shrink to the screen's free space (down
    to the minimum size) and centre."""
    available = w.screen().availableGeometry()
    if fits(w.geometry(), available):
        return
    w.layout().activate()  # the minimum size as it is once shown
    size = QSize(min(w.width(), available.width() - FRAME.width()),
                 min(w.height(), available.height() - FRAME.height()))
    w.resize(size.expandedTo(w.minimumSizeHint()))
    w.move(available.center() - w.rect().center())
    if w.settings.blob("splitter") is None:  # the side panels as wide as they want
        right = min(w.right_scroll.widget().sizeHint().width(), 400)
        left = w.left_scroll.minimumWidth()
        w.splitter.setSizes([left, w.width() - left - right, right])
