"""Columns that share a table's width, so a narrow window never scrolls a table sideways.

Each column gets the width its contents want when they all fit; otherwise the widths
shrink in proportion (never below MIN_COLUMN) and the cells elide with "…", their full
text a hover away. Refitted when the view is resized or its rows change.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView
from shiboken6 import isValid

MIN_COLUMN = 36


def fitted_widths(wants: list[int], room: int) -> list[int]:
    """Widths that add up to `room`: the wants, the last column taking what is left, or
    shrunk in proportion when they do not fit."""
    if not wants:
        return []
    total = sum(wants)
    if total <= room:
        return [*wants[:-1], wants[-1] + room - total]
    widths = [max(MIN_COLUMN, w * room // total) for w in wants]
    widths[-1] = max(MIN_COLUMN, room - sum(widths[:-1]))
    return widths


class ColumnFitter(QObject):
    """Keeps a tree's or table's columns within its width (see the module's docstring)."""

    def __init__(self, view: QAbstractItemView, header: QHeaderView) -> None:
        super().__init__(view)
        self.view, self.header = view, header
        view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        view.setTextElideMode(Qt.TextElideMode.ElideRight)
        view.viewport().installEventFilter(self)
        model = view.model()
        for signal in (model.rowsInserted, model.rowsRemoved, model.modelReset,
                       model.dataChanged, model.layoutChanged, model.columnsInserted,
                       model.headerDataChanged):
            signal.connect(self.fit)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.Resize:
            self.fit()
        return False

    def fit(self, *_args) -> None:
        if not isValid(self.header) or not isValid(self.view):
            return  # the view is being destroyed
        header, n = self.header, self.header.count()
        shown = [i for i in range(n) if not header.isSectionHidden(i)]
        wants = [max(self.view.sizeHintForColumn(i), header.sectionSizeHint(i)) + 4
                 for i in shown]
        room = self.view.viewport().width()
        if room <= 0:
            return
        for i, width in zip(shown, fitted_widths(wants, room), strict=True):
            header.resizeSection(i, width)
