"""The Inspector: how likely the model finds a name, character by character, and a list of
names scored by likelihood.

It works on a ModelSnapshot: a copy of the weights taken between two training
steps (the window asks the worker for it), so training can go on while the
user types. Inspecting one name is a handful of small forward steps and runs
in the window's thread as the user types; scoring a list (and finding each
name's nearest corpus name) runs in the background, driven by the list's controller
(dinogui/controllers/name_list.py): this view only shows what it is given.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QAction, QBrush, QFont, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QStyle,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from dinogui.core.corpus import escape_controls
from dinogui.core.scoring import Inspection
from dinogui.document.name_scores import (
    ModelSnapshot,
    ScoredRow,
    nearest_text,
)
from dinogui.widgets.fit_columns import ColumnFitter
from dinogui.widgets.plot_style import mute
from dinogui.widgets.probability_strip import (
    CELL_H,
    END_SHOWN,
    INK,
    ProbabilityStrip,
    error_color,
    prob_color,
    shown,
    unshown,
)

TOP = 5  # alternatives listed at the selected position


def _by_kind(sampler, name: str) -> str:
    """For a labelled model, the name's log-likelihood per character under each kind and the
    likeliest kind, as `dinogui score` prints them; "" for a plain model."""
    labels = sampler.labels
    if not labels:
        return ""
    scores = [float(sampler.with_label(k).loglik_per_char([name])[0]) for k in labels]
    best = labels[max(range(len(labels)), key=scores.__getitem__)]
    parts = ", ".join(f"{_escape(escape_controls(k))} {v:.3f}"
                      for k, v in zip(labels, scores, strict=True))
    return f"<br>By kind: {parts} · likeliest: <b>{_escape(escape_controls(best))}</b>"


class InspectorView(QWidget):
    """The Inspector tab. `refresh_requested` asks the window for a fresh snapshot."""

    refresh_requested = Signal()
    load_requested = Signal()  # Load…: the list's controller asks for the file

    def __init__(self, refresh: QAction, score: QAction, parent: QWidget | None = None) -> None:
        """refresh and score: the window's actions (the list's scoring is a controller's,
        dinogui/controllers/name_list.py, as the Samples panel's drawing is)."""
        super().__init__(parent)
        self.snapshot: ModelSnapshot | None = None
        self.inspection: Inspection | None = None
        self.training = False
        self.nearest_done = True  # every scored row has its nearest corpus name
        self.rows: list[ScoredRow] = []

        self.placeholder = QLabel("No model yet.\n\nOpen a corpus (Ctrl+O) or a checkpoint "
                                  "(Ctrl+Shift+O);\nthen type any name here to see how likely "
                                  "the model finds each of its characters.")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        mute(self.placeholder)
        font = self.placeholder.font()
        font.setPointSize(13)
        self.placeholder.setFont(font)

        bar = self._snapshot_bar(refresh)
        one = self._name_part()
        many = self._list_part(score)

        content = QWidget()
        column = QVBoxLayout(content)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(bar)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(one)
        split.addWidget(many)
        split.setChildrenCollapsible(False)
        split.setStretchFactor(0, 0)  # the name's part keeps its size; the list takes the rest
        split.setStretchFactor(1, 1)
        column.addWidget(split, 1)
        scroll = QScrollArea()  # a small window scrolls rather than squeezing the tab
        scroll.setWidget(content)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.pages = QStackedWidget()
        self.pages.addWidget(self.placeholder)
        self.pages.addWidget(scroll)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.pages)
        QWidget.setTabOrder(self.name_edit, self.strip)
        QWidget.setTabOrder(self.strip, self.list_edit)
        self.set_snapshot(None)

    def _snapshot_bar(self, refresh: QAction) -> QHBoxLayout:
        """Which weights the tab scores with, Follow training and Refresh."""
        self.snapshot_label = QLabel()
        self.snapshot_label.setWordWrap(True)
        self.snapshot_label.setToolTip(
            "The Inspector scores with a copy of the weights taken at this iteration, so "
            "training can go on meanwhile. With Follow training ticked it takes new weights "
            "every few seconds while this tab is visible; Refresh (Ctrl+Shift+I) takes them "
            "now.")
        self.follow = QCheckBox("Follow training")
        self.follow.setChecked(True)
        self.follow.setToolTip("While this tab is visible and the model trains, take its "
                               "new weights every few seconds")
        refresh_button = QToolButton()
        refresh_button.setDefaultAction(refresh)
        refresh_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        refresh.setIconText("Refresh")
        bar = QHBoxLayout()
        bar.addWidget(self.snapshot_label, 1)
        bar.addWidget(self.follow)
        bar.addWidget(refresh_button)
        return bar

    def _name_part(self) -> QGroupBox:
        """A typed name: its characters' strip, the summary and the model's guesses."""
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("Type a name, e.g. tyrannosaurus")
        self.name_edit.setClearButtonEnabled(True)
        self.name_edit.setMaxLength(200)
        self.name_edit.setToolTip("Any name: each character's probability appears below, "
                                  "as the model predicted it from the letters before it")
        self.name_edit.textChanged.connect(self.reinspect)
        self.name_edit.textChanged.connect(self._fit_name_part)  # after reinspect's new text
        self.strip = ProbabilityStrip()
        self.strip.selected_changed.connect(self._show_alternatives)
        self.strip.selected_changed.connect(self._fit_name_part)
        self.strip_scroll = QScrollArea()
        self.strip_scroll.setWidget(self.strip)
        self.strip_scroll.setWidgetResizable(False)
        self.strip_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        bar_height = self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        self.strip_scroll.setFixedHeight(CELL_H + 6 + bar_height)
        self.strip_scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.strip_scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Tab goes to the strip itself
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        swatches = " ".join(
            f"<span style='background:{prob_color(p).name()}; color:{INK.name()}'>"
            f"&nbsp;{word}&nbsp;</span>"
            for p, word in ((0.02, "unlikely"), (0.25, "even"), (1.0, "certain")))
        self.legend = QLabel(f"colour: {swatches} · ⏎ = end of name")
        self.alt_title = QLabel()
        self.alt_title.setWordWrap(True)  # it quotes the typed name: one line widened the tab
        # one column per alternative: compact enough to leave room for the list below
        self.alternatives = QTableWidget(2, 0)
        self.alternatives.setVerticalHeaderLabels(["Next character", "Probability"])
        self.alternatives.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.alternatives.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.alternatives.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.alternatives.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.alternatives.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        header = self.alternatives.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header.setDefaultSectionSize(72)
        rows = self.alternatives.fontMetrics().height() + 8
        self.alternatives.verticalHeader().setDefaultSectionSize(rows)
        header.setFixedHeight(rows)
        self.alternatives.setFixedHeight(3 * rows + 2 * self.alternatives.frameWidth())
        self.alternatives.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.name_part = one = QGroupBox("Inspect a name")
        one_layout = QVBoxLayout(one)
        one_layout.addWidget(self.name_edit)
        one_layout.addWidget(self.strip_scroll)
        one_layout.addWidget(self.legend)
        one_layout.addWidget(self.summary)
        one_layout.addWidget(self.alt_title)
        one_layout.addWidget(self.alternatives)
        return one

    def _list_part(self, score: QAction) -> QGroupBox:
        """A list of names (pasted or loaded) and their scores."""
        rows = self.alternatives.verticalHeader().defaultSectionSize()
        bar_height = self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        self.list_edit = QPlainTextEdit()
        self.list_edit.setPlaceholderText("Paste names here, one per line, or Load… a text "
                                          "file; then Score (Ctrl+Enter)")
        self.list_edit.addAction(score)
        score.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        score.setIconText("Score")
        self.load_button = QPushButton("Load…")
        self.load_button.setToolTip("Read names from a text file, one per line")
        self.load_button.clicked.connect(self.load_requested)
        score_button = QToolButton()
        score_button.setDefaultAction(score)
        buttons = QHBoxLayout()
        buttons.addWidget(self.load_button)
        buttons.addStretch(1)
        buttons.addWidget(score_button)
        # the buttons above the list, where a short window still shows them (the tab scrolls)
        self.list_edit.setMinimumHeight(4 * rows)
        list_left = QVBoxLayout()
        list_left.addLayout(buttons)
        list_left.addWidget(self.list_edit, 1)
        self.list_status = QLabel("")
        self.list_status.setWordWrap(True)
        self.scores = QTableWidget(0, 4)
        self.scores.setHorizontalHeaderLabels(
            ["Name", "Log-lik / char", "In corpus", "Nearest (edits)"])
        self.scores.horizontalHeaderItem(3).setToolTip(
            "The corpus name with the fewest edits (insertions, deletions, substitutions) "
            "away, and how many")
        self.scores.horizontalHeaderItem(1).setToolTip(
            "Mean log-probability of each character and the end, in nats; higher is more "
            "likely. ln(1/vocabulary size) is a uniform guess.")
        self._table_style(self.scores)
        self.scores.verticalHeader().setDefaultSectionSize(rows)
        self.score_columns = ColumnFitter(self.scores, self.scores.horizontalHeader())
        list_right = QVBoxLayout()
        list_right.addWidget(self.list_status)
        # at least 8 names visible under the header
        self.scores.setMinimumHeight(
            self.scores.horizontalHeader().sizeHint().height() + 8 * rows + 2
            + 2 * self.scores.frameWidth() + bar_height)  # room for a sideways scroll bar too
        list_right.addWidget(self.scores, 1)
        many = QGroupBox("Score a list")
        many_layout = QHBoxLayout(many)
        many_layout.addLayout(list_left, 2)
        many_layout.addLayout(list_right, 3)
        return many

    @staticmethod
    def _table_style(table: QTableWidget) -> None:
        table.verticalHeader().setVisible(False)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setAlternatingRowColors(True)
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        table.horizontalHeader().setStretchLastSection(True)

    def _fit_name_part(self, *_args) -> None:
        """Keep the name's part as tall as its wrapped text needs: a splitter (and the scroll
        area around it) asks only for the minimum, and would squeeze the strip onto the text."""
        part = self.name_part
        need = part.heightForWidth(part.width()) if part.width() > 0 else -1
        part.setMinimumHeight(max(need, part.minimumSizeHint().height()))

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._fit_name_part()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt's name)
        super().changeEvent(event)
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            self.reinspect()  # the red of a refusal follows the palette
            if self.rows:
                self.show_scores(self.rows)

    # -- the snapshot -------------------------------------------------------------
    @property
    def snapshot_key(self) -> tuple[int, int] | None:
        s = self.snapshot
        return None if s is None else (s.generation, s.iteration)

    def set_snapshot(self, snapshot: ModelSnapshot | None) -> None:
        """Inspect with these weights from now on (None: there is no model)."""
        self.snapshot = snapshot
        self.pages.setCurrentIndex(0 if snapshot is None else 1)
        self._show_snapshot_label()
        self.reinspect()

    def set_training(self, training: bool) -> None:
        self.training = training
        self._show_snapshot_label()

    def _show_snapshot_label(self) -> None:
        s = self.snapshot
        if s is None:
            self.snapshot_label.setText("")
            return
        state = " · training goes on" if self.training else ""
        model = f"{s.sampler.preset}, {s.sampler.cell}" if s.sampler.preset != "classic" \
            else "classic"
        self.snapshot_label.setText(f"<b>Model at iteration {s.iteration:,}</b> ({model}){state}")

    # -- one name -------------------------------------------------------------------
    def name_to_score(self) -> str:
        name = self.name_edit.text().strip()
        if self.snapshot is not None and self.snapshot.lowercase:
            name = name.lower()
        return name

    def reinspect(self) -> None:
        """Inspect the typed name with the current snapshot (cheap: runs right here)."""
        s, name = self.snapshot, self.name_to_score()
        self.inspection = None
        if s is None or not name:
            self.strip.set_inspection(None)
            self.summary.setText("" if s is None else
                                 "Type a name above to see each character's probability.")
            return
        missing = "".join(dict.fromkeys(c for c in name if c not in s.sampler.vocab.chars))
        if missing:
            self.strip.set_inspection(None)
            self.summary.setText(
                f"<span style='color:{self._red}'>Cannot score this name: "
                + ", ".join(_quoted(c) for c in missing)
                + (" is" if len(missing) == 1 else " are")
                + " not among the model's characters.</span> It knows: "
                + _escape("".join(shown(c) for c in s.sampler.vocab.chars)))
            return
        ins = s.sampler.inspect(name, top=TOP)
        self.inspection = ins
        self.strip.set_inspection(ins)
        ll = ins.loglik_per_char
        first = int((ins.rank == 1).sum())
        uniform = -math.log(len(ins.chars))
        cased = " (scored in lower case, as the corpus is)" if name != \
            self.name_edit.text().strip() else ""
        known = " It is in the corpus." if name in s.known else ""
        self.summary.setText(
            f"<b>Log-likelihood per character: {ll:.3f} nats</b> (perplexity "
            f"{math.exp(-ll):.2f}; a uniform guess scores {uniform:.2f}) · the model's first "
            f"choice at {first} of {len(ins.targets)} positions{cased}.{known}"
            + _by_kind(s.sampler, name))

    def _show_alternatives(self, t: int) -> None:
        ins = self.inspection
        table = self.alternatives
        table.setColumnCount(0)
        if ins is None or t < 0:
            self.alt_title.setText("")
            table.setVisible(False)
            return
        table.setVisible(True)
        before = ins.name[:t]
        target = int(ins.targets[t])
        what = "ending the name (⏎)" if target == 0 else f"“{_escape(shown(ins.chars[target]))}”"
        self.alt_title.setText(
            (f"After “{_escape(before.replace(' ', shown(' ')))}”" if before else "At the start")
            + f", the model's top {len(ins.top_index[t])} guesses (it was {what}, its choice "
            + f"number {int(ins.rank[t])}):")
        picks = [(int(i), float(p)) for i, p in zip(ins.top_index[t], ins.top_prob[t],
                                                    strict=True)]
        labels = [str(r + 1) for r in range(len(picks))]
        if target not in [i for i, _ in picks]:
            picks.append((target, float(ins.p_target[t])))
            labels.append(f"… {int(ins.rank[t])}")
        table.setColumnCount(len(picks))
        table.setHorizontalHeaderLabels(labels)
        bold = QFont(table.font())
        bold.setBold(True)
        for c, (i, p) in enumerate(picks):
            char = QTableWidgetItem(f"{END_SHOWN} end" if i == 0 else shown(ins.chars[i]))
            prob = QTableWidgetItem(f"{100 * p:.2f}%")
            prob.setBackground(QBrush(prob_color(p)))
            prob.setForeground(QBrush(INK))
            for item in (char, prob):
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                if i == target:
                    item.setFont(bold)
                    item.setToolTip("the character that came")
            table.setItem(0, c, char)
            table.setItem(1, c, prob)

    def alternatives_shown(self) -> list[tuple[str, float]]:
        """The alternatives table as (character, probability), "\n" for the end."""
        out = []
        for c in range(self.alternatives.columnCount()):
            char = self.alternatives.item(0, c).text()
            prob = float(self.alternatives.item(1, c).text().rstrip("%")) / 100
            out.append(("\n" if char == f"{END_SHOWN} end" else unshown(char), prob))
        return out

    # -- a list of names (scored by dinogui/controllers/name_list.py) ------------------
    def list_text(self) -> str:
        return self.list_edit.toPlainText()

    def set_list_text(self, text: str) -> None:
        self.list_edit.setPlainText(text)

    def set_list_status(self, text: str, error: str = "") -> None:
        """The line under the list; an error follows it in red."""
        if error:
            text = (f"{text} · " if text else "") + \
                f"<span style='color:{self._red}'>{_escape(error)}</span>"
        self.list_status.setText(text)

    def set_nearest(self, i: int, name: str, distance: int) -> None:
        """Row i's nearest corpus name, found after its score."""
        self.rows[i] = replace(self.rows[i], nearest=name, distance=distance)
        self.scores.setItem(i, 3, QTableWidgetItem(nearest_text(self.rows[i])))

    @property
    def _red(self) -> str:
        return error_color(self.palette()).name()

    def list_summary(self, rows: list[ScoredRow], iteration: int, repeats: int,
                     cut: int | None) -> str:
        """What a scored list holds; cut: the most names scored, when the list had more."""
        scored = [r for r in rows if r.loglik is not None]
        bad = len(rows) - len(scored)
        parts = [f"{len(scored):,} names scored with the model at iteration {iteration:,}, "
                 "most likely first", f"{sum(r.in_corpus for r in scored):,} in the corpus"]
        if bad:
            parts.append(f"<span style='color:{self._red}'>{bad:,} could not be scored "
                         "(characters the model does not know; listed last)</span>")
        if repeats:
            parts.append(f"{repeats:,} repeated lines ignored")
        if cut:
            parts.append(f"only the first {cut:,} names")
        return " · ".join(parts)

    def show_scores(self, rows: list[ScoredRow]) -> None:
        self.rows = list(rows)
        table = self.scores
        table.setRowCount(len(rows))
        grey = self.palette().color(QPalette.ColorRole.PlaceholderText)
        for r, row in enumerate(rows):
            if row.loglik is None:
                items = [QTableWidgetItem(row.shown), QTableWidgetItem("—"),
                         QTableWidgetItem(""), QTableWidgetItem(row.problem)]
                items[3].setForeground(QBrush(error_color(self.palette())))
            else:
                items = [QTableWidgetItem(row.shown), QTableWidgetItem(f"{row.loglik:.3f}"),
                         QTableWidgetItem("yes" if row.in_corpus else ""),
                         QTableWidgetItem(nearest_text(row))]
                items[1].setBackground(QBrush(prob_color(math.exp(row.loglik))))
                items[1].setForeground(QBrush(INK))  # dark on the light colour, any palette
                if row.in_corpus:
                    items[0].setForeground(QBrush(grey))
            items[1].setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            for c, item in enumerate(items):
                table.setItem(r, c, item)

    def score_column(self) -> np.ndarray:
        """The log-likelihoods shown, top to bottom (NaN for names that could not be scored)."""
        return np.array([np.nan if r.loglik is None else r.loglik for r in self.rows])


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _quoted(ch: str) -> str:
    return "“" + _escape(ch if ch.strip() else repr(ch)) + "”"
