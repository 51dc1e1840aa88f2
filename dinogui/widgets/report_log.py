"""The log pane: the seed's reports (iteration, smoothed loss, seven names) as training goes,
and a line for each thing the window did (loaded, paused, saved)."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase, QTextCursor, QTextOption
from PySide6.QtWidgets import QPlainTextEdit, QWidget

from dinogui.core.sampling import display_name
from dinogui.document.messages import Report

MAX_LINES = 20_000  # older lines are dropped, so a long run cannot fill the memory


class ReportLog(QPlainTextEdit):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setMaximumBlockCount(MAX_LINES)
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.setPlaceholderText("Reports appear here while training: every report interval, "
                                "the smoothed loss and a few names drawn from the model.")
        # long lines wrap at the pane's edge: scrolling sideways would hide every line's start
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.setWordWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

    def add_reports(self, reports: list[Report]) -> None:
        """The reports as `dinogui train` prints them."""
        lines = []
        for r in reports:
            lines.append(f"Iteration: {r.iteration}, Loss: {r.smooth:f} "
                         f"(per character {r.smooth_char:.4f})")
            if r.val_loss is not None:
                lines.append(f"held-out loss per character {r.val_loss:.4f}")
            lines.extend(display_name(n) for n in r.samples)
            lines.append("")
        if lines:
            self._append("\n".join(lines))

    def note(self, text: str) -> None:
        """A line about what happened, time-stamped."""
        self._append(f"[{time.strftime('%H:%M:%S')}] {text}")

    def _append(self, text: str) -> None:
        bar = self.verticalScrollBar()
        at_end = bar.value() >= bar.maximum() - 2
        self.appendPlainText(text)
        if at_end:  # follow the newest lines unless the user scrolled back to read
            self.moveCursor(QTextCursor.MoveOperation.End)
            bar.setValue(bar.maximum())
