"""Issue 17: a newcomer's first ten minutes (the wheel over settings, old samples, closing
mid-training, early stops, dark desktops, words, a 1024x768 screen)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from tests.gui_support import open_window, settle

pytest.importorskip("pytestqt")


def wheel(widget, notches: int = 1) -> None:
    """Notches of the mouse wheel over the middle of the widget (negative: towards the user)."""
    at = QPointF(widget.width() / 2, widget.height() / 2)
    for _ in range(abs(notches)):
        QApplication.sendEvent(widget, QWheelEvent(
            at, widget.mapToGlobal(at), QPoint(0, 0), QPoint(0, 120 if notches > 0 else -120),
            Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
            Qt.ScrollPhase.NoScrollPhase, False))
    settle()


# -- 1. the wheel scrolls the settings, it does not change them ----------------------------

def test_the_wheel_over_an_unfocused_field_scrolls_the_column_and_changes_nothing(qtbot,
                                                                                tmp_path):
    w = open_window(qtbot, tmp_path)
    w.resize(1000, 500)  # short enough that the settings column scrolls
    settle()
    hp, bar = w.hyperparams, w.left_scroll.verticalScrollBar()
    assert bar.maximum() > 0
    hidden, preset = hp.hidden.value(), hp.preset.currentIndex()
    w.loss_plot.setFocus()  # the user last clicked the plot
    assert not hp.hidden.hasFocus()
    wheel(hp.hidden, -3)  # three notches down, as the user scrolls the column
    wheel(hp.preset, -1)
    assert hp.hidden.value() == hidden and hp.preset.currentIndex() == preset
    assert bar.value() > 0  # the column scrolled instead
    assert not hp.hidden.hasFocus()  # and the wheel did not take the focus to the field
    for box in (w.samples.count, w.samples.temperature):  # the sampling column too
        before = box.value()
        wheel(box, 2)
        assert box.value() == before


def test_the_wheel_changes_a_field_the_user_clicked_into(qtbot, tmp_path):
    w = open_window(qtbot, tmp_path)
    box = w.samples.count
    box.setFocus()
    qtbot.waitUntil(box.hasFocus)
    before = box.value()
    wheel(box, 2)
    assert box.value() == before + 2
