"""The app's icon, drawn with QPainter so it needs no file at run time.

A long-necked dinosaur on a green tile, above a falling loss curve.
`python -m dinogui.icon resources/` writes it as PNGs for desktop files and docs.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QIcon,
    QImage,
    QLinearGradient,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
)

SIZES = (16, 24, 32, 48, 64, 128, 256)


def paint_icon(p: QPainter, size: float) -> None:
    """Draw the icon into a size x size square (coordinates below are for 100 x 100)."""
    p.save()
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.scale(size / 100.0, size / 100.0)
    tile = QLinearGradient(0, 0, 0, 100)
    tile.setColorAt(0.0, QColor(76, 175, 110))
    tile.setColorAt(1.0, QColor(32, 112, 78))
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QBrush(tile))
    p.drawRoundedRect(QRectF(4, 4, 92, 92), 20, 20)

    # the loss curve: high at the left, falling and flattening
    curve = QPainterPath(QPointF(14, 40))
    curve.cubicTo(QPointF(26, 76), QPointF(46, 82), QPointF(86, 84))
    p.setPen(QPen(QColor(255, 214, 102), 5, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawPath(curve)

    # the dinosaur: body, tail, neck and head as one white shape, legs below
    white = QColor(250, 250, 245)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(white)
    body = QPainterPath()
    body.addEllipse(QRectF(30, 42, 40, 24))
    tail = QPainterPath(QPointF(34, 50))
    tail.cubicTo(QPointF(22, 56), QPointF(16, 62), QPointF(10, 66))
    tail.cubicTo(QPointF(20, 66), QPointF(30, 64), QPointF(38, 60))
    neck = QPainterPath(QPointF(58, 48))
    neck.cubicTo(QPointF(64, 36), QPointF(66, 24), QPointF(70, 18))
    neck.lineTo(QPointF(78, 20))
    neck.cubicTo(QPointF(74, 28), QPointF(72, 42), QPointF(68, 54))
    head = QPainterPath()
    head.addEllipse(QRectF(67, 12, 17, 11))
    shape = body.united(tail).united(neck).united(head)
    p.drawPath(shape)
    for x in (36, 44, 56, 63):
        p.drawRoundedRect(QRectF(x, 60, 6, 17), 2.5, 2.5)
    p.setBrush(QColor(32, 112, 78))
    p.drawEllipse(QPointF(78, 16.5), 1.6, 1.6)  # the eye
    p.restore()


def icon_image(size: int) -> QImage:
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    p = QPainter(image)
    paint_icon(p, size)
    p.end()
    return image


def app_icon() -> QIcon:
    icon = QIcon()
    for size in SIZES:
        icon.addPixmap(QPixmap.fromImage(icon_image(size)))
    return icon


def main(argv: list[str] | None = None) -> int:
    """Write dinogui-<size>.png for each size into the folder given (default resources/)."""
    from PySide6.QtGui import QGuiApplication

    argv = sys.argv[1:] if argv is None else argv
    folder = Path(argv[0] if argv else "resources")
    folder.mkdir(parents=True, exist_ok=True)
    _app = QGuiApplication.instance() or QGuiApplication([])
    for size in (48, 256):
        icon_image(size).save(str(folder / f"dinogui-{size}.png"))
    print(f"wrote icons to {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
