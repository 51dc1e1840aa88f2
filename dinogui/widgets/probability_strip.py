"""The Inspector's strip: one coloured cell per predicted character, and its colours."""

from __future__ import annotations

import math

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QKeyEvent, QMouseEvent, QPainter, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from dinogui.core.scoring import Inspection

END_SHOWN = "⏎"  # how the end-of-name symbol is drawn
SPACE_SHOWN = "␣"  # a space, visibly
CELL_W, CELL_H = 41, 56
INK = QColor(20, 20, 20)  # text on the light probability colours, whatever the palette


def shown(ch: str) -> str:
    """A character as the Inspector draws it: the end as ⏎, a space as ␣."""
    return {"\n": END_SHOWN, " ": SPACE_SHOWN}.get(ch, ch)


def unshown(text: str) -> str:
    """The character behind shown()."""
    return {END_SHOWN: "\n", SPACE_SHOWN: " "}.get(text, text)


def error_color(palette: QPalette) -> QColor:
    """Red that reads on the palette's background."""
    dark = palette.color(QPalette.ColorRole.Base).lightness() < 128
    return QColor(255, 120, 120) if dark else QColor(176, 0, 32)


def prob_color(p: float) -> QColor:
    """Red (unlikely) through yellow to green (likely); sqrt spreads the small values."""
    t = math.sqrt(min(max(p, 0.0), 1.0))
    return QColor.fromHsvF(t / 3.0, 0.55, 0.97)


def percent(p: float) -> str:
    """A probability as a short percentage that never rounds a non-certainty up to 100%."""
    if p >= 0.1:
        return f"{100 * p:.0f}%" if 100 * p < 99.5 or p == 1.0 else f"{min(100 * p, 99.9):.1f}%"
    if p >= 0.001:
        return f"{100 * p:.1f}%"
    return "<0.1%"


class ProbabilityStrip(QWidget):
    """One coloured cell per predicted character: the character and its probability.

    Click a cell, or move with the arrow keys, to select a position.
    """

    selected_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.inspection: Inspection | None = None
        self.selected = -1
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.setToolTip("The probability the model gave each next character (⏎ ends the "
                        "name).\nClick a cell or use ←/→ to see the alternatives there.")

    def set_inspection(self, inspection: Inspection | None) -> None:
        self.inspection = inspection
        n = self.cells
        self.selected = min(max(self.selected, 0), n - 1) if n else -1
        self.updateGeometry()
        self.resize(self.sizeHint())
        self.update()
        self.selected_changed.emit(self.selected)

    @property
    def cells(self) -> int:
        return 0 if self.inspection is None else len(self.inspection.targets)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        return QSize(max(1, self.cells) * CELL_W + 4, CELL_H + 4)

    def cell_texts(self) -> list[tuple[str, str]]:
        """What each cell shows: (character, percentage)."""
        ins = self.inspection
        if ins is None:
            return []
        return [(shown(ins.chars[c]), percent(float(p)))
                for c, p in zip(ins.targets, ins.p_target, strict=True)]

    def cell_rect(self, t: int) -> QRectF:
        return QRectF(2 + t * CELL_W, 2, CELL_W - 3, CELL_H)

    def select(self, t: int) -> None:
        if self.cells and 0 <= t < self.cells and t != self.selected:
            self.selected = t
            self.update()
            self.selected_changed.emit(t)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        self.select(int((event.position().x() - 2) // CELL_W))

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        moves = {Qt.Key.Key_Left: self.selected - 1, Qt.Key.Key_Right: self.selected + 1,
                 Qt.Key.Key_Home: 0, Qt.Key.Key_End: self.cells - 1}
        if event.key() in moves:
            self.select(moves[event.key()])
        else:
            super().keyPressEvent(event)

    def paintEvent(self, _event) -> None:  # noqa: N802
        ins = self.inspection
        if ins is None:
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        big, small = QFont(self.font()), QFont(self.font())
        big.setPointSizeF(self.font().pointSizeF() * 1.5)
        big.setBold(True)
        small.setPointSizeF(self.font().pointSizeF() * 0.9)
        texts = self.cell_texts()
        ink = self.palette().color(QPalette.ColorRole.WindowText)  # the selected cell's frame
        for t, (char, pct) in enumerate(texts):
            rect = self.cell_rect(t)
            p = float(ins.p_target[t])
            chosen = t == self.selected
            painter.setPen(QPen(ink, 2.5) if chosen else QPen(QColor(160, 160, 160), 1))
            painter.setBrush(QBrush(prob_color(p)))
            painter.drawRoundedRect(rect, 4, 4)
            painter.setPen(INK)
            painter.setFont(big)
            top = QRectF(rect.x(), rect.y() + 2, rect.width(), rect.height() * 0.58)
            painter.drawText(top, Qt.AlignmentFlag.AlignCenter, char)
            painter.setFont(small)
            bottom = QRectF(rect.x(), rect.y() + rect.height() * 0.58, rect.width(),
                            rect.height() * 0.38)
            painter.drawText(bottom, Qt.AlignmentFlag.AlignCenter, pct)
        if self.hasFocus() and self.selected >= 0:
            painter.setPen(QPen(self.palette().color(QPalette.ColorRole.Highlight), 1,
                                Qt.PenStyle.DashLine))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(self.cell_rect(self.selected).adjusted(-2, -2, 2, 2), 5, 5)
        painter.end()
