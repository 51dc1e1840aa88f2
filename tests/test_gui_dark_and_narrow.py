"""Icons and legends on a dark desktop, and every tab at 1024x768."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QColor, QIcon, QImage, QPalette

from dinogui.widgets.loss_plot import VAL_COLOR, LossPlot
from tests.gui_support import WAIT_MS, dark_palette, draw, open_window, settle, wait_stopped

pytest.importorskip("pytestqt")

ICONS = ("start", "pause", "step", "sample")


def ink(image: QImage) -> list[QColor]:
    """The colours of an image's mostly opaque pixels: what the eye sees of an icon."""
    image = image.convertToFormat(QImage.Format.Format_ARGB32)
    return [c for y in range(image.height()) for x in range(image.width())
            if (c := image.pixelColor(x, y)).alpha() > 160]


def mean_lightness(colors: list[QColor]) -> float:
    return sum(c.lightness() for c in colors) / len(colors)


def icon_lightness(action, mode: QIcon.Mode = QIcon.Mode.Normal) -> float:
    pixels = ink(action.icon().pixmap(20, 20, mode).toImage())
    assert len(pixels) > 20  # a shape, not a dot or nothing
    return mean_lightness(pixels)


# -- 7. dark desktops: toolbar icons ------------------------------------------------------

def test_toolbar_icons_contrast_with_the_window_and_follow_a_dark_palette(qtbot, tmp_path,
                                                                         app_palette):
    w = open_window(qtbot, tmp_path)
    actions = [getattr(w.actions_, name) for name in ICONS]
    window = w.palette().color(QPalette.ColorRole.Window).lightness()
    assert window > 200
    for a in actions:
        assert icon_lightness(a) < window - 120  # dark shapes on the light window

    app_palette(dark_palette())  # the desktop turns dark while the window is open
    qtbot.waitUntil(lambda: icon_lightness(w.actions_.start) > 150, timeout=WAIT_MS)
    window = w.palette().color(QPalette.ColorRole.Window).lightness()
    assert window < 60
    for a in actions:
        assert icon_lightness(a) > window + 120, a.text()  # light shapes on the dark window
        # greyed when disabled, still visible: between the text and the window colour
        grey = icon_lightness(a, QIcon.Mode.Disabled)
        assert window + 30 < grey < icon_lightness(a) - 30
    # the toolbar button shows the icon: its pixels include the light shape
    button = w.toolbar.widgetForAction(w.actions_.start)
    assert max(c.lightness() for c in ink(button.grab().toImage())) > 180

    app_palette(QPalette(QColor(239, 239, 239)))  # and back to light
    qtbot.waitUntil(lambda: icon_lightness(w.actions_.start) < 100, timeout=WAIT_MS)


# -- 7. the held-out legend entry shows its line, never pyqtgraph's "hidden" eye -----------

def legend_sample_pixels(plot: LossPlot, text: str) -> list[QColor]:
    sample = next(s for s, label in plot.legend.items if label.text == text)
    rect = plot.view.mapFromScene(sample.sceneBoundingRect()).boundingRect()
    return ink(plot.view.grab(rect).toImage())


def is_green(c: QColor) -> bool:
    return abs(c.red() - VAL_COLOR[0]) < 40 and abs(c.green() - VAL_COLOR[1]) < 40 \
        and abs(c.blue() - VAL_COLOR[2]) < 40


def test_the_held_out_legend_entry_is_its_green_line_while_the_curve_waits_for_a_redraw(qtbot):
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.set_preset("default")
    plot.resize(600, 400)
    plot.show()
    n = np.arange(1, 51)
    ones = np.ones(50)
    plot.append(n, 20 * ones, 8 * ones, ones, 20 * ones, 2.5 * ones)
    plot.redraw()
    plot._next_redraw = time.perf_counter() + 3600  # training busy: no redraw due
    plot.add_validation([(10, 2.5), (20, 2.4)])  # the legend lists the curve at once
    assert not plot.val_curve.isVisible()  # drawn at the next redraw (at a stop, or due)
    pixels = legend_sample_pixels(plot, "held-out")
    greens = [c for c in pixels if is_green(c)]
    # the line: 20 px long, 2 px wide; the crossed-out eye was black and grey, no green
    assert len(greens) > 15
    assert not [c for c in pixels if c.lightness() < 90 and not is_green(c)]


def test_after_a_stop_the_legend_shows_the_held_out_line(qtbot, tmp_path, tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus, preset="default", patience=2)
    w.hyperparams.budget.setValue(5000)
    w.actions_.start.trigger()
    wait_stopped(qtbot, w)
    qtbot.waitUntil(lambda: w.loss_plot.val_shown, timeout=WAIT_MS)
    QCoreApplication.processEvents()
    assert w.loss_plot.val_curve.isVisible()
    greens = [c for c in legend_sample_pixels(w.loss_plot, "held-out") if is_green(c)]
    assert len(greens) > 15


# -- 2. at 1024x768 every tab is usable without sideways scrolling ------------------------

def test_at_1024x768_no_tab_scrolls_sideways_and_the_settings_fit(qtbot, tmp_path, tiny_corpus):
    from PySide6.QtWidgets import QAbstractScrollArea

    w = open_window(qtbot, tmp_path, tiny_corpus, preset="default", patience=2)
    w.resize(1024, 768 - 48)  # the screen less a title bar and a panel
    qtbot.waitUntil(lambda: w.width() == 1024, timeout=WAIT_MS)
    # whatever the font: the sample column is never narrower than its panel needs (a real
    # 9-point font on Xvfb made it scroll sideways at 1008 pixels), and the window still fits
    right = w.right_scroll
    assert right.minimumWidth() >= right.widget().minimumSizeHint().width()
    assert w.minimumSizeHint().width() <= 1008
    w.hyperparams.budget.setValue(5000)
    w.actions_.start.trigger()
    wait_stopped(qtbot, w)  # a patience stop: the longest of the usual messages
    bar = w.statusBar()
    assert bar.currentMessage().startswith("Stopped at iteration")
    QCoreApplication.processEvents()
    assert bar.message_label.text() == bar.currentMessage()  # whole, not "Stopped…"
    assert w.status.progress.text() == "Finished early: no held-out gain"
    assert w.status.progress.width() >= w.status.progress.minimumSizeHint().width()
    w.actions_.sample.trigger()
    qtbot.waitUntil(lambda: bool(w.samples.names()), timeout=WAIT_MS)
    # the texts that grow with training: the best weights' figures beside their box (a long
    # run's iteration has six digits) and a long name typed into the Inspector, whose
    # explanation names the model's guesses (on Xvfb both made a column scroll sideways)
    w.samples.set_best_available((123_456, 12.3456))
    w.views.setCurrentWidget(w.inspector)
    w.inspector.name_edit.setText("Finneganbobcyrusadadanevegushalfinnegancyrus")
    qtbot.waitUntil(lambda: bool(w.inspector.alt_title.text()), timeout=WAIT_MS)
    for i in range(w.views.count()):
        w.views.setCurrentIndex(i)
        QCoreApplication.processEvents()
        # (the strip of a long name's characters is the one thing meant to scroll sideways)
        sideways = [type(a).__name__ for a in w.findChildren(QAbstractScrollArea)
                    if a.isVisible() and a.horizontalScrollBar().isVisible()
                    and a is not w.inspector.strip_scroll]
        assert sideways == [], w.views.tabText(i)
    # the settings column: every field's right edge inside the column's viewport
    viewport = w.left_scroll.viewport()
    for name in w.hyperparams.labels:
        box = getattr(w.hyperparams, name)
        if box.isVisible():
            right = box.mapTo(viewport, box.rect().topRight()).x()
            assert right < viewport.width(), name
    # Iterations and Quiet checks are in view without scrolling
    for box in (w.hyperparams.budget, w.hyperparams.patience):
        bottom = box.mapTo(viewport, box.rect().bottomLeft()).y()
        assert bottom < viewport.height()
    # a short message leaves every label in place; the labels come back after a long one
    bar.showMessage("Saved")
    QCoreApplication.processEvents()
    assert w.status.speed_label.isVisible() and w.status.state.isVisible()
    # with no message at all and a favourite starred, every label is back: the progress bar
    # keeps its text's width on one line, and the labels that give way draw "…", never cut
    w.samples.set_favourite(w.samples.rows()[0], True)
    bar.clearMessage()
    QCoreApplication.processEvents()
    status = w.status
    assert w.width() == 1024 and status.favourites_label.text() == "★ 1"
    progress = status.progress
    text = progress.fontMetrics().horizontalAdvance(progress.text())
    assert progress.width() >= text + 24, progress.width()
    for label in (status.state, status.speed_label, status.elapsed_label, status.rate_label):
        assert label.isVisible() and label.width() >= label.minimumSizeHint().width()
    # short beside the labels that must stay whole; the reason in full is its tooltip
    assert status.state.text() == "Stopped early"
    assert status.state.toolTip() == "Stopped: no better held-out loss for 2 checks"


# -- 7. captions follow a desktop turned dark (a style sheet kept the light palette's grey) --

def test_plot_captions_and_the_inspector_hint_turn_light_on_a_dark_desktop(qtbot, tmp_path,
                                                                          app_palette):
    w = open_window(qtbot, tmp_path)
    w.resize(1280, 800)
    muted = {w.loss_plot: w.loss_plot.caption, w.novelty_plot: w.novelty_plot.caption,
             w.health: w.health.caption, w.inspector: w.inspector.placeholder}

    def lightest(label) -> int:
        """The lightest pixel where the label sits, as the window draws it."""
        image = w.grab(label.rect().translated(label.mapTo(w, label.rect().topLeft()))) \
            .toImage()
        return max(image.pixelColor(x, y).lightness()
                   for x in range(image.width()) for y in range(image.height()))

    for tab in muted:  # each tab shown once (drawn in the light palette)
        w.views.setCurrentWidget(tab)
        QCoreApplication.processEvents()
    app_palette(dark_palette())
    QCoreApplication.processEvents()
    window = w.palette().color(QPalette.ColorRole.Window).lightness()
    for tab, label in muted.items():
        w.views.setCurrentWidget(tab)
        QCoreApplication.processEvents()
        assert label.isVisible() and label.text(), type(tab).__name__
        assert lightest(label) > window + 60, type(tab).__name__  # grey text on dark


# -- a 1024-pixel screen: starring does not widen the window --------------------------------

def test_starring_a_favourite_does_not_widen_the_window(qtbot, tmp_path, tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus)
    w.resize(w.minimumSizeHint().width(), 700)  # as narrow as it goes (a 1024-pixel screen)
    draw(qtbot, w)
    bar = w.statusBar()
    bar.clearMessage()  # a message hides labels as far as it needs: measure the labels alone
    settle()
    width, least, bar_least = w.width(), w.minimumSizeHint().width(), \
        bar.minimumSizeHint().width()
    w.samples.list.setCurrentItem(w.samples.list.topLevelItem(0))
    w.actions_.toggle_favourite.trigger()  # Ctrl+D
    bar.clearMessage()
    settle()
    assert len(w.samples.favourites) == 1 and w.status.favourites_label.text() == "★ 1"
    assert w.minimumSizeHint().width() <= least and w.width() == width
    assert bar.minimumSizeHint().width() == bar_least  # the bar, the widest part at 1024 px
    w.resize(1280, 700)  # with room, it shows
    settle()
    label = w.status.favourites_label
    assert label.width() >= label.sizeHint().width() > 1
