"""The corpus: its name, statistics and a small histogram of name lengths."""

from __future__ import annotations

import html

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtWidgets import QFormLayout, QGroupBox, QLabel, QVBoxLayout, QWidget

from dinogui.document.corpus_summary import CorpusSummary
from dinogui.widgets.plot_style import RESTYLE_EVENTS, apply_colors

VOCAB_SHOWN = 40  # characters listed in the vocabulary's tooltip before "…"
# one colour per kind (Okabe-Ito: told apart with any colour vision), in the labels' order;
# the loss plot's per-kind curves use the same
KIND_COLORS = ((0, 114, 178), (230, 159, 0), (0, 158, 115), (204, 121, 167), (86, 180, 233),
               (213, 94, 0), (240, 228, 66), (120, 120, 120))


def kind_color(index: int) -> tuple[int, int, int]:
    return KIND_COLORS[index % len(KIND_COLORS)]


class CorpusPanel(QGroupBox):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Corpus", parent)
        self.summary: CorpusSummary | None = None
        self.title = QLabel("No corpus loaded")
        font = self.title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.title.setFont(font)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.fields = {key: QLabel("—") for key in
                       ("names", "characters", "vocabulary", "lengths", "repeats")}
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setContentsMargins(0, 0, 0, 0)
        form.setVerticalSpacing(2)
        for key, label in self.fields.items():
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            form.addRow(key.capitalize() + ":", label)
        self.kinds = QLabel()  # a labelled corpus: each kind, its colour and its names
        self.kinds.setTextFormat(Qt.TextFormat.RichText)
        self.kinds.setWordWrap(True)
        self.kinds.setToolTip("Names by kind: the model learns every kind at once and draws "
                              "names of the kind chosen in Sample names")
        form.addRow("Kinds:", self.kinds)
        self.kinds_label = form.labelForField(self.kinds)
        self.fields["repeats"].setToolTip(
            "Names that appear more than once. They stay in training, as in the original exercise.")

        self.histogram = _SmallPlot()
        self.histogram.setFixedHeight(110)
        self.histogram.setMinimumWidth(150)
        self.histogram.setMouseEnabled(x=False, y=False)
        self.histogram.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # nothing to do with the keyboard
        self.histogram.hideButtons()
        self.histogram.setMenuEnabled(False)
        item = self.histogram.getPlotItem()
        item.setLabel("bottom", "name length")
        item.getAxis("left").setWidth(34)
        self.histogram.setToolTip("How many names have each length (letters, without the end)")
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.8, brush=(70, 130, 180),
                                    pen=pg.mkPen(None))
        item.addItem(self.bars)

        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(form)
        layout.addWidget(self.histogram)
        self.restyle()

    def restyle(self) -> None:
        """The histogram's colours from the palette (a dark desktop gets a dark plot)."""
        c = apply_colors(self.histogram, self.palette())
        bar = c.accent((70, 130, 180), (100, 160, 215))
        self.bars.setOpts(brush=bar, pen=pg.mkPen(None))

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt's name)
        super().changeEvent(event)
        if event.type() in RESTYLE_EVENTS:
            self.restyle()

    def show_summary(self, summary: CorpusSummary | None) -> None:
        self.summary = summary
        if summary is None:
            self.title.setText("No corpus loaded")
            self.title.setToolTip("")
            for label in self.fields.values():
                label.setText("—")
            self.bars.setOpts(x=[], height=[])
            self._show_kinds(())
            return
        st = summary.stats
        self.title.setText(summary.title)
        self.title.setToolTip(summary.source)
        self.fields["names"].setText(f"{st.names:,}")
        self.fields["characters"].setText(f"{st.characters:,}")
        vocab = summary.vocabulary
        shown = vocab if len(vocab) <= VOCAB_SHOWN else vocab[:VOCAB_SHOWN] + "…"
        self.fields["vocabulary"].setText(f"{st.vocab_size} symbols")
        self.fields["vocabulary"].setToolTip(f"{shown}\n(⏎ is the end of a name)")
        self.fields["lengths"].setText(f"{st.shortest}–{st.longest} (mean {st.mean_length:.1f})")
        self.fields["repeats"].setText(f"{st.duplicates:,}" if st.duplicates else "none")
        self.bars.setOpts(x=summary.lengths, height=summary.counts, width=0.8)
        self.histogram.getPlotItem().enableAutoRange()
        self._show_kinds(summary.kinds)

    def _show_kinds(self, kinds: tuple[tuple[str, int], ...]) -> None:
        """One line per kind: a square of its colour, its label, its names (hidden: none)."""
        self.kinds.setVisible(bool(kinds))
        self.kinds_label.setVisible(bool(kinds))
        self.kinds.setText("<br>".join(
            f'<span style="color: rgb{kind_color(i)}">&#9632;</span> {html.escape(label)} '
            f"· {n:,}" for i, (label, n) in enumerate(kinds)))


class _SmallPlot(pg.PlotWidget):
    """A PlotWidget content to be small (a QGraphicsView asks for room for its whole scene)."""

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        return QSize(220, 110)
