"""The Runs tab: every model trained in the window keeps a run record (settings and curves);
ticked runs share a plot and a table of the settings that differ."""

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from dinogui.core.runs import RunStore
from tests.gui_support import (
    WAIT_MS,
    ScriptedDialogs,
    open_window,
    set_panel,
    settings_at,
    settle,
    train,
    trainer_arrays,
    wait_stopped,
)

pytest.importorskip("pytestqt")


def store_of(tmp_path) -> RunStore:
    return RunStore(tmp_path / "data" / "runs")


def saved_at(tmp_path, iterations: list[int]):
    """Wait for the background writes: the stored runs' iteration counts, oldest first."""
    return lambda: [r.iterations for r in store_of(tmp_path).runs()] == iterations


def reset_model(qtbot, w) -> None:
    """Training > Reset Model, confirming the discard of unsaved training."""
    generation = w.session.generation
    w.dialogs.choices.append(1)  # Discard
    w.actions_.reset.trigger()
    qtbot.waitUntil(lambda: w.session.generation != generation and not w.session.busy,
                    timeout=WAIT_MS)


def click_run(qtbot, w, number: int, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    view = w.runs_view
    run_id = next(r for r, n in view.numbers.items() if n == number)
    item = view._item(run_id)
    rect = view.list.visualItemRect(item)
    x = view.list.columnViewportPosition(1) + 10  # on the corpus, away from the tick box
    qtbot.mouseClick(view.list.viewport(), Qt.MouseButton.LeftButton, modifier,
                     QPoint(x, rect.center().y()))


def drawn(view, run_id: str) -> int:
    """Points in the run's curve on the plot."""
    y = view.curves[run_id][0].yData
    return 0 if y is None else len(y)


def test_two_runs_with_different_learning_rates_compare(qtbot, tmp_path, tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus, dialogs=ScriptedDialogs(), preset="default",
                    hidden=16, lr=0.01)
    train(qtbot, w, 80)
    first_curve = trainer_arrays(w)["smooth_char"]
    reset_model(qtbot, w)
    set_panel(w, lr=0.02)  # a fresh model, not yet trained: this is its learning rate
    train(qtbot, w, 120)
    second_curve = trainer_arrays(w)["smooth_char"]
    qtbot.waitUntil(saved_at(tmp_path, [80, 120]), timeout=WAIT_MS)

    w.actions_.show_runs.trigger()  # Ctrl+R
    view = w.runs_view
    assert w.views.currentWidget() is view
    a, b = store_of(tmp_path).runs()
    assert (a.config["lr"], b.config["lr"]) == (0.01, 0.02)
    np.testing.assert_array_equal(a.smooth_char, first_curve)
    np.testing.assert_array_equal(b.smooth_char, second_curve)
    assert view.ticked_ids() == [a.run_id, b.run_id]  # new runs are ticked
    for run, curve in ((a, first_curve), (b, second_curve)):
        main, val = view.curves[run.run_id]
        np.testing.assert_array_equal(main.yData, curve)
        np.testing.assert_array_equal(val.yData, run.val_losses)  # held-out points, dashed
    assert len(a.val_losses) >= 1  # the default preset holds out a tenth of the names
    colors = {view.curves[r][0].opts["pen"].color().name() for r in (a.run_id, b.run_id)}
    assert len(colors) == 2
    assert view.differing_rows() == {"lr": ["0.01", "0.02"]}  # exactly the learning rate
    legend = [label.text for _, label in view.legend.items]
    assert any(t.startswith("#1 tiny") for t in legend) and any(t.startswith("#2") for t in legend)

    view.set_ticked(a.run_id, False)  # untick: one curve, nothing to compare
    assert list(view.curves) == [b.run_id] and view.differing_rows() == {}
    assert "two or more" in view.table_title.text()


def test_the_run_in_training_grows_live_and_is_saved_on_pause(qtbot, tmp_path, tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus, budget=0)  # classic, until paused
    w.actions_.show_runs.trigger()
    w.actions_.start.trigger()
    view = w.runs_view
    qtbot.waitUntil(lambda: view.live is not None, timeout=WAIT_MS)
    run_id = view.live[0]
    assert view._item(run_id).text(0).endswith("(training)")
    qtbot.waitUntil(lambda: drawn(view, run_id) > 100, timeout=WAIT_MS)
    assert w.session.training  # drawn while training goes on
    w.actions_.pause.trigger()
    wait_stopped(qtbot, w)
    qtbot.waitUntil(saved_at(tmp_path, [w.session.iteration]), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: view.runs[run_id].iterations == w.session.iteration, timeout=WAIT_MS)
    history = trainer_arrays(w)["smooth_char"]
    (run,) = store_of(tmp_path).runs()
    np.testing.assert_array_equal(run.smooth_char, history)
    qtbot.waitUntil(lambda: drawn(view, run_id) == w.session.iteration, timeout=WAIT_MS)
    np.testing.assert_array_equal(view.curves[run_id][0].yData, history)
    assert view._item(run_id).text(4) == f"{w.session.iteration:,}"

    train(qtbot, w, w.session.iteration + 50)  # resuming continues the same run
    qtbot.waitUntil(saved_at(tmp_path, [w.session.iteration]), timeout=WAIT_MS)


def test_runs_outlive_the_window_and_deleting_asks_first(qtbot, tmp_path, tiny_corpus):
    settings = settings_at(tmp_path)
    w = open_window(qtbot, tmp_path, tiny_corpus, settings=settings, dialogs=ScriptedDialogs())
    train(qtbot, w, 30)
    reset_model(qtbot, w)
    train(qtbot, w, 40)
    reset_model(qtbot, w)
    w.hyperparams.budget.setValue(0)  # unlimited
    w.actions_.start.trigger()  # closing mid-training writes the run's last steps too
    qtbot.waitUntil(lambda: w.session.iteration > 60, timeout=WAIT_MS)
    w.close()
    stored = store_of(tmp_path).runs()
    assert [r.iterations for r in stored[:2]] == [30, 40]
    assert stored[2].iterations == w.worker.call(lambda t: t.iteration) > 60

    dialogs = ScriptedDialogs()
    again = open_window(qtbot, tmp_path, dialogs=dialogs, settings=settings_at(tmp_path))
    view = again.runs_view
    qtbot.waitUntil(lambda: view.loaded, timeout=WAIT_MS)
    assert [view.runs[r].iterations for r in view.runs] == [30, 40, stored[2].iterations]
    assert view.ticked_ids() == [stored[1].run_id, stored[2].run_id]  # the newest two
    assert not again.actions_.delete_runs.isEnabled()  # nothing selected

    again.actions_.show_runs.trigger()
    click_run(qtbot, again, 1)
    assert view.selected_ids() == [stored[0].run_id]
    dialogs.confirms = [False]
    qtbot.keyClick(view.list, Qt.Key.Key_Delete)
    assert "Delete 1 run from disk?" in dialogs.asked[-1][1]
    assert len(store_of(tmp_path).runs()) == 3 and len(view.runs) == 3  # cancelled: kept

    click_run(qtbot, again, 3, Qt.KeyboardModifier.ControlModifier)  # and a second one
    dialogs.confirms = [True]
    again.actions_.delete_runs.trigger()
    assert "Delete 2 runs" in dialogs.asked[-1][1]
    assert [r.run_id for r in store_of(tmp_path).runs()] == [stored[1].run_id]
    assert list(view.runs) == [stored[1].run_id]
    assert view.ticked_ids() == [stored[1].run_id] and list(view.curves) == [stored[1].run_id]


def test_deleting_the_run_in_training_stops_its_record(qtbot, tmp_path, tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus, dialogs=ScriptedDialogs())
    train(qtbot, w, 20)
    qtbot.waitUntil(saved_at(tmp_path, [20]), timeout=WAIT_MS)
    w.actions_.show_runs.trigger()
    click_run(qtbot, w, 1)
    w.dialogs.confirms = [True]
    w.actions_.delete_runs.trigger()
    assert "its run stops being recorded" in w.dialogs.asked[-1][1]
    assert store_of(tmp_path).runs() == [] and w.runs.current_run is None
    train(qtbot, w, 40)  # the same model trains on without a record
    settle()
    assert store_of(tmp_path).runs() == [] and not w.runs_view.runs
    assert "No runs yet" in w.runs_view.placeholder.textItem.toPlainText()


def test_a_model_opened_from_a_checkpoint_is_not_a_new_run(qtbot, tmp_path, tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus, dialogs=ScriptedDialogs())
    train(qtbot, w, 25)
    path = tmp_path / "model.npz"
    w.save_to(path)
    qtbot.waitUntil(lambda: w.session.saved_iteration == 25, timeout=WAIT_MS)
    w.open_checkpoint_path(path)
    qtbot.waitUntil(lambda: not w.session.busy and w.session.checkpoint_path == path,
                    timeout=WAIT_MS)
    train(qtbot, w, 45)
    qtbot.waitUntil(saved_at(tmp_path, [25]), timeout=WAIT_MS)  # the first run only


def test_a_damaged_run_file_is_skipped_with_a_note_and_the_others_show(qtbot, tmp_path,
                                                                       tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus)
    train(qtbot, w, 30)
    reset_model(qtbot, w)
    train(qtbot, w, 20)
    qtbot.waitUntil(saved_at(tmp_path, [30, 20]), timeout=WAIT_MS)
    w.close()
    folder = tmp_path / "data" / "runs"
    good = sorted(folder.glob("run-*"))
    assert len(good) == 2
    damaged = folder / f"run-0000-damaged{good[0].suffix}"
    damaged.write_bytes(good[0].read_bytes()[:200])  # cut short, as by a full disk
    empty = folder / "run-0001-empty.npz"
    empty.write_bytes(b"")

    again = open_window(qtbot, tmp_path)
    qtbot.waitUntil(lambda: again.runs_view.loaded, timeout=WAIT_MS)
    assert sorted(r.iterations for r in again.runs_view.runs.values()) == [20, 30]
    note = again.runs.skipped_note  # over the Runs list
    assert not note.isHidden()
    assert note.text().startswith(f"Skipped a damaged run record (and 1 more): {damaged.name}")
    assert str(damaged) in note.toolTip() and str(empty) in note.toolTip()
    assert note.text() in again.log.toPlainText()  # and in the Reports log
    assert not again.dialogs.errors  # a note, not a dialog at every launch
