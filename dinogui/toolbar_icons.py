"""The toolbar's Start, Pause, Step and Sample icons, drawn in the palette's text colour.

The style's media icons are black whatever the palette, so on a dark desktop they
vanished into the toolbar. These are drawn with QPainter in ButtonText (and its
disabled colour for the greyed state), and drawn again when the palette changes
(MainWindow.changeEvent), so they always contrast with the window.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPalette, QPixmap, QPolygonF

from dinogui.widgets.plot_style import mix

SIZES = (16, 20, 24, 32, 48)  # logical sizes; each also drawn for 2x screens
Shape = Callable[[QPainter, QColor], None]  # draws into a 24 x 24 square


def _triangle(p: QPainter, left: float, right: float) -> None:
    p.drawPolygon(QPolygonF([QPointF(left, 5), QPointF(right, 12), QPointF(left, 19)]))


def draw_start(p: QPainter, color: QColor) -> None:
    """A play triangle."""
    p.setBrush(color)
    _triangle(p, 7, 19)


def draw_pause(p: QPainter, color: QColor) -> None:
    """Two bars."""
    p.setBrush(color)
    p.drawRoundedRect(QRectF(6, 5, 4.5, 14), 1, 1)
    p.drawRoundedRect(QRectF(13.5, 5, 4.5, 14), 1, 1)


def draw_step(p: QPainter, color: QColor) -> None:
    """A play triangle against a bar: one step forward, then stop."""
    p.setBrush(color)
    _triangle(p, 5, 15)
    p.drawRoundedRect(QRectF(16, 5, 3.5, 14), 1, 1)


def draw_sample(p: QPainter, color: QColor) -> None:
    """Three lines of text (names) with a spark: names drawn from the model."""
    p.setBrush(color)
    for y, width in ((6, 9), (11, 12), (16, 7)):
        p.drawRoundedRect(QRectF(3, y, width, 2.6), 1.3, 1.3)
    spark = QPainterPath()  # a four-pointed star
    cx, cy, r, w = 18.5, 14.5, 5.5, 1.4
    spark.moveTo(cx, cy - r)
    for dx, dy, ex, ey in ((w, -w, r, 0), (w, w, 0, r), (-w, w, -r, 0), (-w, -w, 0, -r)):
        spark.lineTo(cx + dx, cy + dy)
        spark.lineTo(cx + ex, cy + ey)
    p.drawPath(spark)


SHAPES: dict[str, Shape] = {"start": draw_start, "pause": draw_pause, "step": draw_step,
                            "sample": draw_sample}


def shape_pixmap(shape: Shape, size: int, color: QColor, dpr: float = 1.0) -> QPixmap:
    """The shape in `color` on a transparent size x size (logical) pixmap."""
    pixmap = QPixmap(round(size * dpr), round(size * dpr))
    pixmap.setDevicePixelRatio(dpr)
    pixmap.fill(Qt.GlobalColor.transparent)
    p = QPainter(pixmap)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(Qt.PenStyle.NoPen)
    p.scale(size / 24.0, size / 24.0)
    shape(p, color)
    p.end()
    return pixmap


def palette_icon(shape: Shape, palette: QPalette) -> QIcon:
    """An icon of the shape in the palette's button text colour, greyed when disabled."""
    icon = QIcon()
    text = palette.color(QPalette.ColorGroup.Active, QPalette.ColorRole.ButtonText)
    # greyed: halfway to the window colour (a palette set with one colour per role has the
    # same text colour when disabled, and the disabled Pause would look enabled)
    grey = mix(text, palette.color(QPalette.ColorGroup.Active, QPalette.ColorRole.Window), 0.55)
    for mode, color in ((QIcon.Mode.Normal, text), (QIcon.Mode.Active, text),
                        (QIcon.Mode.Disabled, grey)):
        for size in SIZES:
            for dpr in (1.0, 2.0):
                icon.addPixmap(shape_pixmap(shape, size, color, dpr), mode)
    return icon


def icons_for(palette: QPalette) -> dict[str, QIcon]:
    """Every toolbar icon drawn for this palette, by name (the keys of SHAPES)."""
    return {name: palette_icon(shape, palette) for name, shape in SHAPES.items()}


def paint_action_icons(actions, palette: QPalette) -> None:
    """Give the actions named in SHAPES (an Actions: start, pause, step, sample) their icons."""
    for name, icon in icons_for(palette).items():
        getattr(actions, name).setIcon(icon)
