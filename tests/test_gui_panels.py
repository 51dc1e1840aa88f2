"""The panels: refused values, mnemonics and tab order, the samples table, the Inspector's
list, the Runs tab, and messages in plain words."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QLabel, QWidget

from dinogui.core.runs import Run
from dinogui.document.live_settings import plain_settings
from dinogui.widgets.hyperparams import HyperparamsPanel
from dinogui.widgets.runs_view import RunsView
from dinogui.widgets.samples_panel import COL_INDEX, COL_NAME, COL_NEAREST, COL_STAR
from tests.gui_support import WAIT_MS, ScriptedDialogs, open_window, train, wait_stopped

pytest.importorskip("pytestqt")


def type_into(qtbot, box, text: str, key=Qt.Key.Key_Return) -> None:
    """Select the field's text, type over it and press Enter, as a user would."""
    box.setFocus()
    box.selectAll()
    qtbot.keyClicks(box.lineEdit(), text)
    qtbot.keyClick(box.lineEdit(), key)


# -- out-of-range values are refused with their range ---------------------------------------

@pytest.mark.parametrize(("field", "typed", "kept", "message"), [
    ("lr", "-1", 0.01, "Learning rate -1 is out of range: it must be a positive number. "
                       "Kept 0.01."),
    ("clip", "-0.001", 5.0, "Gradient clip -0.001 is out of range: it must be a positive "
                            "number. Kept 5."),
    ("samples", "2000", 7, "Names per report 2000 is out of range: it must be between 0 and "
                           "1000. Kept 7."),
    ("budget", "-5", 35_000, "Iterations -5 is out of range: it must be between 0 and "
                             "1000000000. Kept 35,000."),
])
def test_an_out_of_range_value_is_refused_with_its_range(qtbot, field, typed, kept, message):
    panel = HyperparamsPanel()
    qtbot.addWidget(panel)
    panel.show()
    panel.activateWindow()
    qtbot.waitUntil(panel.isActiveWindow, timeout=WAIT_MS)
    box = getattr(panel, field)
    with qtbot.assertNotEmitted(panel.live_changed), \
            qtbot.assertNotEmitted(panel.budget_changed):
        type_into(qtbot, box, typed)
    assert box.value() == kept  # kept, not clamped to the nearest end
    assert panel.problem.isVisibleTo(panel) and panel.problem.text() == message

    with qtbot.waitSignal(panel.live_changed if field != "budget" else panel.budget_changed):
        type_into(qtbot, box, "3")  # a good value clears the message
    assert box.value() == 3 and not panel.problem.isVisibleTo(panel)


def test_plain_words_for_settings():
    assert plain_settings(["preset", "batch_size", "val_fraction", "dtype"]) == "the preset"
    assert plain_settings(["hidden"]) == "the hidden units"
    assert plain_settings(["hidden", "seed"]) == "the hidden units and the seed"
    assert plain_settings(["cell", "layers", "batch_size"]) == \
        "the cell, the layers and the batch size"


def test_the_preset_change_question_uses_plain_words(qtbot, tmp_path, tiny_corpus):
    dialogs = ScriptedDialogs()
    w = open_window(qtbot, tmp_path, tiny_corpus, dialogs=dialogs)
    train(qtbot, w, 50)
    dialogs.confirms = [False]
    dialogs.choices = [None]  # whichever way the window asks, the answer is "keep"
    hp = w.hyperparams
    hp.preset.setCurrentIndex(hp.preset.findData("default"))
    title, text = dialogs.asked[-1]
    assert "the preset" in text and "_" not in text and text[0].isupper()


# -- mnemonics and the tab order ----------------------------------------------------------

def left_fields(w) -> list[QWidget]:
    hp = w.hyperparams
    return [getattr(hp, n) for n in ("preset", "cell", "layers", "hidden", "optimizer",
                                     "batch_size", "mix_ngram", "seed", "budget", "patience",
                                     "lr", "lr_schedule", "warmup", "weight_decay", "clip",
                                     "sample_every", "samples")]


def mnemonic(text: str) -> str:
    k = text.index("&")
    assert text.count("&") == 1
    return text[k + 1].lower()


def test_every_left_field_has_a_mnemonic_unique_in_the_window(qtbot, tmp_path, tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus, preset="default")
    buddies = {id(label.buddy()): label for label in w.findChildren(QLabel)
               if label.buddy() is not None}
    letters = [mnemonic(buddies[id(f)].text()) for f in left_fields(w)]  # each field has one
    every = [mnemonic(label.text()) for label in buddies.values() if "&" in label.text()]
    menus = [mnemonic(a.text()) for a in w.menuBar().actions() if "&" in a.text()]
    assert len(set(every + menus)) == len(every) + len(menus)  # no letter twice

    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=WAIT_MS)
    for field, letter in zip(left_fields(w), letters, strict=True):
        key = getattr(Qt.Key, f"Key_{letter.upper()}")
        qtbot.keyClick(w, key, Qt.KeyboardModifier.AltModifier)
        assert field.hasFocus(), buddies[id(field)].text()


def region(w, widget) -> str:
    for name, area in (("left", w.left_scroll), ("plot", w.center), ("right", w.samples)):
        if widget is area or area.isAncestorOf(widget):
            return name
    return "other"


def test_tab_runs_left_panel_plot_right_panel(qtbot, tmp_path, tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus, preset="default")
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=WAIT_MS)
    first = w.hyperparams.preset
    first.setFocus()
    seen = []
    for _ in range(60):
        widget = w.focusWidget()
        seen.append(widget)
        qtbot.keyClick(widget, Qt.Key.Key_Tab)
        if w.focusWidget() is first:
            break
    regions = [region(w, x) for x in seen]
    blocks = [r for k, r in enumerate(regions) if k == 0 or r != regions[k - 1]]
    assert blocks == ["left", "plot", "right"]  # each part once, in this order, then round
    assert seen[: len(left_fields(w))] == left_fields(w)  # the fields top to bottom
    assert w.loss_plot.view in seen  # the plot itself takes the focus (keys zoom it)
    assert w.samples.count in seen and w.samples.list in seen


# -- the samples table -----------------------------------------------------------------

def test_samples_show_the_edit_distance_and_elide_long_names_in_the_middle(qtbot, tmp_path,
                                                                          tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus)
    train(qtbot, w, 100)
    p = w.samples
    p.count.setValue(30)
    p.new_only.setChecked(True)
    before = p.summary.text()
    w.actions_.sample.trigger()
    qtbot.waitUntil(lambda: p.summary.text() != before, timeout=WAIT_MS)
    tree = p.list
    assert tree.textElideMode() == Qt.TextElideMode.ElideMiddle
    fm = tree.fontMetrics()
    assert tree.columnWidth(COL_INDEX) <= fm.horizontalAdvance("1000") + 16
    assert tree.columnWidth(COL_INDEX) < tree.columnWidth(COL_NAME)
    for k in range(tree.topLevelItemCount()):
        item = tree.topLevelItem(k)
        s = item.sampled
        assert item.text(COL_NEAREST).endswith(f"({s.distance})")
        assert s.display in item.toolTip(COL_NAME)
        # what the cell shows at its width keeps the distance (the middle goes first)
        room = tree.columnWidth(COL_NEAREST) - 8
        shown = fm.elidedText(item.text(COL_NEAREST), tree.textElideMode(), room)
        assert shown.endswith(f"({s.distance})")


def test_the_status_bar_counts_favourites_on_every_star(qtbot, tmp_path, tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus)
    train(qtbot, w, 100)
    before = w.samples.summary.text()
    w.actions_.sample.trigger()
    qtbot.waitUntil(lambda: w.samples.summary.text() != before, timeout=WAIT_MS)
    tree = w.samples.list
    label = w.status.favourites_label
    assert label.text() == ""  # no favourites: nothing said (the label keeps its place)
    for k in range(3):  # a click on each star, not the menu
        item = tree.topLevelItem(k)
        x = tree.header().sectionViewportPosition(COL_STAR) + 5
        y = tree.visualItemRect(item).center().y()
        qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, y))
        assert label.text() == f"★ {k + 1}" and label.isVisible()
    item = tree.topLevelItem(0)
    x = tree.header().sectionViewportPosition(COL_STAR) + 5
    y = tree.visualItemRect(item).center().y()
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, y))  # unstar
    assert label.text() == "★ 2"


# -- the Inspector ------------------------------------------------------------------------

def wait_snapshot(qtbot, w) -> None:
    qtbot.waitUntil(lambda: w.inspector.snapshot is not None, timeout=WAIT_MS)


def test_score_a_list_shows_eight_rows_with_the_users_capitals(qtbot, tmp_path, tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus)
    w.resize(1280, 720)
    train(qtbot, w, 100)
    w.actions_.show_inspector.trigger()
    wait_snapshot(qtbot, w)
    insp = w.inspector
    typed = ["Ada", "McBob", "EVE", "Finnegan", "gus", "HaL", "Cyrus", "DanA", "Zed!", "Bo"]
    insp.list_edit.setPlainText("\n".join(typed) + "\nada\n")  # "ada" repeats "Ada"
    w.actions_.score_names.trigger()
    qtbot.waitUntil(lambda: len(insp.rows) == len(typed) and insp.nearest_done,
                    timeout=WAIT_MS)
    table = insp.scores
    shown = [table.item(r, 0).text() for r in range(table.rowCount())]
    assert sorted(shown) == sorted(typed)  # as typed, not lower-cased
    assert sorted(r.name for r in insp.rows) == sorted(n.lower() for n in typed)  # scored so
    assert "1 repeated" in insp.list_status.text()
    rows = sum(table.visualRect(table.model().index(r, 0)).bottom() <= table.viewport().height()
               for r in range(table.rowCount()))
    assert rows >= 8


def test_a_space_is_shown_visibly(qtbot, tmp_path):
    corpus = tmp_path / "spaced.txt"
    corpus.write_text("van dam\nde la cruz\nle roy\nvon berg\nal amin\nda silva\n",
                      encoding="utf-8")
    w = open_window(qtbot, tmp_path, corpus)
    train(qtbot, w, 50)
    w.actions_.show_inspector.trigger()
    wait_snapshot(qtbot, w)
    insp = w.inspector
    insp.name_edit.setText("le roy")
    chars = [c for c, _pct in insp.strip.cell_texts()]
    assert chars == ["l", "e", "␣", "r", "o", "y", "⏎"]
    insp.strip.select(3)  # after "le ": the alternatives table and its title
    assert "le␣" in insp.alt_title.text()
    insp.strip.select(2)
    shown = [insp.alternatives.item(0, c).text() for c in range(insp.alternatives.columnCount())]
    assert "␣" in shown and " " not in shown
    assert " " in [ch for ch, _p in insp.alternatives_shown()]  # read back as a space


# -- the Runs tab ---------------------------------------------------------------------------

def test_a_paused_run_is_not_labelled_training_and_its_curve_fits(qtbot, tmp_path, tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus, budget=0)
    w.actions_.show_runs.trigger()
    w.actions_.start.trigger()
    view = w.runs_view
    qtbot.waitUntil(lambda: view.live is not None and w.session.iteration > 300, timeout=WAIT_MS)
    run_id = view.live[0]
    assert view._item(run_id).text(0).endswith("(training)")
    w.actions_.pause.trigger()
    wait_stopped(qtbot, w)
    assert view._item(run_id).text(0).endswith("(current)")
    w.actions_.start.trigger()
    qtbot.waitUntil(lambda: view._item(run_id).text(0).endswith("(training)"), timeout=WAIT_MS)
    w.actions_.pause.trigger()
    wait_stopped(qtbot, w)

    qtbot.waitUntil(lambda: view.runs[run_id].iterations == w.session.iteration, timeout=WAIT_MS)
    main, _val = view.curves[run_id]
    vb = view.plot.getPlotItem().getViewBox()
    vb.prepareForPaint()
    (_x0, _x1), (y0, y1) = vb.viewRange()
    y = main.yData
    assert y0 <= np.min(y) and np.max(y) <= y1  # the top of the curve is not cut


def test_the_empty_runs_hint_fits_the_plot(qtbot):
    from PySide6.QtGui import QAction

    view = RunsView(QAction("Delete"))
    qtbot.addWidget(view)
    view.resize(520, 420)
    view.show()
    view.set_runs([])
    qtbot.waitExposed(view)
    vb = view.plot.getPlotItem().getViewBox()
    hint = view.placeholder
    assert "No runs yet" in hint.toPlainText()
    text = hint.textItem.boundingRect()
    assert text.width() <= vb.boundingRect().width()  # wrapped, not cut at the sides
    assert view.table_title.wordWrap()


def test_a_run_record_shows_in_the_list_with_its_state(qtbot):
    from PySide6.QtGui import QAction

    view = RunsView(QAction("Delete"))
    qtbot.addWidget(view)
    run = Run("r1", "dinos", {"preset": "default", "hidden": 50, "cell": "rnn",
                              "optimizer": "adam"}, 0.0, 3, np.array([3.0, 2.0, 1.0]))
    view.add_run(run, live=True)
    assert view._item("r1").text(0) == "#1 (current)"
    view.set_training(True)
    assert view._item("r1").text(0) == "#1 (training)"
    view.end_live()
    assert view._item("r1").text(0) == "#1"


def test_at_the_width_of_a_1024_window_every_run_and_its_differing_values_read_whole(qtbot):
    """Two runs that differ in three settings, in the width the Runs tab has in a 1024-pixel
    window: the settings table shows every run's value in full (beside the plot it was ~70 px
    wide and showed the first run's only), and Started is the time, not a cut date."""
    from PySide6.QtGui import QAction

    view = RunsView(QAction("Delete"))
    qtbot.addWidget(view)
    view.resize(360, 420)
    view.show()
    base = {"preset": "default", "cell": "gru", "optimizer": "adam", "dropout": 0.2}
    started = time.time()
    for k, (hidden, lr, layers) in enumerate(((64, 0.003, 1), (256, 0.0005, 2))):
        view.add_run(Run(f"r{k}", "towns-302", {**base, "hidden": hidden, "lr": lr,
                                                "layers": layers},
                         started, 3, np.array([3.0, 2.0, 1.0]),
                         val_iterations=np.array([0, 2]), val_losses=np.array([2.5, 1.5])))
    view.set_all_ticked(True)
    qtbot.waitExposed(view)
    # a line per run, and one key for every run's held-out points (a key per run doubled the
    # legend, which took the plot's height)
    assert [label.text for _sample, label in view.legend.items] == [
        "#1 towns-302 · GRU 64, adam", "#2 towns-302 · 2×GRU 256, adam",
        "held-out (each run's colour)"]
    table = view.table
    assert set(view.differing_rows()) == {"hidden", "lr", "layers"}
    qtbot.waitUntil(lambda: table.viewport().width() > 0)
    for c in range(table.columnCount()):
        assert table.columnWidth(c) >= table.sizeHintForColumn(c), c
    assert sum(table.columnWidth(c) for c in range(table.columnCount())) \
        <= table.viewport().width()
    assert view._item("r0").text(3) == time.strftime("%H:%M", time.localtime(started))
    assert view._item("r0").toolTip(3).startswith(time.strftime("%Y-%m-%d",
                                                                time.localtime(started)))


def test_a_run_started_another_day_shows_its_date():
    from dinogui.widgets.runs_view import started_text

    noon = time.mktime((2026, 12, 7, 12, 0, 0, 0, 0, -1))
    assert started_text(noon, now=noon + 3600) == "12:00"
    assert started_text(noon, now=noon + 86400) == "2026-12-07"
