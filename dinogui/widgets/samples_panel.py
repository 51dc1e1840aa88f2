"""Drawing names on demand: seed, count, temperature and length controls, and the list.

Names that already exist in the corpus are greyed and marked, so the new
inventions stand out. The list keeps the names as the model wrote them;
display_name() capitalises them as the seed prints them.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QBrush, QColor, QFont, QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSpinBox,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.sampling import MAX_LEN, display_name

KNOWN_COLOR = QColor(130, 130, 130)


@dataclass(frozen=True)
class SampleRequest:
    count: int
    seed: int
    temperature: float
    max_len: int


class SamplesPanel(QGroupBox):
    def __init__(self, sample: QAction, copy: QAction, export: QAction,
                 parent: QWidget | None = None) -> None:
        super().__init__("Sample names", parent)
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setToolTip("The same seed draws the same names from the same model "
                             "(as `dinogui sample --seed`)")
        self.count = QSpinBox()
        self.count.setRange(1, 1000)
        self.count.setValue(10)
        self.count.setToolTip("How many names to draw")
        self.temperature = QDoubleSpinBox()
        self.temperature.setRange(0.05, 5.0)
        self.temperature.setSingleStep(0.1)
        self.temperature.setValue(1.0)
        self.temperature.setToolTip("Below 1: safer, more typical names; above 1: wilder ones")
        self.max_len = QSpinBox()
        self.max_len.setRange(1, 1000)
        self.max_len.setValue(MAX_LEN)
        self.max_len.setToolTip("Stop a name after this many characters (the seed: 50)")

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Count:", self.count)
        form.addRow("Seed:", self.seed)
        form.addRow("Temperature:", self.temperature)
        form.addRow("Max length:", self.max_len)

        self.list = QTreeWidget()
        self.list.setColumnCount(2)
        self.list.setHeaderLabels(["Name", "In corpus"])
        self.list.setRootIsDecorated(False)
        self.list.setUniformRowHeights(True)
        self.list.setAlternatingRowColors(True)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        header = self.list.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.list.addAction(copy)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.summary = QLabel("Press Sample (Ctrl+G) to draw names from the model.")
        self.summary.setWordWrap(True)

        buttons = QHBoxLayout()
        for action in (sample, copy, export):
            button = QToolButton()
            button.setDefaultAction(action)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            buttons.addWidget(button)
        buttons.addStretch(1)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.summary)
        self._names: list[str] = []

    def request(self) -> SampleRequest:
        return SampleRequest(self.count.value(), self.seed.value(), self.temperature.value(),
                             self.max_len.value())

    def show_names(self, names: list[str], known: frozenset[str], how: str) -> None:
        """List freshly drawn names; `how` says where they came from (shown below)."""
        self._names = list(names)
        self.list.clear()
        italic = QFont(self.list.font())
        italic.setItalic(True)
        items = []
        for name in names:
            exists = name in known
            item = QTreeWidgetItem([display_name(name), "✓ known" if exists else ""])
            if exists:
                for col in (0, 1):
                    item.setForeground(col, QBrush(KNOWN_COLOR))
                item.setFont(0, italic)
                item.setToolTip(0, "This name is already in the corpus")
            items.append(item)
        self.list.addTopLevelItems(items)
        n_known = sum(name in known for name in names)
        new = len(names) - n_known
        self.summary.setText(f"{len(names)} names, {new} new, {n_known} already in the corpus "
                             f"· {how}")

    def clear(self) -> None:
        self._names = []
        self.list.clear()

    def names(self) -> list[str]:
        """The listed names as displayed (capitalised)."""
        return [display_name(n) for n in self._names]

    def selected_or_all(self) -> list[str]:
        rows = sorted(self.list.indexOfTopLevelItem(i) for i in self.list.selectedItems())
        shown = self.names()
        return [shown[r] for r in rows] if rows else shown

    def copy_to_clipboard(self) -> int:
        names = self.selected_or_all()
        if names:
            QGuiApplication.clipboard().setText("\n".join(names) + "\n")
        return len(names)

    def values(self) -> dict:
        r = self.request()
        return {"count": r.count, "seed": r.seed, "temperature": r.temperature,
                "max_len": r.max_len}

    def set_values(self, values: dict) -> None:
        for name in ("count", "seed", "temperature", "max_len"):
            value = values.get(name)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                getattr(self, name).setValue(value)
