"""Input fields built from core.settings: the range, kind and meaning of a field are its
setting's, so the window takes exactly the values the command line and checkpoints take.

Qt's own spin boxes clamp or round a value without a word (a learning rate of 1.5e-5 shown
with five decimals becomes 2e-5); these keep every value they are given and refuse an
out-of-range one out loud.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QAbstractSpinBox, QComboBox, QDoubleSpinBox, QSpinBox

from dinogui.core.settings import MAX_SEED, TINY, Setting

QT_INT_MAX = 2**31 - 1  # QSpinBox's range; larger whole numbers use a double box
FLOAT_MAX = sys.float_info.max


class _RangeChecked:
    """A spin box that lets a number outside its range be typed, then refuses it out loud.

    Qt's own boxes swallow the keystroke or clamp the value without a word;
    these keep the previous value and emit `refused` with a message that
    gives the range (the panel shows it).
    """

    def _typed_number(self, text: str) -> float | None:
        text = text.strip()
        if self.specialValueText() and text == self.specialValueText():
            return None
        locale = self.locale()
        number, ok = locale.toDouble(text.replace(locale.groupSeparator(), ""))
        return number if ok else None

    def validate(self, text: str, pos: int):  # noqa: D102 (Qt's)
        state = super().validate(text, pos)
        if state[0] == QValidator.State.Acceptable:
            return state
        number = self._typed_number(text)
        if text.strip() in ("-", "+") or (
                number is not None and not self.minimum() <= number <= self.maximum()):
            return QValidator.State.Intermediate, text, pos  # out of range: judged at Enter
        return state

    def fixup(self, text: str) -> str:  # noqa: D102 (Qt's): editing ended on a bad value
        number = self._typed_number(text)
        if number is not None and not self.minimum() <= number <= self.maximum():
            self.refused.emit(number)
        return super().fixup(text)


class CheckedSpinBox(_RangeChecked, QSpinBox):
    refused = Signal(float)  # the out-of-range number typed (the value is kept)


class CheckedDoubleSpinBox(_RangeChecked, QDoubleSpinBox):
    refused = Signal(float)


class RealBox(CheckedDoubleSpinBox):
    """A real number shown as typed (0.00001, 1.5e-05, 3e+37), never rounded to a fixed
    number of decimals."""

    DIGITS = 12  # significant digits shown

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setDecimals(323)  # every double keeps its value (Qt rounds to `decimals`)
        self.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)

    def textFromValue(self, value: float) -> str:  # noqa: N802 (Qt's)
        return self.locale().toString(value, "g", self.DIGITS)

    def valueFromText(self, text: str) -> float:  # noqa: N802 (Qt's)
        number = self._typed_number(text)
        return self.value() if number is None else number


class SeedBox(CheckedDoubleSpinBox):
    """A seed, 0 to 4294967295 as the command line takes it: QSpinBox stops at 2**31 - 1.

    A double holds every such integer exactly; shown without decimals, read as an int.
    """

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setDecimals(0)
        self.setRange(0, MAX_SEED)

    def value(self) -> int:  # type: ignore[override]
        return int(super().value())


def field_for(setting: Setting, tip: str, labels: dict[str, str] | None = None):
    """The field of a setting: a combo box of its choices, or a checked spin box of its range.

    The tooltip ends with the values it takes, from the table.
    """
    box = _box_for(setting, labels)
    box.setting = setting  # what the panel says when a typed value is refused
    if setting.choices:
        box.setToolTip(tip)
    else:
        box.setKeyboardTracking(False)  # valueChanged once the user finishes typing
        box.setToolTip(f"{tip}\nTakes {setting.rule()}.")
    return box


def _box_for(setting: Setting, labels: dict[str, str] | None):
    if setting.choices:
        box = QComboBox()
        for choice in setting.choices:
            box.addItem((labels or {}).get(choice, choice), choice)
        return box
    if setting.kind is int:
        box = SeedBox() if (setting.high or 0) > QT_INT_MAX else CheckedSpinBox()
        if isinstance(box, QSpinBox):
            box.setGroupSeparatorShown(True)
        box.setRange(int(setting.low), int(setting.high if setting.high is not None
                                           else QT_INT_MAX))
    else:
        box = RealBox()
        if setting.positive:
            box.setRange(TINY, FLOAT_MAX)
        else:
            box.setRange(setting.low, setting.high if setting.high is not None else FLOAT_MAX)
    if setting.off:
        box.setSpecialValueText(setting.off)
    return box
