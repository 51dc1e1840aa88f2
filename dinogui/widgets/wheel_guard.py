"""The mouse wheel scrolls the page, not the field under it.

Qt's spin boxes and combo boxes take the wheel even without focus: scrolling the
settings column over Hidden units changed it (and rebuilt the model) notch by notch.
Guarded fields take the wheel only once clicked or tabbed into; until then the wheel
goes on to the scroll area that holds them, as in browsers and most desktop apps.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QWidget,
)

GUARDED = (QAbstractSpinBox, QComboBox)


class WheelGuard(QObject):
    """An event filter: a wheel event on an unfocused field goes to the scroll area around it."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() != QEvent.Type.Wheel or not isinstance(watched, QWidget) \
                or watched.hasFocus():
            return False
        area = _scroll_area_of(watched)
        if area is None:
            event.ignore()  # Qt hands an ignored (real) wheel event on to the parent
            return True
        # handed over explicitly: Qt propagates only the window system's own wheel events
        delta = event.angleDelta()
        sideways = abs(delta.x()) > abs(delta.y())
        bar = area.horizontalScrollBar() if sideways else area.verticalScrollBar()
        QApplication.sendEvent(bar, event)
        event.accept()
        return True


def _scroll_area_of(widget: QWidget) -> QAbstractScrollArea | None:
    parent = widget.parentWidget()
    while parent is not None and not isinstance(parent, QAbstractScrollArea):
        parent = parent.parentWidget()
    return parent


def guard_wheel(root: QWidget) -> WheelGuard:
    """Guard every spin box and combo box under root (built by now); the guard lives as long
    as root."""
    guard = root.findChild(WheelGuard, "wheel-guard")
    if guard is None:
        guard = WheelGuard(root)
        guard.setObjectName("wheel-guard")
    for kind in GUARDED:
        for field in root.findChildren(kind):
            # the wheel no longer gives focus (WheelFocus would, on the first notch)
            field.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            field.removeEventFilter(guard)
            field.installEventFilter(guard)
    return guard
