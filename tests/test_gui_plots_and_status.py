"""The plots, the log and the status bar: palette, pixel ratio, legends, axes, wrapping,
eliding, and the trace a live settings change leaves."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QMainWindow

from dinogui.core.history import History
from dinogui.document.messages import Report
from dinogui.widgets.corpus_panel import CorpusPanel
from dinogui.widgets.loss_plot import EMPTY_RANGE, LossPlot
from dinogui.widgets.novelty_plot import NoveltyPlot
from dinogui.widgets.plot_style import IterationAxis
from dinogui.widgets.report_log import ReportLog
from dinogui.widgets.status import MessageBar, TrainingStatus, rate_text
from tests.conftest import REPO
from tests.gui_support import WAIT_MS, dark_palette, open_window, train, wait_stopped

pytest.importorskip("pytestqt")


def fill(plot: LossPlot, n: int) -> None:
    it = np.arange(n)
    ones = np.ones(n)
    plot.append(it, 20 * ones, 10 * ones, ones, 20 * ones, 2 * ones)
    plot.redraw()
    plot.auto_range()


# -- palette -------------------------------------------------------------------------

def background(widget) -> QColor:
    return widget.backgroundBrush().color()


def test_plots_histogram_and_inspector_follow_a_dark_palette(qtbot, tmp_path, tiny_corpus,
                                                             app_palette):
    w = open_window(qtbot, tmp_path, tiny_corpus)
    light = [background(v) for v in (w.loss_plot.view, w.novelty_plot.view,
                                     w.runs_view.plot, w.corpus_panel.histogram)]
    assert all(c.lightness() > 200 for c in light)

    app_palette(dark_palette())  # the desktop switches to dark while the window is open
    plots = (w.loss_plot.view, w.novelty_plot.view, w.runs_view.plot, w.corpus_panel.histogram)
    # Qt posts the palette change to each widget: drawn dark once the events are handled
    qtbot.waitUntil(lambda: all(background(v) == QColor(30, 30, 30) for v in plots),
                    timeout=WAIT_MS)
    for view in plots:
        assert background(view) == QColor(30, 30, 30)  # the palette's Base
        axis = view.getPlotItem().getAxis("bottom")
        assert axis.textPen().color().lightness() > 150  # labels readable on it
    assert w.loss_plot.colors.dark and w.loss_plot.placeholder.color.lightness() > 100
    for _sample, label in w.loss_plot.legend.items:
        assert QColor(label.opts["color"]).lightness() > 150
    # the Inspector's error red is a light red on a dark background
    assert QColor(w.inspector._red).lightness() > 150

    path = tmp_path / "dark.png"
    w.grab().save(str(path))
    assert path.stat().st_size > 0

    app_palette(QPalette(QColor(239, 239, 239)))  # and back to light
    qtbot.waitUntil(lambda: all(background(v).lightness() > 200 for v in plots),
                    timeout=WAIT_MS)


# -- pixel ratio ------------------------------------------------------------------------

WIDTHS = """
import json
from dinogui import qt_guard
qt_guard.guard()
from PySide6.QtWidgets import QApplication
from PySide6.QtGui import QAction
app = QApplication([])
from dinogui.widgets.loss_plot import LossPlot
from dinogui.widgets.novelty_plot import NoveltyPlot
loss, novelty = LossPlot(), NoveltyPlot()
loss.mark(10, "lr 0.005")
print(json.dumps({"dpr": loss.view.devicePixelRatioF(),
                  "smooth": loss.smooth_curve.opts["pen"].widthF(),
                  "step": loss.step_curve.opts["pen"].widthF(),
                  "held-out": loss.val_curve.opts["pen"].widthF(),
                  "mark": loss.marks[0][2].pen.widthF(),
                  "mean": novelty.mean_curve.opts["pen"].widthF(),
                  "axis": loss.view.getPlotItem().getAxis("left").pen().widthF()}))
"""


def pen_widths(scale: str) -> dict:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QT_SCALE_FACTOR=scale,
               PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    out = subprocess.run([sys.executable, "-c", WIDTHS], env=env, capture_output=True,
                         text=True, check=True, timeout=120)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_plot_pens_scale_with_the_device_pixel_ratio():
    one, two = pen_widths("1"), pen_widths("2")
    assert one["dpr"] == 1.0 and two["dpr"] == 2.0
    assert one["smooth"] == 2.5 and one["step"] == 1.0 and one["held-out"] == 2.0
    for key in ("smooth", "step", "held-out", "mark", "mean", "axis"):
        assert two[key] == 2 * one[key], key  # cosmetic pens are device pixels: doubled at 2x


# -- legends and axes --------------------------------------------------------------------

def test_legends_sit_below_the_data(qtbot):
    loss, novelty = LossPlot(), NoveltyPlot()
    for w in (loss, novelty):
        qtbot.addWidget(w)
        w.resize(600, 400)
        w.show()
    loss.set_preset("default")  # per character: the held-out curve is drawn
    loss.add_validation([(0, 3.0), (500, 2.0)])
    fill(loss, 1000)
    qtbot.waitExposed(loss)
    for plot, view in ((loss, loss.view), (novelty, novelty.view)):
        vb = view.getPlotItem().getViewBox()
        legend = plot.legend.sceneBoundingRect()
        assert legend.height() > 0
        assert legend.top() >= vb.sceneBoundingRect().bottom()  # under the data, never on it
    assert [label.text for _, label in loss.legend.items] == \
        ["step loss", "smoothed (0.99)", "held-out"]


def test_iteration_axes_print_thousands_not_exponents(qtbot):
    plot = LossPlot()
    qtbot.addWidget(plot)
    axis = plot.view.getPlotItem().getAxis("bottom")
    assert isinstance(axis, IterationAxis)
    assert axis.tickStrings([0.0, 500_000.0, 1_000_000.0, 1_500_000.0], 1.0, 500_000.0) == \
        ["0", "500,000", "1,000,000", "1,500,000"]
    plot.resize(600, 400)
    plot.show()
    plot.view.getPlotItem().setXRange(0, 2_400_000, padding=0)
    values = [v for _spacing, ticks in axis.tickValues(0, 2_400_000, 500) for v in ticks]
    shown = axis.tickStrings(values, 1.0, 500_000.0)
    assert shown and not any("e" in s for s in shown)
    assert "2,000,000" in shown


def test_after_a_reset_the_empty_plot_shows_its_own_axes(qtbot):
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.resize(600, 400)
    plot.show()
    fill(plot, 50_000)
    plot.view.getPlotItem().getViewBox().prepareForPaint()
    assert plot.view.getPlotItem().viewRange()[0][1] > 40_000
    plot.mark(20_000, "lr 0.005")
    plot.load_history(History())  # what Reset shows: a fresh model has no history
    (x0, x1), (y0, y1) = plot.view.getPlotItem().viewRange()
    assert (x0, x1) == pytest.approx(EMPTY_RANGE[0]) and (y0, y1) == pytest.approx(EMPTY_RANGE[1])
    assert plot.marks == [] and plot.placeholder.isVisible()


# -- the reports log ------------------------------------------------------------------

def test_the_reports_log_wraps_long_lines(qtbot):
    log = ReportLog()
    qtbot.addWidget(log)
    log.resize(300, 200)
    log.show()
    long = "Changed the learning rate 0.01 → 0.005 from iteration 1,234 " * 4
    log.note(long)
    qtbot.waitExposed(log)
    assert log.horizontalScrollBar().maximum() == 0  # nothing hidden to the right
    block = log.document().lastBlock()
    assert block.layout().lineCount() > 1  # wrapped into several lines
    assert block.text().endswith(long)


# -- the status bar -------------------------------------------------------------------

def test_status_messages_elide_before_the_state_and_time_out(qtbot):
    window = QMainWindow()
    qtbot.addWidget(window)
    window.setStatusBar(MessageBar())
    status = TrainingStatus(window.statusBar())
    status.set_state("Paused")
    window.resize(900, 300)
    window.show()
    qtbot.waitExposed(window)
    bar = window.statusBar()
    text = "A message much too long for the room left of the state: " * 4
    bar.showMessage(text, 300)
    shown = bar.message_label
    assert bar.currentMessage() == text and shown.toolTip() == text
    assert shown.text().endswith("…") and len(shown.text()) < len(text)
    state_left = status.state.mapTo(window, status.state.rect().topLeft()).x()
    message_right = shown.mapTo(window, shown.rect().topRight()).x()
    assert message_right < state_left  # never under the state
    qtbot.waitUntil(lambda: bar.currentMessage() == "", timeout=WAIT_MS)
    assert shown.text() == ""


def test_after_a_pause_the_status_shows_no_stale_speed_or_eta(qtbot, tmp_path, tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus)
    w.hyperparams.budget.setValue(100_000_000)
    w.actions_.start.trigger()
    qtbot.waitUntil(lambda: w.status.it_per_s > 0 and "ETA" in w.status.progress.format(),
                    timeout=WAIT_MS)
    w.actions_.pause.trigger()
    wait_stopped(qtbot, w)
    st = w.status
    assert "ETA" not in st.progress.format() and "to go" in st.progress.format()
    average = w.session.iteration / st.seconds
    assert st.speed_label.text() == f"avg {rate_text(st.average_speed)} it/s"
    assert st.average_speed == pytest.approx(average)


# -- a live change leaves a trace ---------------------------------------------------------

def test_learning_rate_and_clip_changes_are_logged_and_marked(qtbot, tmp_path, tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus)
    w.hyperparams.lr.setValue(0.02)  # before any training: the starting value, no trace
    qtbot.waitUntil(lambda: w.worker.call(lambda t: t.config.lr) == 0.02, timeout=WAIT_MS)
    assert w.loss_plot.marks == []

    train(qtbot, w, 120)
    w.hyperparams.lr.setValue(0.005)
    qtbot.waitUntil(lambda: len(w.loss_plot.marks) == 1, timeout=WAIT_MS)
    assert w.loss_plot.marks[0][:2] == (120, "lr 0.005")  # the step it takes effect at
    assert "Changed the learning rate 0.02 → 0.005 from iteration 120" in w.log.toPlainText()
    line = w.loss_plot.marks[0][2]
    assert line.value() == 120 and line.label.toPlainText() == "lr 0.005"

    w.hyperparams.budget.setValue(0)  # unlimited: change the clip while training
    w.actions_.start.trigger()
    qtbot.waitUntil(lambda: w.session.iteration > 150, timeout=WAIT_MS)
    w.hyperparams.clip.setValue(2.0)
    qtbot.waitUntil(lambda: len(w.loss_plot.marks) == 2, timeout=WAIT_MS)
    w.actions_.pause.trigger()
    wait_stopped(qtbot, w)
    at, text, _line = w.loss_plot.marks[1]
    assert text == "clip 2" and 150 < at <= w.session.iteration
    assert f"gradient clip 5 → 2 from iteration {at:,}" in w.log.toPlainText()
    assert w.worker.call(lambda t: t.config.clip) == 2.0


# -- novelty and histogram ----------------------------------------------------------------

def test_novelty_caption_and_legend_name_the_same_mean(qtbot):
    plot = NoveltyPlot()
    qtbot.addWidget(plot)
    plot.show()
    known = frozenset({"ada", "bob"})
    for k in range(12):
        plot.add_reports([Report(1000 * k, 1.0, 1.0, ["ada", f"new{k}", "bob", "zed"])],
                         known)
        legend = [label.text for sample, label in plot.legend.items
                  if sample.item is plot.mean_curve][0]
        assert legend == f"mean of the last {min(k + 1, 10)} report{'s' if k else ''}"
        if k:
            assert legend in plot.caption.text()


def test_one_novelty_report_spans_whole_iterations_from_zero_then_autoranges(qtbot):
    """A short run has one report: it was drawn over -0.5..0.5 ("iteration (x0.001)")."""
    plot = NoveltyPlot()
    qtbot.addWidget(plot)
    plot.show()
    vb = plot.view.getPlotItem().getViewBox()
    plot.add_reports([Report(0, 1.0, 1.0, ["ada", "zed"])], frozenset({"ada"}))
    assert vb.viewRange()[0] == pytest.approx([-5.0, 105.0])  # 0..100, padded 5%
    plot.clear()
    plot.add_reports([Report(3000, 1.0, 1.0, ["zed"])], frozenset())
    assert vb.viewRange()[0] == pytest.approx([2945.0, 3055.0])  # centred, 100 wide
    plot.add_reports([Report(6000, 1.0, 1.0, ["zed"])], frozenset())
    qtbot.waitUntil(lambda: vb.viewRange()[0][1] > 6000, timeout=WAIT_MS)  # autorange again
    assert vb.viewRange()[0][0] < 3000 and vb.autoRangeEnabled()[0]


def test_the_histogram_takes_no_tab_stop(qtbot):
    panel = CorpusPanel()
    qtbot.addWidget(panel)
    assert panel.histogram.focusPolicy() == Qt.FocusPolicy.NoFocus


# -- captions in plain words: "the original exercise", not "the seed" -----------------------

def test_the_classic_caption_says_the_original_exercise_not_the_seed(qtbot, tmp_path,
                                                                    tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus)  # classic
    caption = w.loss_plot.caption.text()
    assert "the original exercise's smoothed loss per name" in caption
    assert "seed" not in caption and "seed" not in w.actions_.per_name.toolTip()


def test_a_time_budget_counts_down_the_trainers_own_seconds(qtbot):
    """The trainer stops on its steps' time (signals and redraws not counted): the bar counts
    that down, not the wall time the Elapsed label shows."""
    window = QMainWindow()
    qtbot.addWidget(window)
    window.setStatusBar(MessageBar())
    status = TrainingStatus(window.statusBar())
    status.set_time_budget(300.0)
    status.reset(0, 0.0, 0.0, 0.0)
    assert status.progress.text() == "0% · 5:00 left"
    status.add_batch(1.0, 100, 1000, 75.0, 2.0, 1.5, 0.003, budget_spent=60.0)
    status.refresh()  # (the window's timer does, a few times a second)
    assert status.progress.text() == "20% · 4:00 left"  # 60 of 300 s, not 75
    assert status.elapsed_label.text() == "Elapsed 1:15"
    status.add_batch(2.0, 200, 2000, 310.0, 2.0, 1.5, 0.003, budget_spent=300.0)
    status.refresh()
    assert status.progress.text() == "100% · time budget spent"
