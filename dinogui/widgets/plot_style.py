"""The look the window's plots share, taken from the application's palette.

Colours come from the palette (a dark desktop gets dark plots) and are applied
again when it changes. Pen widths are given in logical pixels and multiplied by
the screen's device pixel ratio: pyqtgraph's pens are cosmetic, which Qt draws
in device pixels, so a 2.5 px curve would be half as thick at scale 2. The
iteration axis prints whole numbers with thousands separators (pyqtgraph's
default switches to 1e+06 from 10,000 on). Legends sit below the plot, where
they never cover the newest points.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyqtgraph as pg
from pyqtgraph.graphicsItems.ScatterPlotItem import drawSymbol
from PySide6.QtCore import QEvent
from PySide6.QtGui import QColor, QPalette, QPen
from PySide6.QtWidgets import QWidget

# the events after which a plot takes its colours and pen widths again
RESTYLE_EVENTS = (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange,
                  QEvent.Type.DevicePixelRatioChange)


@dataclass(frozen=True)
class PlotColors:
    """The plot colours for one palette."""

    background: QColor  # the palette's Base: plots are views, like lists and tables
    text: QColor  # tick labels, axis titles and legend labels
    axis: QColor  # axis lines and the grid (drawn faint)
    muted: QColor  # placeholder text
    fill: QColor  # behind text drawn on the data (e.g. the best point's label)
    dark: bool  # a light-on-dark palette: accents are drawn lighter

    def accent(self, light: tuple[int, int, int], dark: tuple[int, int, int]) -> QColor:
        """One of two versions of an accent colour: for light or for dark backgrounds."""
        return QColor(*(dark if self.dark else light))


def mute(label: QWidget) -> None:
    """Draw a caption in the palette's placeholder grey, following a palette change (a style
    sheet's palette(placeholder-text) kept the light grey on a desktop turned dark)."""
    label.setForegroundRole(QPalette.ColorRole.PlaceholderText)


def mix(a: QColor, b: QColor, t: float) -> QColor:
    """a blended with b: t = 0 is a, 1 is b."""
    return QColor(round(a.red() + t * (b.red() - a.red())),
                  round(a.green() + t * (b.green() - a.green())),
                  round(a.blue() + t * (b.blue() - a.blue())))


def plot_colors(palette: QPalette) -> PlotColors:
    base = palette.color(QPalette.ColorRole.Base)
    text = palette.color(QPalette.ColorRole.Text)
    fill = QColor(base)
    fill.setAlpha(200)
    return PlotColors(background=base, text=mix(text, base, 0.15), axis=mix(text, base, 0.45),
                      muted=palette.color(QPalette.ColorRole.PlaceholderText), fill=fill,
                      dark=base.lightness() < text.lightness())


def scaled_pen(color, width: float, dpr: float, **options) -> QPen:
    """A cosmetic pen `width` logical pixels wide on a screen of this pixel ratio."""
    return pg.mkPen(color, width=width * dpr, **options)


class IterationAxis(pg.AxisItem):
    """An axis of whole counts: 1,500,000, never 1.5e+06."""

    def tickStrings(self, values, scale, spacing):  # noqa: N802 (pyqtgraph's name)
        if spacing * scale < 1:  # zoomed in below one iteration: fractions, as pyqtgraph does
            return super().tickStrings(values, scale, spacing)
        return [f"{v * scale:,.0f}" for v in values]


class CurveSample(pg.ItemSample):
    """A legend entry's line and symbol, drawn whether or not its curve is shown right now.

    pyqtgraph's sample draws a crossed-out eye for a hidden curve and is not
    repainted when the curve shows again, so a curve listed while hidden (the
    held-out curve, listed before its first redraw) kept the eye after training
    stopped. Our legends list only the curves they show, so the line is always right;
    a click does not hide the curve either (nothing would bring it back).
    """

    def paint(self, p, *args) -> None:
        """pyqtgraph's ItemSample.paint for a line with an optional symbol, less the eye."""
        opts = self.item.opts
        if opts.get("antialias"):
            p.setRenderHint(p.RenderHint.Antialiasing)
        p.setPen(pg.mkPen(opts["pen"]))
        p.drawLine(0, 11, 20, 11)
        symbol = opts.get("symbol")
        if symbol is not None:
            dots = self.item.scatter.opts if isinstance(self.item, pg.PlotDataItem) else opts
            p.translate(10, 10)
            drawSymbol(p, symbol, dots["size"], pg.mkPen(dots["pen"]), pg.mkBrush(dots["brush"]))

    def mouseClickEvent(self, event) -> None:  # noqa: N802 (pyqtgraph's name)
        event.ignore()


class BelowLegend(pg.LegendItem):
    """A legend in one row under the plot's x axis, out of the data's way."""

    def __init__(self, item: pg.PlotItem, columns: int = 3) -> None:
        super().__init__(colCount=columns, verSpacing=-4, sampleType=CurveSample)
        self.layout.setContentsMargins(0, 0, 0, 0)
        item.layout.addItem(self, 4, 1)  # below the bottom axis (row 3) under the view
        item.legend = self  # so plot(name=...) adds its curve here

    def updateSize(self) -> None:  # noqa: N802 (pyqtgraph's name)
        """Ask the plot's layout for room; pyqtgraph's own would move the legend to (0, 0)."""
        self.layout.activate()
        hint = self.layout.preferredSize()
        self.setMinimumHeight(hint.height())
        self.setMaximumHeight(hint.height())
        self.updateGeometry()

    def mouseDragEvent(self, ev) -> None:  # noqa: N802 (pyqtgraph's name)
        ev.ignore()  # the layout places it


def new_plot(left_label: str, widget_class: type = pg.PlotWidget) -> pg.PlotWidget:
    """A plot with the shared grid, axis titles and the iteration axis at the bottom."""
    widget = widget_class(axisItems={"bottom": IterationAxis("bottom")})
    item = widget.getPlotItem()
    item.showGrid(x=True, y=True, alpha=0.2)
    item.setLabel("bottom", "iteration")
    item.setLabel("left", left_label)
    item.setMenuEnabled(False)
    return widget


def apply_colors(widget: pg.PlotWidget, palette: QPalette,
                 legend: pg.LegendItem | None = None) -> PlotColors:
    """Background, axes and legend labels from the palette; pens scaled for the screen."""
    colors = plot_colors(palette)
    dpr = widget.devicePixelRatioF()
    widget.setBackground(colors.background)
    item = widget.getPlotItem()
    for side in ("left", "bottom"):
        axis = item.getAxis(side)
        axis.setPen(scaled_pen(colors.axis, 1, dpr))
        axis.setTextPen(pg.mkPen(colors.text))
    if legend is not None:
        legend.setLabelTextColor(colors.text)
        legend.setBrush(None)
        legend.setPen(None)
        for _sample, label in legend.items:  # labels already there keep their colour otherwise
            label.setText(label.text, color=colors.text)
    return colors
