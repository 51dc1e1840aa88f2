"""Does the model invent or copy? The share of each report's names that are not in the corpus.

Every report draws a few names (7 by default, as the seed). The plot shows,
by iteration, the percentage of them the corpus does not hold
(core.novelty.novelty_rate), and a running mean over the last reports,
because a handful of names per report makes single points coarse. A model
that memorises its names drifts down; one that only babbles stays near 100%.

Report names are not kept in checkpoints, so a model opened from a file
starts with an empty plot that fills from its next report on.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from dinogui.core.novelty import novelty_rate
from dinogui.widgets.plot_style import (
    RESTYLE_EVENTS,
    BelowLegend,
    apply_colors,
    mute,
    new_plot,
    scaled_pen,
)

RUNNING_MEAN = 10  # reports in the running mean
POINT_COLOR = (106, 61, 154)
MEAN_COLOR = (214, 96, 26)
WAITING = "No reports yet: the novelty rate appears with the first report of training"


def mean_label(reports: int) -> str:
    """The running mean's name, in the legend and the caption: it averages up to RUNNING_MEAN."""
    k = min(RUNNING_MEAN, max(reports, 1))
    return f"mean of the last {k} report{'s' if k != 1 else ''}"


class NoveltyPlot(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.iterations: list[int] = []
        self.rates: list[float] = []  # fraction new, 0..1
        self.counts: list[tuple[int, int]] = []  # (new, drawn) per report
        self.note = WAITING
        self._dirty = False

        self.caption = QLabel()
        self.caption.setTextFormat(Qt.TextFormat.PlainText)
        self.caption.setWordWrap(True)
        mute(self.caption)
        self.view = new_plot("names not in the corpus (%)")
        self.view.setMinimumHeight(160)
        item = self.view.getPlotItem()
        item.hideButtons()
        vb = item.getViewBox()
        vb.setMouseEnabled(x=True, y=False)
        vb.setYRange(0, 100, padding=0.04)
        vb.enableAutoRange(x=True, y=False)
        self.legend = BelowLegend(item, columns=2)
        self.points = item.plot(symbol="o", symbolPen=None, symbolBrush=pg.mkBrush(*POINT_COLOR),
                                name="each report")
        self.mean_curve = item.plot(antialias=True, name=mean_label(1))
        self.placeholder = pg.TextItem(self.note, anchor=(0.5, 0.5))
        self.placeholder.setParentItem(vb)
        vb.sigResized.connect(self._place_placeholder)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.caption)
        layout.addWidget(self.view, 1)

        self.restyle()
        self._recaption()

    def restyle(self) -> None:
        """Colours from the palette, pens for the screen's pixel ratio."""
        c = apply_colors(self.view, self.palette(), self.legend)
        dpr = self.view.devicePixelRatioF()
        point = c.accent(POINT_COLOR, (180, 140, 230))
        self.points.setPen(scaled_pen((point.red(), point.green(), point.blue(), 90), 1, dpr))
        self.points.setSymbolBrush(pg.mkBrush(point))
        self.points.setSymbolSize(6 * dpr)
        self.mean_curve.setPen(scaled_pen(MEAN_COLOR, 2.5, dpr))
        self.placeholder.setColor(c.muted)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt's name)
        super().changeEvent(event)
        if event.type() in RESTYLE_EVENTS:
            self.restyle()

    # -- data ---------------------------------------------------------------------
    def clear(self, note: str = WAITING) -> None:
        """Forget every point; `note` says why the plot is empty (shown until the next one)."""
        self.iterations, self.rates, self.counts = [], [], []
        self.note = note
        self._dirty = True
        self.redraw()

    def add_reports(self, reports, known: frozenset[str]) -> None:
        """Reports with their `iteration` and drawn `samples` (as the model wrote them)."""
        added = False
        for r in reports:
            if not r.samples:
                continue
            rate = novelty_rate(r.samples, known)
            self.iterations.append(r.iteration)
            self.rates.append(rate)
            self.counts.append((sum(n not in known for n in r.samples), len(r.samples)))
            added = True
        if added:
            self._dirty = True
            self.redraw()  # once a progress batch at most (4 a second), and only when shown

    def running_mean(self) -> np.ndarray:
        """The mean of each point and up to RUNNING_MEAN - 1 before it, in percent."""
        r = 100.0 * np.asarray(self.rates, dtype=float)
        c = np.concatenate([[0.0], np.cumsum(r)])
        n = np.arange(1, len(r) + 1)
        lo = np.maximum(n - RUNNING_MEAN, 0)
        return (c[n] - c[lo]) / (n - lo)

    def redraw(self) -> None:
        if not self._dirty or not self.isVisible():
            return  # a hidden tab costs training nothing: drawn when shown (showEvent)
        self._dirty = False
        x = np.asarray(self.iterations, dtype=float)
        self.points.setData(x, 100.0 * np.asarray(self.rates, dtype=float))
        self.mean_curve.setData(x, self.running_mean())
        vb = self.view.getPlotItem().getViewBox()
        if len(set(self.iterations)) == 1:
            # one report (a short run): autorange spread it over +-0.5 iteration, drawn as
            # "-400 .. 400 iteration (x0.001)"; a span of 100 whole iterations, none below 0
            low = max(0.0, x[0] - 50.0)
            vb.setXRange(low, low + 100.0, padding=0.05)
        else:
            vb.enableAutoRange(x=True)
        self.placeholder.setText(self.note)
        self.placeholder.setVisible(not self.iterations)
        self._recaption()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        self.redraw()

    def _recaption(self) -> None:
        if not self.iterations:
            self.caption.setText("Share of each report's names that the corpus does not hold")
            self._relabel_mean()
            return
        new, drawn = self.counts[-1]
        mean = self.running_mean()[-1]
        latest = self.rates[-1]
        text = (f"Names not in the corpus, per report · latest {100 * latest:.0f}% "
                f"({new} of {drawn}) at iteration {self.iterations[-1]:,}")
        if len(self.rates) > 1 and not math.isnan(mean):
            text += f" · {mean_label(len(self.rates))}: {mean:.0f}%"
        self.caption.setText(text)
        self._relabel_mean()

    def _relabel_mean(self) -> None:
        """The legend names the running mean as the caption does (how many reports it has)."""
        for sample, label in self.legend.items:
            if sample.item is self.mean_curve:
                label.setText(mean_label(len(self.rates)))

    def _place_placeholder(self) -> None:
        rect = self.view.getPlotItem().getViewBox().boundingRect()
        self.placeholder.setPos(rect.center())
