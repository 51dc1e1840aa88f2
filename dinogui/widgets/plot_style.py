"""The look the window's plots share: white background, light grid, grey axes, iterations on x."""

from __future__ import annotations

import pyqtgraph as pg


def style_plot(item: pg.PlotItem, left_label: str) -> None:
    item.showGrid(x=True, y=True, alpha=0.2)
    for side in ("left", "bottom"):
        axis = item.getAxis(side)
        axis.setPen(pg.mkPen(90, 90, 90))
        axis.setTextPen(pg.mkPen(60, 60, 60))
    item.setLabel("bottom", "iteration")
    item.setLabel("left", left_label)
