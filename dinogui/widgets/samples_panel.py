"""Drawing names on demand, with the settings of `dinogui sample`, and starring favourites.

The controls are those of `dinogui sample`: count, seed, temperature, top-k,
top-p, length limits, a beginning and an ending, "new names only", and "most
likely" (a beam search for the likeliest names instead of drawing); the same
settings draw the same names as the command line. Each drawn name is listed
with its log-likelihood per character, the nearest corpus name and its edit
distance, and whether the corpus holds it (such names are greyed), so it is
plain whether the model invents or copies. Every column sorts; # is the order
drawn.

A click on a name's star (or Ctrl+D on the selection) keeps it in the
favourites below, which outlive re-sampling; each remembers the model and
settings that drew it (dinogui.document.favourites), for the export.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QBrush, QColor, QFont, QGuiApplication, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QSplitter,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from dinogui.core.sample_spec import MAX_TOP_P, MIN_TOP_P
from dinogui.core.sampling import MAX_LEN, display_name
from dinogui.core.settings import SAMPLING
from dinogui.document.favourites import Favourites, Sampled
from dinogui.document.sample_request import SampleRequest
from dinogui.widgets.fields import field_for
from dinogui.widgets.hyperparams import SeedBox

KNOWN_COLOR = QColor(130, 130, 130)
STAR_COLOR = QColor(214, 160, 0)
STAR, UNSTAR = "★", "☆"
IN_CORPUS = "✓ in corpus"
PROMPT = "Press Sample (Ctrl+G) to draw names from the model."
COLUMNS = ("★", "#", "Name", "Log-lik", "Nearest (edits)")
COL_STAR, COL_INDEX, COL_NAME, COL_SCORE, COL_NEAREST = range(len(COLUMNS))
HEADER_TIPS = {
    COL_STAR: "Click a star (or press Ctrl+D) to keep the name in the favourites",
    COL_INDEX: "The order drawn: the same settings and seed give this name at this place",
    COL_NAME: "The name as drawn (capitalised as the original exercise prints it)",
    COL_SCORE: "Log-likelihood per character (nats): how typical the model finds the name; "
               "closer to 0 is more typical. Minus the loss per character.",
    COL_NEAREST: "The closest corpus name and its edit distance (letters inserted, deleted "
                 "or changed), or \"✓ in corpus\" when the corpus holds the name itself",
}

# The window draws at most this many names at once: a list the panel shows and scores
# (`dinogui sample` streams any count the settings table allows).
WINDOW_MAX_COUNT = 1000


def problem_style(palette: QPalette) -> str:
    """Dark orange on a light background, light orange on a dark one."""
    dark = palette.color(QPalette.ColorRole.Base).lightness() < 128
    return f"color: {'#f0a060' if dark else '#a4490c'};"


class _Row(QTreeWidgetItem):
    """One sampled name; sorts by the value behind each column, not its text."""

    def __init__(self, sampled: Sampled, starred: bool, order: int | None = None) -> None:
        near = IN_CORPUS if sampled.known else (
            f"{display_name(sampled.nearest)} ({sampled.distance})")
        super().__init__(["", str(sampled.index + 1), sampled.display,
                          f"{sampled.loglik_per_char:.2f}", near])
        self.sampled = sampled
        self.order = sampled.index if order is None else order  # the star column's tie order
        self.set_starred(starred)
        for col in (COL_INDEX, COL_SCORE):
            self.setTextAlignment(col, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.setTextAlignment(COL_STAR, Qt.AlignmentFlag.AlignCenter)
        if sampled.known:
            for col in range(1, len(COLUMNS)):
                self.setForeground(col, QBrush(KNOWN_COLOR))
            for col in (COL_NAME, COL_NEAREST):
                self.setToolTip(col, f"{sampled.display}: already in the corpus")
        else:
            self.setToolTip(COL_NAME, sampled.display)
            self.setToolTip(COL_NEAREST, f"{sampled.distance} edit"
                            f"{'s' if sampled.distance != 1 else ''} from "
                            f"{display_name(sampled.nearest)}, the closest corpus name")

    def set_starred(self, starred: bool) -> None:
        self.starred = starred
        self.setText(COL_STAR, STAR if starred else UNSTAR)
        self.setForeground(COL_STAR, QBrush(STAR_COLOR if starred else KNOWN_COLOR))
        self.setToolTip(COL_STAR, "A favourite: click to unstar" if starred
                        else "Click to keep this name in the favourites")

    def key(self, col: int):
        s = self.sampled
        return {COL_STAR: (not self.starred, self.order), COL_INDEX: s.index,
                COL_NAME: s.name, COL_SCORE: s.loglik_per_char,
                COL_NEAREST: (s.distance, s.nearest)}[col]

    def __lt__(self, other: QTreeWidgetItem) -> bool:
        col = self.treeWidget().sortColumn() if self.treeWidget() else COL_INDEX
        if isinstance(other, _Row):
            return self.key(col) < other.key(col)
        return super().__lt__(other)


def _name_list() -> QTreeWidget:
    tree = QTreeWidget()
    tree.setColumnCount(len(COLUMNS))
    tree.setHeaderLabels(list(COLUMNS))
    for col, tip in HEADER_TIPS.items():
        tree.headerItem().setToolTip(col, tip)
    tree.setRootIsDecorated(False)
    tree.setUniformRowHeights(True)
    tree.setAlternatingRowColors(True)
    tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
    tree.setSortingEnabled(True)
    tree.sortByColumn(COL_INDEX, Qt.SortOrder.AscendingOrder)
    # a long name loses its middle, not its end: the nearest name keeps its "(edits)"
    tree.setTextElideMode(Qt.TextElideMode.ElideMiddle)
    header = tree.header()
    header.setStretchLastSection(False)
    header.setMinimumSectionSize(18)
    # narrow columns sized to what they hold (to contents, they would keep room for the
    # sort arrow), names to fit (_fit_names), the nearest name the rest
    fm = tree.fontMetrics()
    for col, widest in ((COL_STAR, "★"), (COL_INDEX, "1000"), (COL_SCORE, "Log-lik")):
        header.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
        tree.setColumnWidth(col, fm.horizontalAdvance(widest) + 12)
    header.setSectionResizeMode(COL_NAME, QHeaderView.ResizeMode.Interactive)
    header.setSectionResizeMode(COL_NEAREST, QHeaderView.ResizeMode.Stretch)
    tree.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
    return tree


BEST_TIP = ("Draw from the weights with the lowest held-out loss so far, as `dinogui sample "
            "--best` does, not from the latest ones.\nNeeds names held out (the default "
            "preset's held-out fraction).")


class SamplesPanel(QGroupBox):
    favourites_changed = Signal()

    def __init__(self, sample: QAction, copy: QAction, export: QAction,
                 parent: QWidget | None = None) -> None:
        super().__init__("Sample names", parent)
        self.favourites = Favourites()
        self._rows: list[Sampled] = []  # the drawn names, in the order drawn
        self._summary = ""  # what the summary says of them (before any "outdated" line)

        self._make_draw_fields()
        self._make_name_fields(sample)
        grid = self._settings_grid()
        self._make_lists(copy)

        buttons = QHBoxLayout()
        for action in (sample, copy, export):
            buttons.addWidget(_button(action))
        buttons.addStretch(1)

        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addLayout(buttons)
        layout.addWidget(self.split, 1)
        self._show_favourites()

    def _make_draw_fields(self) -> None:
        """How names are drawn: count, seed, temperature, top-k, top-p, beam, lengths."""
        self.count = field_for(SAMPLING["count"], "How many names to draw (--count)")
        self.count.setMaximum(WINDOW_MAX_COUNT)
        self.count.setValue(SAMPLING["count"].default)
        self.seed = SeedBox()
        self.seed.setToolTip("The same seed and settings draw the same names from the same "
                             "model (as `dinogui sample --seed`)")
        self.temperature = field_for(SAMPLING["temperature"], "Below 1: safer, more typical "
                                     "names; above 1: wilder ones")
        self.temperature.setValue(SAMPLING["temperature"].default)
        self.top_k = field_for(SAMPLING["top_k"], "Draw each character from the k most likely "
                               "only (1: always the most likely; off: from all)")
        self.top_k.setMinimum(0)  # below the table's range: off (None)
        self.top_k.setSpecialValueText("off")
        self.top_k.setValue(0)
        self.top_p = QDoubleSpinBox()
        self.top_p.setDecimals(2)  # MIN_TOP_P (0.01) is the first value after "off"
        self.top_p.setRange(0.0, MAX_TOP_P)  # 0 shows "off"; one step up is MIN_TOP_P
        self.top_p.setSingleStep(0.05)
        self.top_p.setSpecialValueText("off")
        self.top_p.setToolTip(f"Nucleus sampling: draw each character from the fewest most "
                              f"likely ones whose probability adds up to p ({MIN_TOP_P:g} to "
                              f"{MAX_TOP_P:g}), after top-k; low p: safer names "
                              "(as `dinogui sample --top-p`)")
        self.beam = QCheckBox("Most likely (beam)")
        self.beam.setToolTip("Instead of drawing, list the Count most likely names, most "
                             "likely first, by a beam search as wide as Count (as `dinogui "
                             "sample --beam`).\nNo chance involved: the seed does not matter. "
                             "Ranked by the probability of drawing each name with the "
                             "temperature, top-k, top-p and minimum length set here.")
        self.beam.toggled.connect(lambda on: self.seed.setEnabled(not on))
        self.min_len = field_for(SAMPLING["min_len"], "Names have at least this many letters "
                                 "(the end is held back until then)")
        self.min_len.setSpecialValueText("none")
        self.max_len = field_for(SAMPLING["max_len"], "Stop a name after this many letters "
                                 "(the original exercise: 50)")
        self.max_len.setValue(MAX_LEN)

    def _make_name_fields(self, sample: QAction) -> None:
        """What the names hold: start, end, kind, new only, from the best weights."""
        self.prefix = QLineEdit()
        self.prefix.setPlaceholderText("any")
        self.prefix.setToolTip("Names start with these letters (fed to the model, which "
                               "writes the rest)")
        self.suffix = QLineEdit()
        self.suffix.setPlaceholderText("any")
        self.suffix.setToolTip("Names end with these letters, e.g. saurus (names that do not "
                               "are drawn again)")
        self.kind = QComboBox()  # a labelled model's kinds; typed: a blend "a:0.7,b:0.3"
        self.kind.setEditable(True)
        self.kind.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.kind.lineEdit().setPlaceholderText("every kind alike")
        self.kind.lineEdit().returnPressed.connect(sample.trigger)
        self.set_labels(())
        self.new_only = QCheckBox("New names only")
        self.new_only.setToolTip("Drop names the corpus already holds and draw again; "
                                 "the list says how many were dropped")
        self.best = QCheckBox("From the best weights")
        self.best.setChecked(True)  # on where names are held out (disabled where none are)
        self.set_best_available(None)
        for line in (self.prefix, self.suffix):
            line.returnPressed.connect(sample.trigger)

    def _settings_grid(self) -> QGridLayout:
        """The fields two by two, labels with mnemonics."""
        grid = QGridLayout()
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(4)
        # Alt+letter mnemonics, unique in the window with the menus and the left panel; every
        # letter of "Top-p", "Most likely (beam)" and "Min length" is taken: none there
        rows = [("Co&unt:", self.count, "S&eed:", self.seed),
                ("Te&mperature:", self.temperature, "Top-&k:", self.top_k),
                ("Top-p:", self.top_p, None, self.beam),
                ("Min length:", self.min_len, "Ma&x length:", self.max_len),
                ("Sta&rts with:", self.prefix, "Ends &with:", self.suffix)]
        for r, (la, a, lb, b) in enumerate(rows):
            for c, (text, box) in enumerate(((la, a), (lb, b))):
                if text is None:  # a check box, across the label's column and the field's
                    grid.addWidget(box, r, 2 * c, 1, 2)
                    continue
                label = QLabel(text)
                label.setBuddy(box)
                grid.addWidget(label, r, 2 * c)
                grid.addWidget(box, r, 2 * c + 1)
        for box in (self.count, self.seed, self.temperature, self.top_k, self.top_p,
                    self.min_len, self.max_len, self.prefix, self.suffix):
            box.setMinimumWidth(56)  # a narrow panel narrows the fields, never cuts the labels
        self.kind_label = QLabel("Kind:")
        self.kind_label.setBuddy(self.kind)
        grid.addWidget(self.kind_label, len(rows), 0)
        grid.addWidget(self.kind, len(rows), 1, 1, 3)
        grid.addWidget(self.new_only, len(rows) + 1, 0, 1, 2)
        grid.addWidget(self.best, len(rows) + 1, 2, 1, 2)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        return grid

    def _make_lists(self, copy: QAction) -> None:
        """The drawn names above, the favourites below, in a splitter."""
        self.list = _name_list()
        self.list.addAction(copy)
        self.list.itemClicked.connect(self._clicked)
        self.summary = QLabel(PROMPT)
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.PlainText)

        self.fav_list = _name_list()
        self.fav_list.sortByColumn(COL_STAR, Qt.SortOrder.AscendingOrder)
        self.fav_list.itemClicked.connect(self._clicked)
        self.fav_label = QLabel()
        self.fav_buttons = QHBoxLayout()
        self.fav_buttons.setContentsMargins(0, 0, 0, 0)
        self.fav_buttons.addWidget(self.fav_label, 1)

        drawn = QWidget()
        top = QVBoxLayout(drawn)
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.list, 1)
        top.addWidget(self.summary)
        kept = QWidget()
        bottom = QVBoxLayout(kept)
        bottom.setContentsMargins(0, 4, 0, 0)
        bottom.addLayout(self.fav_buttons)
        bottom.addWidget(self.fav_list, 1)
        self.split = QSplitter(Qt.Orientation.Vertical)
        self.split.addWidget(drawn)
        self.split.addWidget(kept)
        self.split.setStretchFactor(0, 3)
        self.split.setStretchFactor(1, 2)
        self.split.setChildrenCollapsible(False)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        for tree in (self.list, self.fav_list):
            _fit_names(tree)

    def add_favourite_actions(self, toggle: QAction, export: QAction) -> None:
        """Ctrl+D and Export Favourites…, in both lists' context menus and by the favourites."""
        for tree in (self.list, self.fav_list):
            tree.addAction(toggle)
        self.fav_list.addAction(export)
        self.fav_buttons.addWidget(_button(export))

    # -- settings -----------------------------------------------------------------
    def request(self) -> SampleRequest:
        return SampleRequest(self.count.value(), self.seed.value(), self.temperature.value(),
                             self.max_len.value(), self.top_k.value(), self.prefix.text(),
                             self.suffix.text(), self.min_len.value(), self.new_only.isChecked(),
                             self.best.isChecked() and self.best.isEnabled(),
                             self.top_p.value(), self.beam.isChecked(),
                             self.kind.currentText().strip() if self.kind.isEnabled() else "")

    def set_labels(self, labels) -> None:
        """The model's kinds in the Kind control: each label, then a blend of all of them as
        an example of the syntax; a plain model's control is disabled."""
        self.kind.clear()
        self.kind.addItems(list(labels))
        if len(labels) > 1:
            self.kind.addItem(",".join(f"{x}:{1 / len(labels):.2g}" for x in labels))
        self.kind.setEnabled(bool(labels))
        self.kind.setEditText("")  # every kind alike, until one is chosen
        self.kind.setToolTip(
            "The kind of names to draw (as `dinogui sample --label`): one of the model's "
            "labels, or a blend typed as label:weight,label:weight (positive weights, "
            "normalised to sum to 1); empty: every kind alike" if labels else
            "This model was trained on one list: it has no kinds. Open several files at "
            "once (File > Open Corpus) to train names by kind.")

    def values(self) -> dict:
        r = self.request()
        return {"count": r.count, "seed": r.seed, "temperature": r.temperature,
                "max_len": r.max_len, "top_k": r.top_k, "min_len": r.min_len,
                "prefix": r.prefix, "suffix": r.suffix, "new_only": r.new_only,
                "best": self.best.isChecked(), "top_p": r.top_p, "beam": r.beam,
                "label": self.kind.currentText().strip()}

    def set_values(self, values: dict) -> None:
        for name in ("count", "seed", "temperature", "max_len", "top_k", "min_len", "top_p"):
            value = values.get(name)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                getattr(self, name).setValue(value)
        for name in ("prefix", "suffix"):
            if isinstance(values.get(name), str):
                getattr(self, name).setText(values[name])
        if isinstance(values.get("label"), str) and self.kind.isEnabled():
            self.kind.setEditText(values["label"])
        for name in ("new_only", "best", "beam"):
            if isinstance(values.get(name), bool):
                getattr(self, name).setChecked(values[name])

    def set_best_available(self, best: tuple[int, float] | None) -> None:
        """(iteration, held-out loss) of the model's best weights, or None: nothing held out."""
        self.best.setEnabled(best is not None)
        # no longer than the text the column was sized for: with the iteration beside it (a
        # long run's has six digits) the column scrolled sideways; the tooltip has it
        self.best.setText("From the best weights" if best is None else
                          f"From the best ({best[1]:.2f})")
        where = "" if best is None else \
            f"\nNow: held-out loss {best[1]:.4f} at iteration {best[0]:,}."
        self.best.setToolTip(BEST_TIP + where)

    # -- the drawn names ------------------------------------------------------------
    def show_draw(self, rows: list[Sampled], how: str, problem: str = "") -> None:
        """List freshly drawn names; `how` says where they came from, `problem` what fell short."""
        self._rows = list(rows)
        self.list.setSortingEnabled(False)
        self.list.clear()
        italic = QFont(self.list.font())
        italic.setItalic(True)
        items = []
        for s in rows:
            item = _Row(s, s.name in self.favourites)
            if s.known:
                item.setFont(COL_NAME, italic)
            items.append(item)
        self.list.addTopLevelItems(items)
        self.list.setSortingEnabled(True)
        _fit_names(self.list)
        n_known = sum(s.known for s in rows)
        text = (f"{len(rows)} name{'s' if len(rows) != 1 else ''}, {len(rows) - n_known} new"
                + (f", {n_known} in the corpus" if n_known else "") + f" · {how}")
        if problem:
            text = f"{problem}\n{text}"
        self._summary = text
        self._set_summary(text, bool(problem))

    def _set_summary(self, text: str, warn: bool) -> None:
        self.summary.setText(text)
        self.summary.setStyleSheet(problem_style(self.palette()) if warn else "")

    def clear(self, note: str = "") -> None:
        """No drawn names (the favourites stay); note says why, else how to draw some."""
        self._rows = []
        self.list.clear()
        self._summary = ""
        self._set_summary(note or PROMPT, False)

    def mark_outdated(self, iteration: int) -> None:
        """The model trained on to `iteration` since the names were drawn: say so, as they
        no longer show what it writes."""
        if not self._rows:
            return
        drawn = self._rows[0].source.iteration
        if drawn < iteration:
            self._set_summary(f"Drawn at iteration {drawn:,}; the model is at {iteration:,} "
                              "now: Sample (Ctrl+G) for names from it as it is.\n"
                              + self._summary, True)

    def names(self) -> list[str]:
        """The drawn names as displayed (capitalised), in the order drawn."""
        return [s.display for s in self._rows]

    def rows(self) -> list[Sampled]:
        return list(self._rows)

    def selected_or_all(self) -> list[str]:
        picked = {id(i.sampled) for i in self.list.selectedItems()}
        return [s.display for s in self._rows if id(s) in picked] or self.names()

    def copy_to_clipboard(self) -> int:
        names = self.selected_or_all()
        if names:
            QGuiApplication.clipboard().setText("\n".join(names) + "\n")
        return len(names)

    # -- favourites -----------------------------------------------------------------
    def set_favourite(self, sampled: Sampled, starred: bool) -> None:
        changed = (self.favourites.add(sampled) if starred
                   else self.favourites.remove(sampled.name))
        if changed:
            self._show_favourites()

    def toggle_favourites(self) -> int:
        """Star the selected names (in the list with focus), or unstar them if all are starred.

        Returns how many changed (negative: unstarred).
        """
        tree = self.fav_list if self.fav_list.hasFocus() else self.list
        items = tree.selectedItems() or ([tree.currentItem()] if tree.currentItem() else [])
        picked = [i.sampled for i in items]
        if not picked:
            return 0
        star = not all(s.name in self.favourites for s in picked)
        changed = sum(self.favourites.add(s) if star else self.favourites.remove(s.name)
                      for s in picked)
        if changed:
            self._show_favourites()
        return changed if star else -changed

    def _clicked(self, item: QTreeWidgetItem, column: int) -> None:
        if column == COL_STAR and isinstance(item, _Row):
            self.set_favourite(item.sampled, not item.starred)

    def _show_favourites(self) -> None:
        """Redraw the favourites list and the stars of the drawn names."""
        for i in range(self.list.topLevelItemCount()):
            item = self.list.topLevelItem(i)
            item.set_starred(item.sampled.name in self.favourites)
        tree = self.fav_list
        tree.setSortingEnabled(False)
        tree.clear()
        for k, s in enumerate(self.favourites):
            item = _Row(s, True, order=k)  # in the order starred
            tip = (f"Drawn at iteration {s.source.iteration:,} ({s.settings.describe()}), "
                   f"#{s.index + 1} of {s.settings.count}")
            item.setToolTip(COL_NAME, tip)
            tree.addTopLevelItem(item)
        tree.setSortingEnabled(True)
        _fit_names(tree)
        n = len(self.favourites)
        self.fav_label.setText(f"Favourites ({n})" if n else "Favourites: click ☆ or Ctrl+D")
        self.fav_label.setToolTip("Starred names stay here when you sample again; "
                                  "Export Favourites (Ctrl+Shift+E) writes them with their "
                                  "settings and the checkpoint that drew them")
        self.favourites_changed.emit()


def _fit_names(tree: QTreeWidget) -> None:
    """Names as wide as they are, but a long one leaves room for its nearest corpus name and
    its edit distance (a narrow panel elides the names' middles first)."""
    tree.resizeColumnToContents(COL_NAME)
    fixed = sum(tree.columnWidth(c) for c in (COL_STAR, COL_INDEX, COL_SCORE))
    nearest = tree.fontMetrics().horizontalAdvance("Abcdef…ghi (10)") + 12
    cap = max(70, min(int(0.38 * tree.viewport().width()),
                      tree.viewport().width() - fixed - nearest))
    if tree.columnWidth(COL_NAME) > cap:
        tree.setColumnWidth(COL_NAME, cap)  # elided; the whole name is in the tooltip


def _button(action: QAction) -> QToolButton:
    button = QToolButton()
    button.setDefaultAction(action)
    button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    return button
