"""The Runs tab: past training runs side by side.

A list of the runs kept in the runs folder (core.runs); the ticked ones'
smoothed per-character loss curves share one plot (held-out losses dashed,
in the same colour), and a table lists only the settings in which they
differ. The run being trained grows live: the window hands it each progress
batch and the plot redraws at most twice a second, and only while visible.
"""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QAction, QBrush, QColor, QTextOption
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from dinogui.core.history import room_for
from dinogui.core.runs import Run, differing_settings
from dinogui.widgets.fit_columns import ColumnFitter
from dinogui.widgets.plot_style import (
    RESTYLE_EVENTS,
    BelowLegend,
    PlotColors,
    apply_colors,
    new_plot,
    scaled_pen,
)

REDRAW_MS = 500  # the live run's curve redraws at most twice a second
COLORS = [(31, 119, 180), (214, 39, 40), (44, 160, 44), (148, 103, 189), (255, 127, 14),
          (23, 190, 207), (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34)]
COLUMNS = ["Run", "Corpus", "Model", "Started", "Iterations", "Loss / char", "Best held-out"]
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
DEFAULT_TICKED = 2  # the newest runs ticked when the list first loads


def model_text(config: dict) -> str:
    if config.get("preset") == "classic":
        return f"classic RNN {config.get('hidden')}"
    layers = config.get("layers", 1)
    stack = f"{layers}×" if layers and layers > 1 else ""
    return (f"{stack}{str(config.get('cell', 'rnn')).upper()} {config.get('hidden')}, "
            f"{config.get('optimizer')}")


def setting_text(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return "—" if value is None else str(value)


_CENTERED = QTextOption(Qt.AlignmentFlag.AlignHCenter)
_CENTERED.setWrapMode(QTextOption.WrapMode.WordWrap)


class LiveCurve:
    """The run in training: its saved curve plus the steps reported since, growable.

    A saved curve holds every recent step and a thinned selection of older ones (see
    core/history.py), so each point keeps its iteration.
    """

    def __init__(self, run: Run) -> None:
        size = max(4096, 2 * len(run.smooth_char))
        self.x = np.empty(size, dtype=np.int64)
        self.smooth = np.empty(size)
        self.n = 0  # points held
        self.next = 0  # the iteration the next reported step must have
        self.val_x: list[int] = []
        self.val_y: list[float] = []
        self.reset(run)

    def reset(self, run: Run) -> None:
        """Take a saved record (the trainer's own history) as the truth so far."""
        self.n = 0
        self._append(np.asarray(run.curve_x), run.smooth_char)
        self.next = run.iterations
        self.val_x, self.val_y = list(map(int, run.val_iterations)), list(run.val_losses)

    def _append(self, iterations: np.ndarray, values: np.ndarray) -> None:
        need = self.n + len(values)
        self.x = room_for(self.x, self.n, need)
        self.smooth = room_for(self.smooth, self.n, need)
        self.x[self.n : need] = iterations
        self.smooth[self.n : need] = values
        self.n = need

    def _put(self, iterations: np.ndarray, values: np.ndarray) -> None:
        keep = iterations >= self.next  # steps already held are not added twice
        iterations, values = iterations[keep], values[keep]
        if not len(values) or iterations[0] != self.next:
            return  # a gap: wait for the next saved record
        self._append(iterations, values)
        self.next = int(iterations[-1]) + 1

    def extend(self, iterations: np.ndarray, smooth_char: np.ndarray,
               val_points: list[tuple[int, float]]) -> None:
        self._put(np.asarray(iterations), np.asarray(smooth_char, dtype=np.float64))
        for it, loss in val_points:
            if not self.val_x or it > self.val_x[-1]:
                self.val_x.append(int(it))
                self.val_y.append(float(loss))

    def curves(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(x, smoothed loss, held-out x, held-out loss)."""
        return (self.x[: self.n], self.smooth[: self.n], np.array(self.val_x),
                np.array(self.val_y))


def started_text(started: float, now: float | None = None) -> str:
    """When a run started, as short as a narrow column needs: the time today, else the date
    (the tooltip has both)."""
    when, today = time.localtime(started), time.localtime(now)
    same_day = when[:3] == today[:3]
    return time.strftime("%H:%M" if same_day else "%Y-%m-%d", when)


class RunsView(QWidget):
    """The Runs tab. `delete_requested(run ids)` asks the window to confirm and delete."""

    delete_requested = Signal(list)

    def __init__(self, delete: QAction, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runs: dict[str, Run] = {}  # by id, oldest first
        self.numbers: dict[str, int] = {}  # the #n shown, kept for the session
        self.live: tuple[str, LiveCurve] | None = None
        self.curves: dict[str, tuple[pg.PlotDataItem, pg.PlotDataItem]] = {}
        self.loaded = False
        self.training = False  # the live run is being trained now (else it is paused)
        self._dirty = False

        self.list = QTreeWidget()
        self.list.setHeaderLabels(COLUMNS)
        self.list.setRootIsDecorated(False)
        self.list.setAlternatingRowColors(True)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.setUniformRowHeights(True)
        self.list.setMinimumHeight(6 * self.list.fontMetrics().height() + 12)  # ~4 runs
        self.list_columns = ColumnFitter(self.list, self.list.header())  # no sideways scrolling
        self.list.setToolTip("Tick runs to overlay their loss curves; select runs and press "
                             "Delete to remove them")
        self.list.itemChanged.connect(self._ticked)
        self.list.itemSelectionChanged.connect(self._selection_changed)
        self.addAction(delete)
        self.list.addAction(delete)  # and in the list's right-click menu
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        delete.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        delete.setIconText("Delete…")
        self.delete_action = delete
        delete.triggered.connect(self._delete_selected)
        delete.setEnabled(False)
        delete_button = QToolButton()
        delete_button.setDefaultAction(delete)
        delete_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        tick_all = QPushButton("Tick All")
        tick_all.clicked.connect(lambda: self.set_all_ticked(True))
        tick_none = QPushButton("Untick All")
        tick_none.clicked.connect(lambda: self.set_all_ticked(False))
        self.count_label = QLabel()
        buttons = QHBoxLayout()
        buttons.addWidget(self.count_label, 1)
        buttons.addWidget(tick_all)
        buttons.addWidget(tick_none)
        buttons.addWidget(delete_button)
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.list, 1)
        top_layout.addLayout(buttons)

        self.plot = new_plot("smoothed loss per character (nats)")
        self.plot.setMinimumHeight(100)
        item = self.plot.getPlotItem()
        # below the plot, never over the curves (a long one takes height, not the data's room)
        self.legend = BelowLegend(item, columns=1)
        # the legend's sample for every run's held-out points; never drawn on the plot itself
        self.held_out_key = pg.PlotDataItem([], [], symbol="o", symbolSize=5, symbolPen=None)
        self.placeholder = pg.TextItem("", anchor=(0.5, 0.5))
        self.placeholder.setParentItem(item.getViewBox())
        item.getViewBox().sigResized.connect(self._place_placeholder)

        self.table_title = QLabel()
        self.table_title.setWordWrap(True)  # a narrow pane wraps the hint instead of cutting it
        self.table = QTableWidget(0, 0)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table_columns = ColumnFitter(self.table, self.table.horizontalHeader())
        self.table.setMinimumHeight(48)
        self.table.setToolTip("Only the settings that are not the same in every ticked run")
        bottom = QWidget()
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(0, 0, 0, 0)
        bottom_layout.addWidget(self.table_title)
        bottom_layout.addWidget(self.table, 1)

        # one above the other, each the tab's whole width: beside the plot the settings pane
        # was ~70 px wide at 1024 px and hid every run's values but the first
        split = QSplitter(Qt.Orientation.Vertical)
        for part, stretch in ((top, 2), (self.plot, 4), (bottom, 1)):
            split.addWidget(part)
            split.setStretchFactor(split.indexOf(part), stretch)
        split.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(split)

        self._next_live = 0.0  # perf_counter() time from which the live curve redraws
        self.colors = self.restyle()
        self._refresh()

    def restyle(self) -> PlotColors:
        """Colours from the palette; the curves' pens follow at the next refresh."""
        self.colors = c = apply_colors(self.plot, self.palette(), self.legend)
        self.legend.setBrush(pg.mkBrush(c.fill))
        self.placeholder.setColor(c.muted)
        if self.curves:
            self._refresh()
        return c

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt's name)
        super().changeEvent(event)
        if event.type() in RESTYLE_EVENTS:
            self.restyle()

    # -- the list ---------------------------------------------------------------------
    def set_runs(self, runs: list[Run]) -> None:
        """The runs found on disk (oldest first); the newest few start ticked."""
        self.loaded = True
        ticked = {r.run_id for r in runs[-DEFAULT_TICKED:]} | set(self.ticked_ids())
        for run in runs:
            if run.run_id not in self.runs:
                self._add(run, run.run_id in ticked)
        self._refresh()

    def add_run(self, run: Run, live: bool = False) -> None:
        """A new run (ticked); live: it is the one training, fed by extend_live()."""
        if live:
            self.live = (run.run_id, LiveCurve(run))
        if run.run_id not in self.runs:
            self._add(run, True)
        self._refresh()

    def update_run(self, run: Run) -> None:
        """A newer record of a run (the window saved it)."""
        if run.run_id not in self.runs:
            return
        self.runs[run.run_id] = run
        if self.live is not None and self.live[0] == run.run_id:
            self.live[1].reset(run)
        self._fill_row(self._item(run.run_id), run)
        self._refresh()

    def remove_runs(self, run_ids: list[str]) -> None:
        for run_id in run_ids:
            item = self._item(run_id)
            if item is not None:
                self.list.takeTopLevelItem(self.list.indexOfTopLevelItem(item))
            self.runs.pop(run_id, None)
            if self.live is not None and self.live[0] == run_id:
                self.live = None
        self._refresh()

    def set_training(self, training: bool) -> None:
        """The live run is being trained (True) or paused: its row says which."""
        self.training = training
        if self.live is not None and self.live[0] in self.runs:
            self._fill_row(self._item(self.live[0]), self.runs[self.live[0]])

    def end_live(self) -> None:
        """The run stopped being trained here (another model was opened)."""
        if self.live is not None:
            run_id, self.live = self.live[0], None
            if run_id in self.runs:
                self._fill_row(self._item(run_id), self.runs[run_id])

    def _add(self, run: Run, ticked: bool) -> None:
        self.runs[run.run_id] = run
        self.numbers[run.run_id] = max(self.numbers.values(), default=0) + 1
        item = QTreeWidgetItem()
        item.setData(0, Qt.ItemDataRole.UserRole, run.run_id)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        self.list.blockSignals(True)
        item.setCheckState(0, Qt.CheckState.Checked if ticked else Qt.CheckState.Unchecked)
        self._fill_row(item, run)
        self.list.addTopLevelItem(item)
        self.list.blockSignals(False)

    def _fill_row(self, item: QTreeWidgetItem | None, run: Run) -> None:
        if item is None:
            return
        was = self.list.blockSignals(True)
        n = self.numbers[run.run_id]
        last = f"{run.smooth_char[-1]:.4f}" if len(run.smooth_char) else "—"
        best = "—" if run.best_val is None else f"{run.best_val:.4f}"
        live = self.live is not None and self.live[0] == run.run_id
        state = (" (training)" if self.training else " (current)") if live else ""
        texts = [f"#{n}{state}", run.corpus, model_text(run.config),
                 started_text(run.started),
                 f"{run.iterations:,}", last, best]
        for c, text in enumerate(texts):
            item.setText(c, text)
            if c >= 4:
                item.setTextAlignment(c, RIGHT)
        item.setForeground(0, QBrush(self.color(run.run_id)))
        item.setToolTip(0, run.label + ("\nThe model in the window" if live else ""))
        item.setToolTip(3, time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(run.started)))
        self.list.blockSignals(was)

    def _item(self, run_id: str) -> QTreeWidgetItem | None:
        for i in range(self.list.topLevelItemCount()):
            item = self.list.topLevelItem(i)
            if item.data(0, Qt.ItemDataRole.UserRole) == run_id:
                return item
        return None

    def color(self, run_id: str) -> QColor:
        return QColor(*COLORS[(self.numbers.get(run_id, 1) - 1) % len(COLORS)])

    def ticked_ids(self) -> list[str]:
        out = []
        for i in range(self.list.topLevelItemCount()):
            item = self.list.topLevelItem(i)
            if item.checkState(0) == Qt.CheckState.Checked:
                out.append(item.data(0, Qt.ItemDataRole.UserRole))
        return out

    def set_ticked(self, run_id: str, ticked: bool) -> None:
        item = self._item(run_id)
        if item is not None:
            item.setCheckState(0, Qt.CheckState.Checked if ticked else Qt.CheckState.Unchecked)

    def set_all_ticked(self, ticked: bool) -> None:
        self.list.blockSignals(True)
        for i in range(self.list.topLevelItemCount()):
            self.list.topLevelItem(i).setCheckState(
                0, Qt.CheckState.Checked if ticked else Qt.CheckState.Unchecked)
        self.list.blockSignals(False)
        self._refresh()

    def selected_ids(self) -> list[str]:
        return [item.data(0, Qt.ItemDataRole.UserRole) for item in self.list.selectedItems()]

    def _ticked(self, _item, column: int) -> None:
        if column == 0:
            self._refresh()

    def _selection_changed(self) -> None:
        self.delete_action.setEnabled(bool(self.list.selectedItems()))

    def _delete_selected(self) -> None:
        ids = self.selected_ids()
        if ids:
            self.delete_requested.emit(ids)

    # -- the plot and the table ---------------------------------------------------------
    def _run_curves(self, run_id: str
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        if self.live is not None and self.live[0] == run_id:
            return self.live[1].curves()
        run = self.runs[run_id]
        return run.curve_x, run.smooth_char, run.val_iterations, run.val_losses

    def _refresh(self) -> None:
        """Redraw the ticked runs' curves and the settings table."""
        self._dirty = False
        ticked = [r for r in self.ticked_ids() if r in self.runs]
        item = self.plot.getPlotItem()
        for main, val in self.curves.values():
            item.removeItem(main)
            item.removeItem(val)
        self.curves.clear()
        self.legend.clear()
        dpr = self.plot.devicePixelRatioF()
        for run_id in ticked:
            color = self.color(run_id)
            n = self.numbers[run_id]
            run = self.runs[run_id]
            x, y, vx, vy = self._run_curves(run_id)
            main = item.plot(x, y, pen=scaled_pen(color, 2, dpr),
                             name=f"#{n} {run.corpus} · {model_text(run.config)}")
            # peak: a subsample could drop the highest point, and the auto-range would cut it
            main.setDownsampling(auto=True, method="peak")
            main.setClipToView(True)
            val = item.plot(vx, vy, pen=scaled_pen(color, 1.5, dpr, style=Qt.PenStyle.DashLine),
                            symbol="o", symbolSize=5 * dpr, symbolBrush=color, symbolPen=None)
            self.curves[run_id] = (main, val)
        self._key_held_out()
        if not self.runs:
            text = ("Loading runs…" if not self.loaded else
                    "No runs yet: every model you train in the window is kept here "
                    "(Training > Start, F5)")
        elif not ticked:
            text = "Tick runs in the list above to overlay their loss curves"
        else:
            text = ""
        self.placeholder.setText(text)
        self.placeholder.setVisible(bool(text))
        item.enableAutoRange()
        self._fill_table(ticked)
        n = len(self.runs)
        self.count_label.setText(f"{n} run{'s' if n != 1 else ''} kept · {len(ticked)} ticked")

    def _fill_table(self, ticked: list[str]) -> None:
        runs = [self.runs[r] for r in ticked]
        table = self.table
        table.clear()
        diff = differing_settings(runs) if len(runs) >= 2 else {}
        if len(runs) < 2:
            self.table_title.setText("Tick two or more runs to see the settings that differ")
        elif not diff:
            self.table_title.setText("The ticked runs have the same settings")
        else:
            self.table_title.setText("Settings that differ")
        table.setColumnCount(len(runs) if diff else 0)
        table.setRowCount(len(diff))
        table.setHorizontalHeaderLabels([f"#{self.numbers[r.run_id]}" for r in runs])
        for c, r in enumerate(runs):
            header = table.horizontalHeaderItem(c)
            if header is not None:
                header.setForeground(QBrush(self.color(r.run_id)))
                header.setToolTip(r.label)
        table.setVerticalHeaderLabels([k.replace("_", " ") for k in diff])
        for row, values in enumerate(diff.values()):
            for c, value in enumerate(values):
                table.setItem(row, c, QTableWidgetItem(setting_text(value)))

    def differing_rows(self) -> dict[str, list[str]]:
        """The settings table as shown: {setting: [text per ticked run]}."""
        out = {}
        for row in range(self.table.rowCount()):
            key = self.table.verticalHeaderItem(row).text()
            out[key] = [self.table.item(row, c).text() for c in range(self.table.columnCount())]
        return out

    def _place_placeholder(self) -> None:
        rect = self.plot.getPlotItem().getViewBox().boundingRect()
        self.placeholder.setTextWidth(max(80.0, rect.width() - 24))  # wrapped to fit the plot
        self.placeholder.textItem.document().setDefaultTextOption(_CENTERED)
        self.placeholder.setPos(rect.center())

    # -- the live run --------------------------------------------------------------------
    def extend_live(self, iterations: np.ndarray, smooth_char: np.ndarray,
                    val_points: list[tuple[int, float]]) -> None:
        if self.live is None:
            return
        self.live[1].extend(iterations, smooth_char, val_points)
        self._dirty = True
        now = time.perf_counter()
        if now >= self._next_live and self.isVisible():  # no timer: see loss_plot's docstring
            self._next_live = now + REDRAW_MS / 1000
            self._redraw_live()

    def _redraw_live(self) -> None:
        if not self._dirty or not self.isVisible() or self.live is None:
            return  # drawn when shown (showEvent)
        self._dirty = False
        curves = self.curves.get(self.live[0])
        if curves is None:
            return
        x, y, vx, vy = self.live[1].curves()
        main, val = curves
        main.setData(x, y)
        self._show_live_row(x, y, vy)
        drawn = 0 if val.xData is None else len(val.xData)
        if len(vx) != drawn:
            val.setData(vx, vy)
            self._key_held_out()

    def _key_held_out(self) -> None:
        """One legend entry for every run's held-out points (each run's colour is its solid
        line's): an entry per run doubled the legend, which took the plot's height."""
        shown = any(val.xData is not None and len(val.xData) for _m, val in self.curves.values())
        key = self.held_out_key
        if shown and not any(sample.item is key for sample, _label in self.legend.items):
            key.setPen(scaled_pen(self.colors.muted, 1.5, self.plot.devicePixelRatioF(),
                                  style=Qt.PenStyle.DashLine))
            key.setSymbolBrush(self.colors.muted)
            self.legend.addItem(key, "held-out (each run's colour)")

    def _show_live_row(self, x: np.ndarray, y: np.ndarray, vy: np.ndarray) -> None:
        item = self._item(self.live[0])
        if item is None or not len(y):
            return
        was = self.list.blockSignals(True)
        item.setText(4, f"{x[-1] + 1:,}")
        item.setText(5, f"{y[-1]:.4f}")
        if len(vy):
            item.setText(6, f"{np.min(vy):.4f}")
        self.list.blockSignals(was)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        if self._dirty:
            self._redraw_live()
