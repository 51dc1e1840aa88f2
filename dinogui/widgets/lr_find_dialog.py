"""The learning-rate finder's result: the loss against the rate (log axis), the suggestion
marked, and a button that puts the suggested rate into the Learning rate field."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from dinogui.core.lr_find import Sweep
from dinogui.widgets.plot_style import BelowLegend, apply_colors, scaled_pen

FAINT = (120, 144, 176, 110)  # each step's loss, light behind the smoothed one
SMOOTH = (31, 119, 180)  # the smoothed loss (the loss plot's blue)
MARK = (214, 39, 40)  # the suggestion


class LrFindDialog(QDialog):
    """Not modal: the window stays usable while it is open."""

    use_rate = Signal(float)  # "Use this rate" pressed: the suggested rate

    def __init__(self, sweep: Sweep, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.sweep = sweep
        self.setWindowTitle("Learning rate finder")
        self.plot = pg.PlotWidget()
        item = self.plot.getPlotItem()
        item.setMenuEnabled(False)
        item.showGrid(x=True, y=True, alpha=0.2)
        item.setLabel("bottom", "learning rate (log scale)")
        item.setLabel("left", "loss per character")
        item.setLogMode(x=True, y=False)
        legend = BelowLegend(item)
        colors = apply_colors(self.plot, self.palette(), legend)
        dpr = self.plot.devicePixelRatioF()
        self.raw = item.plot(sweep.rates, sweep.losses, name="each step",
                             pen=scaled_pen(FAINT, 1, dpr))
        self.smoothed = item.plot(sweep.rates, sweep.smoothed, name="smoothed",
                                  pen=scaled_pen(SMOOTH, 2.5, dpr))
        if len(sweep.rates):
            item.setYRange(*_y_range(sweep), padding=0)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.use_button = buttons.addButton("&Use This Rate",
                                            QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.rejected.connect(self.reject)
        self.use_button.clicked.connect(self._use)
        if sweep.suggestion is None:
            self.use_button.setEnabled(False)
            self.summary.setText("No step of the sweep finished: the lowest rate is already "
                                 "too high for this model.")
        else:
            rate = sweep.suggestion
            self.line = pg.InfiniteLine(np.log10(rate), angle=90,
                                        pen=scaled_pen(MARK, 1.5, dpr, style=Qt.PenStyle.DashLine),
                                        label=f"suggested {rate:g}",
                                        labelOpts={"position": 0.92, "color": MARK,
                                                   "fill": colors.fill})
            item.addItem(self.line)
            low = sweep.lowest
            self.lowest = item.plot([sweep.rates[low]], [sweep.smoothed[low]], pen=None,
                                    symbol="o", symbolBrush=MARK, symbolPen=None,
                                    symbolSize=8, name="lowest smoothed")
            self.summary.setText(
                f"Suggested learning rate: <b>{rate:g}</b>, a tenth of {sweep.rates[low]:.3g}, "
                f"the rate with the lowest smoothed loss ({sweep.smoothed[low]:.3f}). "
                f"{_ending(sweep)} The model itself did not change: the sweep ran on a copy.")
        layout = QVBoxLayout(self)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.summary)
        layout.addWidget(buttons)
        self.resize(560, 420)

    def _use(self) -> None:
        self.use_rate.emit(float(self.sweep.suggestion))
        self.accept()


def _y_range(sweep: Sweep) -> tuple[float, float]:
    """From a little below the lowest loss to half as far again above the first smoothed
    one: the valley fills the plot, the take-off runs off its top."""
    low = float(min(sweep.losses.min(), sweep.smoothed.min()))
    start = float(sweep.smoothed[0])
    span = max(start - low, 0.05)
    return low - 0.1 * span, start + 0.5 * span


def _ending(sweep: Sweep) -> str:
    n = len(sweep.rates)
    if sweep.stopped == "end":
        return f"{n} steps from {sweep.rates[0]:g} to {sweep.rates[-1]:g}."
    why = {"diverged": "when the loss took off", "nan": "when a step diverged",
           "cancelled": "when cancelled"}[sweep.stopped]
    return f"The sweep stopped {why}, after {n} of {sweep.planned} steps."
