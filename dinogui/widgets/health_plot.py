"""The Health tab: per layer, by iteration, how the gradients, the updates and the units fare.

Three plots over iterations, one curve per weight matrix or layer (core/health.py
defines the figures): log10 of each weight matrix's gradient norm; log10 of its
update-to-weight ratio, with the usual 1e-3 guide line; and the share of each
layer's saturated units. The worker measures every K-th step (Measure every K
iterations; unticked, training pays nothing) and sends the figures with its
progress batches; the tab only draws them. Like the loss plot it redraws when a
batch finds a redraw due (at most 20 a second, and at most 1/COST_RATIO of the
time), and not at all while another tab is in front.
"""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from dinogui.core.health import HealthSample
from dinogui.core.settings import HEALTH_EVERY
from dinogui.widgets.fields import field_for
from dinogui.widgets.loss_plot import COST_RATIO, MAX_REDRAW_MS, REDRAW_MS
from dinogui.widgets.plot_style import (
    RESTYLE_EVENTS,
    BelowLegend,
    apply_colors,
    mute,
    new_plot,
    scaled_pen,
)

DEFAULT_EVERY = HEALTH_EVERY.default
AXIS_WIDTH = 46  # pixels for every left axis, so the plots' iterations line up
GUIDE = -3.0  # log10 of the update ratio that usually trains well
COLORS = ((31, 119, 180), (214, 96, 26), (44, 160, 44), (214, 39, 40), (148, 103, 189),
          (140, 86, 75), (227, 119, 194), (127, 127, 127))
WAITING = "No measurements yet: they appear as the model trains"
OFF = "Measuring is off: tick Measure to record the next steps"


class HealthData:
    """The measured steps, column by column; the labels are the model's."""

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self.iterations: list[int] = []
        self.weights: tuple[str, ...] = ()
        self.layers: tuple[str, ...] = ()
        self._grad: list[np.ndarray] = []
        self._ratio: list[np.ndarray] = []
        self._sat: list[np.ndarray] = []

    def add(self, samples: list[HealthSample]) -> bool:
        """Append; True when the labels changed (a new model: the old points are dropped)."""
        relabelled = False
        for s in samples:
            if (s.weights, s.layers) != (self.weights, self.layers):
                self.clear()
                self.weights, self.layers = s.weights, s.layers
                relabelled = True
            self.iterations.append(s.iteration)
            self._grad.append(s.grad_norm)
            self._ratio.append(s.update_ratio)
            self._sat.append(s.saturation)
        return relabelled

    def __len__(self) -> int:
        return len(self.iterations)

    def columns(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(iterations (n,), log10 grad norms (n, W), log10 update ratios (n, W),
        saturated % (n, L))."""
        n = len(self.iterations)
        if n == 0:
            empty = np.zeros((0, 0))
            return np.zeros(0), empty, empty, empty
        with np.errstate(divide="ignore"):
            grad = np.log10(np.array(self._grad))
        grad[~np.isfinite(grad)] = np.nan  # a zero gradient has no place on a log scale
        return (np.array(self.iterations, dtype=float), grad, np.array(self._ratio),
                100.0 * np.array(self._sat))


class HealthPlot(QWidget):
    every_changed = Signal(int)  # K, or 0 when measuring is off

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.data = HealthData()
        self._dirty = False
        self._next_redraw = 0.0
        self.redraw_cost = 0.0
        self.redraws = 0

        self.measure = QCheckBox("Measure every")
        self.measure.setChecked(True)
        self.measure.setToolTip("Measure gradients, updates and saturation on every K-th "
                                "training step (off: training pays nothing for it)")
        self.every = field_for(HEALTH_EVERY, "K: the steps measured are those whose iteration "
                               "is a multiple of K. Each measurement costs about one training "
                               "step")
        self.every.setKeyboardTracking(True)  # as before: each typed digit applies
        self.every.setValue(DEFAULT_EVERY)
        self.every.setSuffix(" iterations")
        self.caption = QLabel()
        self.caption.setTextFormat(Qt.TextFormat.PlainText)
        self.caption.setWordWrap(True)
        self.caption.setMinimumWidth(120)
        mute(self.caption)
        top = QHBoxLayout()
        top.addWidget(self.measure)
        top.addWidget(self.every)
        top.addStretch(1)

        self.grad_view = new_plot("grad (log10)")
        self.ratio_view = new_plot("update (log10)")
        self.sat_view = new_plot("sat. %")
        self.views = (self.grad_view, self.ratio_view, self.sat_view)
        self.grad_view.setToolTip("Each weight matrix's gradient norm as the step applied it "
                                  "(scaled and clipped), log10")
        self.ratio_view.setToolTip(
            "Each weight matrix's update-to-weight ratio, std(change) / std(weights), log10. "
            "About -3 (the dashed line) usually trains well: far below, the matrix hardly "
            "learns; far above, it changes too fast")
        self.sat_view.setToolTip(
            "Share of each layer's units in the flat part of their squashing function, where "
            "little gradient passes: |tanh| > 0.97; for GRU and LSTM gates, |2 sigmoid - 1| "
            "> 0.97 too")
        for view in self.views:
            view.setMinimumHeight(90)
            item = view.getPlotItem()
            item.hideButtons()
            item.getViewBox().setMouseEnabled(x=True, y=False)
            item.getAxis("left").setWidth(AXIS_WIDTH)  # the three x axes line up
            if view is not self.sat_view:
                item.hideAxis("bottom")  # one iteration axis, at the bottom: room for the data
            if view is not self.grad_view:
                item.setXLink(self.grad_view.getPlotItem())
        self.sat_view.getPlotItem().getViewBox().setYRange(0, 100, padding=0.04)
        self.sat_view.getPlotItem().getViewBox().enableAutoRange(y=False)
        self.weight_legend = BelowLegend(self.ratio_view.getPlotItem(), columns=3)
        self.layer_legend = BelowLegend(self.sat_view.getPlotItem(), columns=3)
        for legend in (self.weight_legend, self.layer_legend):
            legend.opts["labelTextSize"] = "8pt"  # five weight labels fit a narrow window
        self.guide = pg.InfiniteLine(pos=GUIDE, angle=0, movable=False,
                                     label="1e-3", labelOpts={"position": 0.1})
        self.ratio_view.addItem(self.guide)
        self.grad_curves: list[pg.PlotDataItem] = []
        self.ratio_curves: list[pg.PlotDataItem] = []
        self.sat_curves: list[pg.PlotDataItem] = []
        self.placeholder = pg.TextItem(WAITING, anchor=(0.5, 0.5))
        vb = self.ratio_view.getPlotItem().getViewBox()
        self.placeholder.setParentItem(vb)
        vb.sigResized.connect(self._place_placeholder)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.caption)
        for view in self.views:
            layout.addWidget(view, 1)

        self.measure.toggled.connect(self._every_edited)
        self.every.valueChanged.connect(self._every_edited)
        self.restyle()
        self._recaption()

    # -- settings ------------------------------------------------------------------
    @property
    def every_value(self) -> int:
        """K, or 0 when measuring is off (what the worker is told)."""
        return self.every.value() if self.measure.isChecked() else 0

    def set_every(self, every: int) -> None:
        """K from saved settings (0: off, K kept as it was)."""
        self.measure.setChecked(every > 0)
        if every > 0:
            self.every.setValue(every)

    def _every_edited(self, *_args) -> None:
        self.every.setEnabled(self.measure.isChecked())
        self._recaption()
        self.every_changed.emit(self.every_value)

    # -- style ---------------------------------------------------------------------
    def restyle(self) -> None:
        c = None
        for view, legend in zip(self.views, (None, self.weight_legend, self.layer_legend),
                                strict=True):
            c = apply_colors(view, self.palette(), legend)
        dpr = self.devicePixelRatioF()
        self.guide.setPen(scaled_pen(c.axis, 1.5, dpr, style=Qt.PenStyle.DashLine))
        self.guide.label.setColor(c.text)
        self.placeholder.setColor(c.muted)
        for curves in (self.grad_curves, self.ratio_curves, self.sat_curves):
            for i, curve in enumerate(curves):
                curve.setPen(scaled_pen(COLORS[i % len(COLORS)], 2, dpr))

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt's name)
        super().changeEvent(event)
        if event.type() in RESTYLE_EVENTS:
            self.restyle()

    # -- data ----------------------------------------------------------------------
    def clear(self) -> None:
        """Another model: its measurements start afresh (they are not kept in checkpoints)."""
        self.data.clear()
        self._make_curves()
        self._dirty = True
        self.redraw()

    def add(self, samples: list[HealthSample]) -> None:
        """A progress batch's measurements; drawn when a redraw is due and the tab shown."""
        if not samples:
            return
        if self.data.add(samples):
            self._make_curves()
        self._dirty = True
        if self.isVisible() and time.perf_counter() >= self._next_redraw:
            self._tick()

    def _make_curves(self) -> None:
        for view, curves in zip(self.views, (self.grad_curves, self.ratio_curves,
                                             self.sat_curves), strict=True):
            for curve in curves:
                view.getPlotItem().removeItem(curve)
            curves.clear()
        self.weight_legend.clear()
        self.layer_legend.clear()
        for label in self.data.weights:
            self.grad_curves.append(self.grad_view.getPlotItem().plot(antialias=True))
            self.ratio_curves.append(self.ratio_view.getPlotItem().plot(antialias=True,
                                                                        name=label))
        for label in self.data.layers:
            self.sat_curves.append(self.sat_view.getPlotItem().plot(antialias=True, name=label))
        for curve in (*self.grad_curves, *self.ratio_curves, *self.sat_curves):
            curve.setDownsampling(auto=True, method="peak")
            curve.setClipToView(True)
        self.restyle()

    def _tick(self) -> None:
        """Redraw now, and put the next redraw off by COST_RATIO times what this one took."""
        start = time.process_time()
        self.redraw()
        cost = time.process_time() - start
        self.redraw_cost = cost if not self.redraw_cost else 0.8 * self.redraw_cost + 0.2 * cost
        wait = min(MAX_REDRAW_MS, max(REDRAW_MS, 1000 * self.redraw_cost * COST_RATIO))
        self._next_redraw = time.perf_counter() + wait / 1000

    def redraw(self) -> None:
        if not self._dirty or not self.isVisible():
            return  # a hidden tab costs training nothing: drawn when shown
        self._dirty = False
        self.redraws += 1
        x, grad, ratio, sat = self.data.columns()
        for curves, ys in ((self.grad_curves, grad), (self.ratio_curves, ratio),
                           (self.sat_curves, sat)):
            for i, curve in enumerate(curves):
                curve.setData(x, ys[:, i], connect="finite")
        self.placeholder.setVisible(len(self.data) == 0)
        self._recaption()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        self.redraw()

    def _recaption(self) -> None:
        self.placeholder.setText(WAITING if self.measure.isChecked() else OFF)
        d = self.data
        if not len(d):
            self.caption.setText("Per weight matrix: gradient norm and update-to-weight ratio "
                                 "(log10); per layer: saturated units")
            return
        _, _, ratio, sat = d.columns()
        worst = int(np.nanargmax(sat[-1])) if sat.shape[1] else 0
        text = f"At {d.iterations[-1]:,}:"
        if np.isfinite(ratio[-1]).any():
            text += f" median update/weight 10^{np.nanmedian(ratio[-1]):.1f} (guide 10^-3)"
        if sat.shape[1]:
            text += f" · {d.layers[worst]} {sat[-1, worst]:.0f}% saturated"
        self.caption.setText(text)

    def _place_placeholder(self) -> None:
        rect = self.ratio_view.getPlotItem().getViewBox().boundingRect()
        self.placeholder.setPos(rect.center())
