"""The live loss plot: each step's loss faint, the smoothed loss bold, x = iteration,
and the held-out loss per character beside them, its best point marked.

Points arrive in batches from the training thread and are appended to
growable arrays; a batch that finds a redraw due hands them to the curves
(see below). pyqtgraph draws
only the visible range (clip to view), reduced to about one point per pixel
column (peak downsampling keeps the spikes of the step loss), and a curve
shown whole comes from its overview (dinogui/widgets/overview.py), so a
million iterations draw about as fast as a thousand.

The held-out (validation) loss is measured per character on names the model
never trains on, so it is drawn on the per-character scale only; it sits
above the training curve, and a gap that widens while the training loss
still falls is overfitting. Its lowest point is starred: the "best"
parameters a checkpoint keeps.

Painting runs in the window's thread and holds Python's GIL the whole time
(pyqtgraph paints in Python, and PySide keeps the lock through QPainter's
calls), so every millisecond of it is a millisecond the training thread
waits. The plot therefore measures the CPU time its redraws take and spaces
them so that they take at most 1/COST_RATIO of the time: 20 redraws a second
when a redraw is cheap, fewer on a slow or busy machine (about two a second
for a 650-pixel-wide plot here). Each time the window's thread takes the lock
back from training costs training more than the work done (the two threads
hand the lock over, and the training thread's core goes cold), so the plot
has no timer of its own while training: it redraws when the window handles
a batch of progress that finds a redraw due.
"""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from dinogui.core.config import PRESETS
from dinogui.core.config import SMOOTHING as TRAINER_SMOOTHING
from dinogui.core.history import History, room_for
from dinogui.widgets.corpus_panel import kind_color
from dinogui.widgets.overview import CurveOverview
from dinogui.widgets.plot_style import (
    RESTYLE_EVENTS,
    BelowLegend,
    PlotColors,
    apply_colors,
    mute,
    new_plot,
    scaled_pen,
)

REDRAW_MS = 50  # the fastest redraw rate: 20 a second
MAX_REDRAW_MS = 1000  # and the slowest
COST_RATIO = 40  # redraws take at most 1/40 of the time (training keeps the rest)
OVERVIEW_FROM = 10_000  # from this many points, a curve shown whole is drawn from its overview
SCALES = {"name": "per name", "char": "per character"}
# what each preset reports
NATURAL_SCALE = {p: "name" if p == "classic" else "char" for p in PRESETS}
SMOOTHING = {p: str(keep) for p, (keep, _take) in TRAINER_SMOOTHING.items()}  # for captions

STEP_COLOR = (70, 130, 180, 90)  # faint: the smoothed curve is what to read
SMOOTH_COLOR = (214, 96, 26)
VAL_COLOR = (27, 138, 90)  # green: apart from the blue steps and the orange smoothed curve
BEST_BRUSH = pg.mkBrush(250, 200, 30)
MARK_COLOR = ((110, 80, 160), (190, 160, 240))  # settings changes, on light / dark plots
EMPTY_RANGE = ((0, 1000), (0, 4))  # what an empty plot shows: no stale axes after a reset


class CurveData:
    """The window's copy of the per-iteration losses, in arrays that double as they fill."""

    COLUMNS = ("x", "step_name", "step_char", "smooth_name", "smooth_char")

    def __init__(self) -> None:
        self.n = 0
        self._cols = {k: np.empty(4096) for k in self.COLUMNS}
        self._overviews = {scale: CurveOverview() for scale in SCALES}

    def clear(self) -> None:
        self.n = 0
        for overview in self._overviews.values():
            overview.clear()

    def extend(self, iterations: np.ndarray, loss: np.ndarray, chars: np.ndarray,
               names: np.ndarray, smooth: np.ndarray, smooth_char: np.ndarray) -> None:
        k = len(iterations)
        for name, col in self._cols.items():
            self._cols[name] = room_for(col, self.n, self.n + k)
        s = slice(self.n, self.n + k)
        c = self._cols
        c["x"][s] = iterations
        np.divide(loss, names, out=c["step_name"][s])
        np.divide(loss, chars, out=c["step_char"][s])
        c["smooth_name"][s] = smooth
        c["smooth_char"][s] = smooth_char
        self.n += k

    def load(self, history: History) -> None:
        self.clear()
        # every recent step, a thinned selection of older ones: each with its iteration
        self.extend(history.column("iteration"), history.column("loss"), history.column("chars"),
                    history.column("names"), history.column("smooth"),
                    history.column("smooth_char"))

    def column(self, name: str) -> np.ndarray:
        return self._cols[name][: self.n]

    def series(self, scale: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(x, step loss, smoothed loss) on the given scale ("name" or "char")."""
        return self.column("x"), self.column(f"step_{scale}"), self.column(f"smooth_{scale}")

    def overview(self, scale: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The whole curve in a few thousand points: (x, step) strokes, (x, smoothed)."""
        return self._overviews[scale].series(*self.series(scale))


class LossPlot(QWidget):
    """The plot with its scale switch; `scale_changed(scale)` when the user switches."""

    scale_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.data = CurveData()
        self.preset = "classic"
        self.scale = "name"
        self._dirty = False
        self.val_x: list[int] = []  # iterations the held-out loss was measured after
        self.val_y: list[float] = []  # the held-out loss per character there
        self._val_version = 0  # counts changes to val_x/val_y
        self._val_drawn: tuple[int, bool] | None = None  # (version, shown) the curve holds

        self.scale_box = QComboBox()
        for key, label in SCALES.items():
            self.scale_box.addItem(f"Loss {label}", key)
        self.scale_box.setToolTip(
            "Per name: the cross-entropy summed over each name's characters, as the original "
            "exercise prints it (longer names weigh more).\nPer character: the same divided by the "
            "characters predicted; ln(vocabulary) is a uniform guess.")
        self.scale_box.currentIndexChanged.connect(self._scale_picked)
        self.caption = QLabel()
        self.caption.setTextFormat(Qt.TextFormat.PlainText)
        mute(self.caption)
        fit = QPushButton("Fit")
        fit.setToolTip("Show all the points again after zooming (auto-range)")
        fit.clicked.connect(self.auto_range)

        self.view = new_plot("", _TimedPlotWidget)
        self.view.setMinimumHeight(180)
        item = self.view.getPlotItem()
        for side in ("left", "bottom"):  # grid at major ticks only: minor lines cost 40% a paint
            item.getAxis(side).setStyle(maxTickLevel=0)
        item.hideButtons()  # the Fit button does what the small "A" would
        self.legend = BelowLegend(item)
        # one point per pixel column: peaks for the noisy step loss, a plain subsample
        # for the smoothed curve (cheap enough to antialias)
        self.step_curve = item.plot(name="step loss", antialias=False, autoDownsampleFactor=1.0)
        self.smooth_curve = item.plot(name="smoothed", antialias=True, autoDownsampleFactor=1.0)
        self.step_curve.setDownsampling(auto=True, method="peak")
        self.smooth_curve.setDownsampling(auto=True, method="subsample")
        for curve in (self.step_curve, self.smooth_curve):
            curve.setClipToView(True)
        # a few points (one per validation): symbols on a line, no downsampling needed
        self.val_curve = item.plot(name="held-out", antialias=True, symbol="o", symbolPen=None,
                                   symbolBrush=pg.mkBrush(*VAL_COLOR))
        # a labelled model: one thin held-out curve per kind, in the corpus panel's colours
        self.kind_labels: tuple[str, ...] = ()
        self.kind_curves: list[pg.PlotDataItem] = []
        self.kind_points: list[tuple[int, list[float]]] = []
        self.best_marker = pg.ScatterPlotItem(symbol="star", brush=BEST_BRUSH)
        self.best_marker.setZValue(10)
        # the star sits on a held-out point, which the curve's bounds hold already; its own
        # bounds grow with its pixel size, so they would move at each new range and ask the
        # auto-range for a second paint
        item.addItem(self.best_marker, ignoreBounds=True)
        self.best_label = pg.TextItem(anchor=(0.5, 1.15))
        self.best_label.setZValue(11)
        item.addItem(self.best_label, ignoreBounds=True)
        self.view.getViewBox().setMouseEnabled(x=True, y=True)
        self._overview_drawn = False
        self.view.getViewBox().sigRangeChangedManually.connect(self._zoomed)
        self.placeholder = pg.TextItem("Press Start (F5) to train: the loss appears here",
                                       anchor=(0.5, 0.5))
        self.placeholder.setParentItem(item.getViewBox())  # fixed in the view, not in data
        item.getViewBox().sigResized.connect(self._place_placeholder)

        top = QHBoxLayout()
        top.addWidget(self.scale_box)
        top.addWidget(self.caption, 1)
        top.addWidget(fit)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)

        self.marks: list[tuple[int, str, pg.InfiniteLine]] = []  # settings changed while training
        # the count model's held-out loss on this split: a dashed level to beat
        self.count_line: tuple[int, float] | None = None  # (order, loss per character)
        self.count_item = pg.InfiniteLine(angle=0, movable=False, label="",
                                          labelOpts={"position": 0.03, "anchors": [(0, 1),
                                                                                   (0, 1)]})
        self.count_item.setZValue(4)
        self.count_item.setVisible(False)
        self.view.getPlotItem().addItem(self.count_item, ignoreBounds=True)
        self._next_redraw = 0.0  # perf_counter() time from which a redraw is due
        self.redraw_cost = 0.0  # CPU seconds a redraw and its paint took, smoothed
        self.colors = self.restyle()
        self._relabel()
        self.auto_range()

    # -- colours and pens ---------------------------------------------------------
    def restyle(self) -> PlotColors:
        """Colours from the palette and pens for the screen's pixel ratio (again on a change)."""
        c = apply_colors(self.view, self.palette(), self.legend)
        dpr = self.view.devicePixelRatioF()
        step = (*STEP_COLOR[:3], 130 if c.dark else STEP_COLOR[3])
        self.step_curve.setPen(scaled_pen(step, 1, dpr))
        self.smooth_curve.setPen(scaled_pen(SMOOTH_COLOR, 2.5, dpr))
        self.val_curve.setPen(scaled_pen(VAL_COLOR, 2, dpr))
        self.val_curve.setSymbolSize(5 * dpr)
        self.best_marker.setPen(scaled_pen((120, 90, 0), 1, dpr))
        self.best_marker.setSize(17 * dpr)
        self.best_label.setColor(c.accent((20, 110, 70), (120, 220, 160)))
        self.best_label.fill = pg.mkBrush(c.fill)
        self.placeholder.setColor(c.muted)
        self.colors = c
        for _x, _text, line in self.marks:
            self._style_mark(line)
        count_color = c.accent((110, 110, 110), (170, 170, 170))
        self.count_item.setPen(scaled_pen(count_color, 1.5, dpr, style=Qt.PenStyle.DashLine))
        self.count_item.label.setColor(count_color)
        return c

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt's name)
        super().changeEvent(event)
        if event.type() in RESTYLE_EVENTS:
            self.restyle()

    # -- marks ------------------------------------------------------------------------
    def mark(self, iteration: int, text: str) -> None:
        """A vertical line with a short label at the iteration a setting changed."""
        line = pg.InfiniteLine(pos=iteration, angle=90, movable=False, label=text,
                               labelOpts={"position": 0.97, "anchors": [(0, 0), (0, 0)]})
        line.setZValue(5)
        self.view.getPlotItem().addItem(line, ignoreBounds=True)
        self.marks.append((iteration, text, line))
        self._style_mark(line)

    def _style_mark(self, line: pg.InfiniteLine) -> None:
        c = self.colors
        color = c.accent(*MARK_COLOR)
        line.setPen(scaled_pen(color, 1, self.view.devicePixelRatioF(),
                               style=Qt.PenStyle.DashLine))
        line.label.setColor(color)
        line.label.fill = pg.mkBrush(c.fill)

    def clear_marks(self) -> None:
        item = self.view.getPlotItem()
        for _x, _text, line in self.marks:
            item.removeItem(line)
        self.marks = []

    def set_count_line(self, line: tuple[int, float] | None) -> None:
        """A dashed horizontal line at the count model's held-out loss ("a count model gets
        here"), on the per-character scale its units are; None removes it."""
        self.count_line = line
        if line is not None:
            order, loss = line
            self.count_item.setValue(loss)
            self.count_item.label.setFormat(f"a count model gets here ({order}-gram: {loss:.3f})")
        self._show_count_line()

    def _show_count_line(self) -> None:
        self.count_item.setVisible(self.count_line is not None and self.scale == "char")
        self.count_item.label.valueChanged()  # its text is set only while it is visible

    # -- what is shown ------------------------------------------------------------
    def set_preset(self, preset: str, scale: str | None = None) -> None:
        """A new model: its own smoothing in the caption, and its natural scale unless given."""
        self.preset = preset
        self.set_scale(scale or NATURAL_SCALE.get(preset, "char"))
        self._relabel()

    def set_scale(self, scale: str) -> None:
        index = self.scale_box.findData(scale)
        if index >= 0 and index != self.scale_box.currentIndex():
            self.scale_box.setCurrentIndex(index)  # -> _scale_picked
        else:
            self._apply_scale(scale)

    def _scale_picked(self, index: int) -> None:
        self._apply_scale(self.scale_box.itemData(index))
        self.scale_changed.emit(self.scale)

    def _apply_scale(self, scale: str) -> None:
        self.scale = scale
        self._show_count_line()
        points, self.kind_points = self.kind_points, []
        self.add_kind_validation(points)  # shown on the per-character scale only
        self._relabel()
        self._dirty = True
        self.redraw()
        self.auto_range()

    def _relabel(self) -> None:
        unit = SCALES[self.scale]
        self.view.getPlotItem().setLabel("left", f"loss {unit} (nats)")
        if self.scale == "name" and self.preset == "classic":
            text = "the original exercise's smoothed loss per name"
        else:
            text = f"smoothed loss {unit}"
        text = f"{text} · moving average {SMOOTHING.get(self.preset, '')}"
        if self.val_x and self.scale != "char":
            text += " · held-out loss: shown per character (View > Loss per Character)"
        self.caption.setText(text)
        self.caption.setToolTip(
            "Held-out loss: the loss per character on names kept out of training, "
            "measured every so often.\nThe gap between it and the training curve shows how "
            "much the model memorises; the star marks its lowest point." if self.val_x else "")
        self.legend.clear()
        self.legend.addItem(self.step_curve, "step loss")
        self.legend.addItem(self.smooth_curve, f"smoothed ({SMOOTHING.get(self.preset, '')})")
        if self.val_shown:
            self.legend.addItem(self.val_curve, "held-out")
        if self.kind_points and self.scale == "char":
            for curve, label in zip(self.kind_curves, self.kind_labels, strict=True):
                self.legend.addItem(curve, f"held-out: {label}")

    @property
    def val_shown(self) -> bool:
        """The held-out curve is drawn: there are points, and the scale is theirs."""
        return bool(self.val_x) and self.scale == "char"

    @property
    def best(self) -> tuple[int, float] | None:
        """(iteration, loss) of the lowest held-out loss, the first on a tie (as the trainer)."""
        if not self.val_y:
            return None
        k = int(np.argmin(self.val_y))
        return self.val_x[k], self.val_y[k]

    # -- data -----------------------------------------------------------------------
    def clear(self) -> None:
        self.data.clear()
        self.clear_marks()
        self._set_val([], [])
        self._dirty = True
        self.redraw()
        self.auto_range()

    def load_history(self, history: History) -> None:
        """A model's loss curve; its held-out points go to set_validation() (cleared here)."""
        self.data.load(history)
        self.clear_marks()
        self._set_val([], [])
        self._dirty = True
        self.redraw()
        self.auto_range()

    def set_validation(self, iterations, losses) -> None:
        """All held-out points of a model (e.g. trainer.state.val_iterations, val_losses)."""
        self._set_val(list(iterations), list(losses))
        self._dirty = True
        self.redraw()

    def add_validation(self, points: list[tuple[int, float]]) -> None:
        """New (iteration, loss) held-out points as training reports them."""
        if not points:
            return
        had = bool(self.val_x)
        for x, y in points:
            self.val_x.append(x)
            self.val_y.append(y)
        self._val_version += 1
        if not had:
            self._relabel()  # the legend and caption gain the held-out curve
        self._dirty = True
        self._redraw_if_due()

    def set_kinds(self, labels) -> None:
        """A labelled model's kinds (() for a plain one): its per-kind curves start empty
        (a checkpoint keeps the overall held-out points only)."""
        item = self.view.getPlotItem()
        for curve in self.kind_curves:
            item.removeItem(curve)
        self.kind_labels = tuple(labels)
        self.kind_points = []
        dpr = self.view.devicePixelRatioF()
        self.kind_curves = [
            item.plot(antialias=True, pen=scaled_pen(kind_color(i), 1.5, dpr,
                                                     style=Qt.PenStyle.DashLine))
            for i in range(len(self.kind_labels))]
        self._relabel()

    def add_kind_validation(self, points: list[tuple[int, list[float]]]) -> None:
        """New (iteration, [loss of each kind]) held-out points of a labelled model."""
        if not points or not self.kind_curves:
            return
        had = bool(self.kind_points)
        self.kind_points.extend(points)
        xs = np.array([x for x, _ in self.kind_points], dtype=float)
        ys = np.array([y for _, y in self.kind_points], dtype=float)  # (checks, kinds)
        shown = self.scale == "char"
        for k, curve in enumerate(self.kind_curves):
            curve.setData(xs, ys[:, k]) if shown else curve.setData([], [])
        if not had:
            self._relabel()

    def _set_val(self, xs: list[int], ys: list[float]) -> None:
        changed = bool(xs) != bool(self.val_x)
        self.val_x, self.val_y = xs, ys
        self._val_version += 1
        if changed:
            self._relabel()

    def append(self, iterations, loss, chars, names, smooth, smooth_char) -> None:
        self.data.extend(iterations, loss, chars, names, smooth, smooth_char)
        self._dirty = True
        self._redraw_if_due()

    @property
    def redraw_due(self) -> bool:
        """New points would be drawn now (the time budget allows it)."""
        return time.perf_counter() >= self._next_redraw

    def _redraw_if_due(self) -> None:
        if self._dirty and self.isVisible() and self.redraw_due:
            self._tick()

    def redraw(self) -> None:
        """Hand the new points to the curves (painted at the next paint event)."""
        if not self._dirty:
            return
        self._dirty = False
        x, step, smooth = self.data.series(self.scale)
        vb = self.view.getPlotItem().getViewBox()
        self._overview_drawn = self.data.n >= OVERVIEW_FROM and bool(vb.autoRangeEnabled()[0])
        if self._overview_drawn:  # the whole curve in view: its overview draws the same
            x, step, x_smooth, smooth = self.data.overview(self.scale)
        else:  # zoomed in: every point, clipped to the view by pyqtgraph
            x_smooth = x
        self.step_curve.setData(x, step, skipFiniteCheck=True)
        self.smooth_curve.setData(x_smooth, smooth, skipFiniteCheck=True)
        self.placeholder.setVisible(self.data.n == 0)
        shown = self.val_shown
        if shown:  # beside the star, on the side with room: never cut off at the plot's edge
            self.best_label.setAnchor(self._best_anchor())
        if (self._val_version, shown) == self._val_drawn:
            return  # the held-out points are as drawn: no need to hand them over again
        self._val_drawn = (self._val_version, shown)
        if shown:
            self.val_curve.setData(np.asarray(self.val_x, dtype=float),
                                   np.asarray(self.val_y, dtype=float))
            bx, by = self.best
            self.best_marker.setData([bx], [by])
            self.best_label.setText(f"best {by:.2f} at {bx:,}")
            self.best_label.setPos(bx, by)
        else:
            self.val_curve.setData([], [])
            self.best_marker.setData([], [])
        for item in (self.val_curve, self.best_marker, self.best_label):
            item.setVisible(shown)

    def _best_anchor(self) -> tuple[float, float]:
        """Beside the star on the side with room; under it when the best is below the count
        model's dashed line, whose words sit above the line (over them, the two collided)."""
        bx, by = self.best
        last = self.data.column("x")[-1] if self.data.n else bx
        below = self.count_item.isVisible() and by < self.count_line[1]
        return (1.0 if bx > last / 2 else 0.0, -0.15 if below else 1.15)

    def _place_placeholder(self) -> None:
        rect = self.view.getPlotItem().getViewBox().boundingRect()
        self.placeholder.setPos(rect.center())

    def _tick(self) -> None:
        """Redraw now (painted next), and put the next redraw off by COST_RATIO times the cost."""
        if not self._dirty or not self.isVisible():
            return  # hidden behind another tab: drawn when shown (showEvent)
        painted, self.view.paint_seconds = self.view.paint_seconds, 0.0
        t0 = time.thread_time()
        self.redraw()
        # apply the auto-range now, or the paint it causes is a second one; twice, because the
        # new range re-downsamples the curves, whose bounds move a little and would ask again
        vb = self.view.getPlotItem().getViewBox()
        vb.prepareForPaint()
        vb.prepareForPaint()
        # CPU time, not wall time: waiting for the lock costs training nothing
        cost = time.thread_time() - t0 + painted  # this update, and the paints since the last
        self.redraw_cost = cost if not self.redraw_cost else 0.8 * self.redraw_cost + 0.2 * cost
        wait = min(MAX_REDRAW_MS, max(REDRAW_MS, 1000 * self.redraw_cost * COST_RATIO))
        self._next_redraw = time.perf_counter() + wait / 1000

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        if self._dirty:
            QTimer.singleShot(0, self, self._tick)  # once shown and laid out (if alive)

    def auto_range(self) -> None:
        item = self.view.getPlotItem()
        if self.data.n == 0:  # nothing to fit: the empty plot's own axes, not the last model's
            item.setRange(xRange=EMPTY_RANGE[0], yRange=EMPTY_RANGE[1], padding=0)
        item.enableAutoRange()
        if self._overview_drawn != (self.data.n >= OVERVIEW_FROM):
            self._dirty = True  # whole again: back to the overview
            self.redraw()

    def _zoomed(self, *_mask) -> None:
        """The user zoomed or panned (pyqtgraph stops following): draw every point."""
        if self._overview_drawn:
            self._dirty = True
            self.redraw()

    @property
    def points(self) -> int:
        return self.data.n


class _TimedPlotWidget(pg.PlotWidget):
    """A PlotWidget that adds up the CPU time its paints take (read and reset by LossPlot)
    and counts them."""

    paint_seconds = 0.0
    paints = 0

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        t0 = time.thread_time()
        super().paintEvent(event)
        self.paint_seconds += time.thread_time() - t0
        self.paints += 1
