"""The Inspector tab: a typed name's per-character probabilities and a list scored by
likelihood, on a snapshot of the live model, checked against core.scoring."""

import numpy as np
import pytest
from PySide6.QtCore import Qt

from dinogui.core.novelty import NearestNames
from dinogui.core.scoring import inspect_name, loglik_per_char
from tests.gui_support import WAIT_MS, open_window, settle, train, wait_stopped

pytest.importorskip("pytestqt")


def model_now(w):
    """The attached model's own sampler (copied), read between steps."""
    return w.worker.call(lambda t: t.sampler(copy_params=True))


def wait_snapshot(qtbot, w):
    qtbot.waitUntil(lambda: w.inspector.snapshot_key == (w.session.generation, w.session.iteration),
                    timeout=WAIT_MS)


@pytest.mark.parametrize("preset,panel", [("classic", {}), ("default", {"cell": "gru",
                                                                         "hidden": 24})])
def test_typed_name_shows_the_models_probabilities(qtbot, tmp_path, tiny_corpus, preset, panel):
    w = open_window(qtbot, tmp_path, tiny_corpus, preset=preset, **panel)
    train(qtbot, w, 60)
    w.actions_.show_inspector.trigger()  # Ctrl+I
    assert w.views.currentWidget() is w.inspector
    wait_snapshot(qtbot, w)
    assert "Model at iteration 60" in w.inspector.snapshot_label.text()
    qtbot.keyClicks(w.inspector.name_edit, "Finn")  # capitals: the corpus is lower-case

    s = model_now(w)
    ref = inspect_name(s.batched_model(), s.vocab, "finn")
    ins = w.inspector.strip.inspection
    np.testing.assert_array_equal(ins.p_target, ref.p_target)
    np.testing.assert_array_equal(ins.probs, ref.probs)
    cells = w.inspector.strip.cell_texts()
    assert [c for c, _ in cells] == ["f", "i", "n", "n", "⏎"]
    for (_, pct), p in zip(cells, ref.p_target, strict=True):
        value = float(pct.lstrip("<").rstrip("%")) / 100
        assert abs(value - p) <= 0.006 or (pct == "<0.1%" and p < 0.001)
    per_char = loglik_per_char(s.batched_model(), s.vocab, ["finn"])[0]
    assert ref.loglik_per_char == pytest.approx(per_char, abs=1e-9)
    summary = w.inspector.summary.text()
    assert f"{per_char:.3f} nats" in summary and "lower case" in summary

    strip = w.inspector.strip
    qtbot.mouseClick(strip, Qt.MouseButton.LeftButton, pos=strip.cell_rect(2).center().toPoint())
    assert strip.selected == 2
    shown = w.inspector.alternatives_shown()
    top = ref.top(2)
    assert [c for c, _ in shown[:5]] == [c for c, _ in top]
    np.testing.assert_allclose([p for _, p in shown[:5]], [p for _, p in top], atol=5e-5)
    if ref.rank[2] > 5:  # the character that came is added after the top five
        assert shown[5][0] == "n"
    assert "After “fi”" in w.inspector.alt_title.text()

    qtbot.keyClick(strip, Qt.Key.Key_End)  # the end of the name, by keyboard
    assert strip.selected == 4
    assert "ending the name" in w.inspector.alt_title.text()
    qtbot.keyClick(strip, Qt.Key.Key_Left)
    assert strip.selected == 3


def test_characters_the_model_does_not_know_are_explained(qtbot, tmp_path, tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus)
    w.actions_.show_inspector.trigger()
    wait_snapshot(qtbot, w)
    qtbot.keyClicks(w.inspector.name_edit, "dan!")
    w.inspector.name_edit.insert("é")  # pasted: QTest types ASCII only
    text = w.inspector.summary.text()
    assert "Cannot score this name" in text and "“!”" in text and "“é”" in text
    assert w.inspector.strip.inspection is None and w.inspector.strip.cell_texts() == []
    w.inspector.name_edit.clear()
    qtbot.keyClicks(w.inspector.name_edit, "dan")
    assert len(w.inspector.strip.cell_texts()) == 4  # fine again


def test_no_model_shows_a_placeholder(qtbot, tmp_path):
    w = open_window(qtbot, tmp_path)
    w.actions_.show_inspector.trigger()
    assert w.inspector.pages.currentIndex() == 0
    assert "No model yet" in w.inspector.placeholder.text()
    assert not w.actions_.refresh_inspector.isEnabled()
    w.actions_.score_names.trigger()  # nothing to score with: nothing happens
    assert w.inspector.snapshot is None


def test_the_snapshot_follows_training_and_refreshes_on_demand(qtbot, tmp_path, tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus, budget=0)
    w.follower.timer.setInterval(100)  # follow faster than a person would need
    w.actions_.show_inspector.trigger()
    wait_snapshot(qtbot, w)
    qtbot.keyClicks(w.inspector.name_edit, "eve")
    first = w.inspector.strip.inspection.p_target.copy()
    w.actions_.start.trigger()
    qtbot.waitUntil(lambda: w.inspector.snapshot.iteration > 0, timeout=WAIT_MS)
    seen = w.inspector.snapshot.iteration
    qtbot.waitUntil(lambda: w.inspector.snapshot.iteration > seen, timeout=WAIT_MS)  # again
    assert w.session.training  # it follows while training goes on

    w.inspector.follow.setChecked(False)
    qtbot.waitUntil(lambda: not w.follower.asking, timeout=WAIT_MS)  # none in flight
    held = w.inspector.snapshot.iteration
    qtbot.waitUntil(lambda: w.session.iteration > held + 200, timeout=WAIT_MS)
    ticks = []
    w.follower.timer.timeout.connect(lambda: ticks.append(w.session.iteration))
    qtbot.waitUntil(lambda: len(ticks) >= 3, timeout=WAIT_MS)  # three follow ticks
    settle()  # whatever a tick asked the worker for has come back
    assert w.inspector.snapshot.iteration == held  # unticked: it stays
    w.actions_.refresh_inspector.trigger()  # Ctrl+Shift+I
    qtbot.waitUntil(lambda: w.inspector.snapshot.iteration > held, timeout=WAIT_MS)

    w.actions_.pause.trigger()
    wait_stopped(qtbot, w)
    wait_snapshot(qtbot, w)  # paused: the snapshot is the model as it stopped
    s = model_now(w)
    ins = w.inspector.strip.inspection
    np.testing.assert_array_equal(ins.p_target,
                                  inspect_name(s.batched_model(), s.vocab, "eve").p_target)
    assert not np.array_equal(ins.p_target, first)  # the model moved on, and so did the strip
    assert f"Model at iteration {w.session.iteration:,}" in w.inspector.snapshot_label.text()


def test_a_list_is_scored_sorted_and_marked(qtbot, tmp_path, tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus)
    train(qtbot, w, 200)
    w.actions_.show_inspector.trigger()
    wait_snapshot(qtbot, w)
    insp = w.inspector
    insp.list_edit.setPlainText("Ada\nadan\n\nvyb\nbob!\nada\n  gus  \nfinnegan\nadam\n")
    insp.list_edit.setFocus()
    w.actions_.score_names.trigger()  # Ctrl+Enter in the list
    qtbot.waitUntil(lambda: len(insp.rows) == 7 and insp.nearest_done, timeout=WAIT_MS)

    s = model_now(w)
    good = ["ada", "adan", "vyb", "gus", "finnegan"]
    ll = dict(zip(good, loglik_per_char(s.batched_model(), s.vocab, good), strict=True))
    names = [r.name for r in insp.rows]
    assert names[:5] == sorted(good, key=lambda n: -ll[n]) and names[5:] == ["bob!", "adam"]
    np.testing.assert_allclose(insp.score_column()[:5], [ll[n] for n in names[:5]], rtol=1e-12)
    assert np.isnan(insp.score_column()[5:]).all()
    table = insp.scores
    row = {table.item(r, 0).text().lower(): r for r in range(table.rowCount())}
    assert [table.item(r, 0).text().lower() for r in range(7)] == names  # shown in that order
    assert table.item(row["ada"], 2).text() == "yes" and table.item(row["adan"], 2).text() == ""
    near = NearestNames(["ada", "bob", "cyrus", "dan", "eve", "finnegan", "gus", "hal"])
    assert table.item(row["adan"], 3).text() == near.nearest("adan").name + " (1)"
    assert "'!'" in table.item(row["bob!"], 3).text()
    assert "'m'" in table.item(row["adam"], 3).text()
    status = insp.list_status.text()
    assert "5 names scored" in status and "at iteration 200" in status
    assert "2 could not be scored" in status and "1 repeated" in status


def test_a_list_loads_from_a_file_and_bad_files_are_refused(qtbot, tmp_path, tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus)
    w.actions_.show_inspector.trigger()
    wait_snapshot(qtbot, w)
    rng = np.random.default_rng(5)
    letters = list("abcdefghilnorsuvy")
    made = list(dict.fromkeys("".join(rng.choice(letters, rng.integers(2, 9)))
                              for _ in range(140)))
    good = tmp_path / "mine.txt"
    good.write_text("\n".join(["hal", "eve", "dan", *made]) + "\n", encoding="utf-8")
    w.dialogs.open_paths = [str(good)]
    qtbot.mouseClick(w.inspector.load_button, Qt.MouseButton.LeftButton)  # Load… scores too
    qtbot.waitUntil(lambda: w.inspector.nearest_done and len(w.inspector.rows) > 3,
                    timeout=WAIT_MS)
    rows = {r.name: r for r in w.inspector.rows}
    assert len(rows) == len({"hal", "eve", "dan", *made})
    assert rows["hal"].in_corpus and rows["eve"].in_corpus and rows["dan"].in_corpus
    near = NearestNames(["ada", "bob", "cyrus", "dan", "eve", "finnegan", "gus", "hal"])
    for name, row in rows.items():  # found in chunks, all of them, the same as core's
        expected = near.nearest(name)
        assert (row.nearest, row.distance) == (expected.name, expected.distance)
    assert "finding" not in w.inspector.list_status.text()

    bad = tmp_path / "binary.txt"
    bad.write_bytes(b"\xff\xfe\x00bad")
    w.dialogs.open_paths = [str(bad)]
    qtbot.mouseClick(w.inspector.load_button, Qt.MouseButton.LeftButton)
    assert w.dialogs.errors and w.dialogs.errors[-1][0] == "Cannot load names"
    assert w.inspector.list_edit.toPlainText().startswith("hal\neve\ndan\n")  # kept


def test_the_keyboard_reaches_everything(qtbot, tmp_path, tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus)
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=WAIT_MS)
    qtbot.keyClick(w, Qt.Key.Key_I, Qt.KeyboardModifier.ControlModifier)
    assert w.views.currentWidget() is w.inspector and w.inspector.name_edit.hasFocus()
    wait_snapshot(qtbot, w)
    qtbot.keyClicks(w.inspector.name_edit, "hal")
    qtbot.keyClick(w.inspector.name_edit, Qt.Key.Key_Tab)  # on to the strip
    assert w.inspector.strip.hasFocus()
    qtbot.keyClick(w.inspector.strip, Qt.Key.Key_Right)
    assert w.inspector.strip.selected == 1
    w.inspector.list_edit.setPlainText("ada\neve")
    w.inspector.list_edit.setFocus()
    qtbot.keyClick(w.inspector.list_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: len(w.inspector.rows) == 2, timeout=WAIT_MS)
    assert w.inspector.list_edit.toPlainText() == "ada\neve"  # the shortcut typed no newline


def test_sampling_and_the_inspector_share_one_nearest_name_index(qtbot, tmp_path, tiny_corpus,
                                                                 monkeypatch):
    import dinogui.document.favourites as favourites

    built = []

    class Counting(NearestNames):
        def __init__(self, names) -> None:
            built.append(len(names))
            super().__init__(names)

    monkeypatch.setattr(favourites, "NearestNames", Counting)
    w = open_window(qtbot, tmp_path, tiny_corpus)
    train(qtbot, w, 50)
    w.actions_.sample.trigger()
    qtbot.waitUntil(lambda: bool(w.samples.names()), timeout=WAIT_MS)
    w.actions_.show_inspector.trigger()
    wait_snapshot(qtbot, w)
    w.inspector.list_edit.setPlainText("adan\nvyb")
    w.actions_.score_names.trigger()
    qtbot.waitUntil(lambda: len(w.inspector.rows) == 2 and w.inspector.nearest_done,
                    timeout=WAIT_MS)
    assert [r.nearest for r in w.inspector.rows if r.name == "adan"] == ["ada"]
    assert built == [8]  # one index for the corpus, built once for both
