"""Samples in the window: the held-out curve, the novelty rate, sampling constraints, scores and
nearest names, favourites and their export; each checked against the engine and the CLI.
Samples of an earlier model are marked as such, or cleared with it."""

import json
import re
import shlex

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

import dinogui.main_window as main_window
from dinogui import cli
from dinogui.core import checkpoint
from dinogui.core.corpus import load_corpus
from dinogui.core.novelty import NearestNames, novelty_rate
from dinogui.core.sampling import ConstraintsUnmet, SampleSpec, display_name
from dinogui.core.trainer import Trainer
from dinogui.widgets.samples_panel import (
    COL_NAME,
    COL_NEAREST,
    COL_SCORE,
    COL_STAR,
    IN_CORPUS,
    STAR,
    UNSTAR,
)
from tests.gui_support import (
    WAIT_MS,
    ScriptedDialogs,
    draw,
    open_window,
    settings_at,
    train,
    wait_ready,
)

pytest.importorskip("pytestqt")

WAIT = 20_000


def save_as(qtbot, w, path) -> None:
    w.dialogs.save_paths = [str(path)]
    w.actions_.save_as.trigger()
    qtbot.waitUntil(lambda: not w.isWindowModified(), timeout=WAIT)


def sample(qtbot, w, **controls) -> None:
    """Set the panel's controls as a user would and press Sample; wait for the new list."""
    p = w.samples
    for name, value in controls.items():
        box = getattr(p, name)
        if isinstance(value, bool):
            box.setChecked(value)
        elif isinstance(value, str):
            box.setText(value)
        else:
            box.setValue(value)
    before = p.summary.text()
    errors = len(w.dialogs.errors)
    w.actions_.sample.trigger()
    qtbot.waitUntil(lambda: p.summary.text() != before or len(w.dialogs.errors) > errors,
                    timeout=WAIT)


def items(tree):
    return [tree.topLevelItem(i) for i in range(tree.topLevelItemCount())]


def click_cell(qtbot, tree, item, column) -> None:
    x = tree.header().sectionViewportPosition(column) + tree.header().sectionSize(column) // 2
    y = tree.visualItemRect(item).center().y()
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, y))


def click_header(qtbot, tree, column) -> None:
    header = tree.header()
    x = header.sectionViewportPosition(column) + header.sectionSize(column) // 2
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton,
                     pos=QPoint(x, header.height() // 2))


# -- the held-out curve -------------------------------------------------------------

def test_the_held_out_curve_follows_training_marks_its_best_and_comes_back_from_a_file(
        qtbot, tmp_path, tiny_corpus, capsys):
    w = open_window(qtbot, tmp_path, tiny_corpus, preset="default", hidden=32, batch_size=4,
                    sample_every=50, patience=0)  # no early stop: the curve turns up
    plot = w.loss_plot
    assert plot.scale == "char" and not plot.val_shown  # nothing measured yet
    train(qtbot, w, 600)
    st = w.worker.call(lambda t: (list(t.state.val_iterations), list(t.state.val_losses),
                                  t.state.best_val, t.state.best_iteration))
    iterations, losses, best_val, best_iteration = st
    assert len(iterations) >= 12  # every report (50) and every 500
    assert plot.val_x == iterations and plot.val_y == losses
    plot.redraw()
    x, y = plot.val_curve.getData()
    np.testing.assert_array_equal(x, iterations)
    np.testing.assert_array_equal(y, losses)
    assert plot.best == (best_iteration, best_val)  # the point the trainer keeps as "best"
    assert plot.best_marker.isVisible() and list(plot.best_marker.getData()[0]) == [
        best_iteration]
    assert plot.best_label.toPlainText() == f"best {best_val:.2f} at {best_iteration:,}"
    vb = plot.view.getPlotItem().getViewBox()
    vb.prepareForPaint()
    assert vb.sceneBoundingRect().contains(plot.best_label.sceneBoundingRect())  # not cut off
    assert "held-out" in [label.text for _, label in plot.legend.items]
    # 8 names, 32 hidden units: the model memorises, the held-out loss turns up again
    assert losses[-1] > best_val and best_iteration < iterations[-1]

    w.actions_.per_name.trigger()  # the held-out loss is per character: hidden, and said so
    assert not plot.val_curve.isVisible() and not plot.best_marker.isVisible()
    assert "held-out loss: shown per character" in plot.caption.text()
    assert "held-out" not in [label.text for _, label in plot.legend.items]
    w.actions_.per_char.trigger()
    assert plot.val_curve.isVisible()

    path = tmp_path / "model.npz"
    save_as(qtbot, w, path)
    w.dialogs.confirms = []
    w.actions_.reset.trigger()  # saved: no question
    qtbot.waitUntil(lambda: w.session.iteration == 0 and not w.session.busy, timeout=WAIT)
    assert plot.val_x == [] and not plot.val_curve.isVisible()
    w.dialogs.open_paths = [str(path)]
    w.actions_.open_checkpoint.trigger()
    qtbot.waitUntil(lambda: w.session.iteration == 600 and not w.session.busy, timeout=WAIT)
    assert plot.val_x == iterations and plot.val_y == losses
    assert plot.best == (best_iteration, best_val) and plot.best_marker.isVisible()

    # sampling from the best weights, as `dinogui sample --best` does from the same file
    assert w.samples.best.isEnabled()
    assert f"at iteration {best_iteration:,}" in w.samples.best.toolTip()
    w.samples.best.setChecked(True)
    w.samples.seed.setValue(2)
    w.actions_.sample.trigger()
    qtbot.waitUntil(lambda: len(w.samples.names()) == 10, timeout=WAIT)
    capsys.readouterr()
    assert cli.main(["sample", "--checkpoint", str(path), "--best", "--seed", "2"]) == 0
    assert w.samples.names() == capsys.readouterr().out.splitlines()
    assert f"best weights (iteration {best_iteration:,})" in w.samples.summary.text()
    w.samples.best.setChecked(False)  # the latest weights draw other names
    w.actions_.sample.trigger()
    qtbot.waitUntil(lambda: "best weights" not in w.samples.summary.text(), timeout=WAIT)
    assert cli.main(["sample", "--checkpoint", str(path), "--seed", "2"]) == 0
    assert w.samples.names() == capsys.readouterr().out.splitlines()


# -- the novelty rate ---------------------------------------------------------------

def test_the_novelty_tab_plots_the_share_of_new_names_in_each_report(qtbot, tmp_path,
                                                                     tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus, sample_every=100)
    w.actions_.show_novelty.trigger()  # View > Novelty Rate (Ctrl+Shift+N)
    assert w.views.currentWidget() is w.novelty_plot
    assert w.novelty_plot.placeholder.isVisible()
    train(qtbot, w, 3000)

    # the same run headless: the reports' names, and their novelty rate
    straight = Trainer(load_corpus(tiny_corpus), w.session.config)
    known = frozenset(straight.corpus.names)
    expected_x, expected = [], []
    for r in straight.run(3000):
        if r.samples is not None:
            expected_x.append(r.iteration)
            expected.append(novelty_rate(r.samples, known))
    plot = w.novelty_plot
    assert plot.iterations == expected_x == list(range(0, 3000, 100))
    assert plot.rates == expected
    assert min(expected) < 1.0  # a trained model repeats some of the 8 names
    plot.redraw()
    x, y = plot.points.getData()
    np.testing.assert_allclose(y, 100 * np.array(expected))
    _, mean = plot.mean_curve.getData()
    assert mean[-1] == pytest.approx(100 * np.mean(expected[-10:]))
    assert not plot.placeholder.isVisible()
    assert f"at iteration {expected_x[-1]:,}" in plot.caption.text()

    path = tmp_path / "model.npz"
    save_as(qtbot, w, path)
    w.dialogs.open_paths = [str(path)]
    w.actions_.open_checkpoint.trigger()  # report names are not in checkpoints: empty, and why
    qtbot.waitUntil(lambda: not w.session.busy and plot.iterations == [], timeout=WAIT)
    assert plot.placeholder.isVisible() and "not kept in checkpoints" in plot.note
    w.actions_.show_loss.trigger()
    assert w.views.currentWidget() is w.loss_plot


# -- sampling controls --------------------------------------------------------------

@pytest.mark.parametrize("preset", ["classic", "default"])
def test_constrained_samples_and_scores_equal_dinogui_sample(qtbot, tmp_path, tiny_corpus,
                                                             capsys, preset):
    w = open_window(qtbot, tmp_path, tiny_corpus, preset=preset, batch_size=4)
    train(qtbot, w, 300)
    path = tmp_path / "model.npz"
    save_as(qtbot, w, path)
    sample(qtbot, w, count=6, seed=4, temperature=1.2, top_k=5, suffix="N", min_len=3,
           new_only=True, best=False)  # "N": folded to the lower-case names, as the CLI folds it
    names = w.samples.names()
    assert len(names) == 6 and all(n.endswith("n") and len(n) >= 3 for n in names)

    capsys.readouterr()
    flags = ["--checkpoint", str(path), "--count", "6", "--seed", "4", "--temperature", "1.2",
             "--top-k", "5", "--suffix", "N", "--min-len", "3", "--new-only"]
    assert cli.main(["sample", *flags]) == 0
    out = capsys.readouterr()
    assert names == out.out.splitlines()
    dropped, rejected, drawn = map(int, re.search(
        r"dropped (\d+) names already in the corpus; rejected (\d+) not ending in 'n' "
        r"\((\d+) drawn", out.err).groups())
    summary = w.samples.summary.text()
    assert (f"dropped {dropped:,} already in the corpus and {rejected:,} not ending in 'n' "
            f"({drawn:,} drawn)") in summary

    assert cli.main(["sample", *flags, "--scores"]) == 0
    lines = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    rows = w.samples.rows()
    assert [r.display for r in rows] == [name for name, _, _ in lines]
    assert [f"{r.loglik_per_char:.4f}" for r in rows] == [score for _, score, _ in lines]
    assert [display_name(r.nearest) for r in rows] == [near for _, _, near in lines]
    assert not any(r.known for r in rows)  # new names only


def test_scores_and_nearest_names_match_the_engine_and_every_column_sorts(qtbot, tmp_path,
                                                                          tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus)
    train(qtbot, w, 2500)
    sample(qtbot, w, count=40, seed=1)
    rows = w.samples.rows()
    raw = [r.name for r in rows]
    sampler = w.worker.call(lambda t: t.sampler(copy_params=True))
    assert raw == sampler.draw(40, 1).names and "" not in raw  # as `dinogui sample` draws
    own = sampler.sample(40, 1)  # unconstrained: the model's own scheme, empty names redrawn
    assert [n for n, o in zip(raw, own, strict=True) if o] == [o for o in own if o]
    np.testing.assert_allclose([r.loglik_per_char for r in rows],
                               sampler.loglik_per_char(raw), rtol=0, atol=1e-12)
    corpus = load_corpus(tiny_corpus).names
    index = NearestNames(corpus)
    for r in rows:
        near = index.nearest(r.name)
        assert (r.nearest, r.distance, r.known) == (near.name, near.distance, r.name in corpus)
    assert any(r.known for r in rows) and not all(r.known for r in rows)

    tree = w.samples.list
    shown = {i.text(COL_NAME): i for i in items(tree)}
    for r in rows:
        cell = shown[r.display].text(COL_NEAREST)
        assert cell == (IN_CORPUS if r.known else f"{display_name(r.nearest)} ({r.distance})")
        assert shown[r.display].text(COL_SCORE) == f"{r.loglik_per_char:.2f}"

    click_header(qtbot, tree, COL_SCORE)  # a click on a header sorts by it
    assert tree.sortColumn() == COL_SCORE
    scores = [i.sampled.loglik_per_char for i in items(tree)]
    assert scores == sorted(scores) or scores == sorted(scores, reverse=True)
    click_header(qtbot, tree, COL_SCORE)  # and again the other way
    again = [i.sampled.loglik_per_char for i in items(tree)]
    assert again == scores[::-1] or again == sorted(scores, reverse=True)
    click_header(qtbot, tree, COL_NEAREST)
    keys = [(i.sampled.distance, i.sampled.nearest) for i in items(tree)]
    assert keys == sorted(keys) or keys == sorted(keys, reverse=True)
    assert w.samples.names() == [display_name(n) for n in raw]  # copy/export: the drawn order


def test_impossible_or_unmet_constraints_say_why_and_keep_the_list(qtbot, tmp_path,
                                                                   tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus, preset="default", batch_size=4)
    train(qtbot, w, 200)
    path = tmp_path / "model.npz"
    save_as(qtbot, w, path)
    sample(qtbot, w, count=5, seed=0)
    kept = w.samples.names()
    assert len(kept) == 5

    sample(qtbot, w, min_len=9, max_len=6)  # refused before anything is drawn
    title, text = w.dialogs.errors[-1]
    assert title == "Cannot sample" and "minimum length 9 is more than the maximum length 6" in text
    assert w.samples.names() == kept

    sample(qtbot, w, min_len=0, max_len=50, prefix="x7")  # characters the model never saw
    title, text = w.dialogs.errors[-1]
    assert "prefix 'x7' contains '7', 'x', which the corpus never uses" in text
    assert w.samples.names() == kept

    # an ending this model hardly ever writes: what was found, and why there is no more
    errors = len(w.dialogs.errors)
    sample(qtbot, w, prefix="", suffix="saurus", count=3)
    assert len(w.dialogs.errors) == errors  # not an error: a result that fell short
    engine = checkpoint.load(path).sampler()
    with pytest.raises(ConstraintsUnmet) as unmet:
        engine.draw(3, 0, SampleSpec(suffix="saurus", max_len=50))
    assert w.samples.names() == [display_name(n) for n in unmet.value.found]
    summary = w.samples.summary.text()
    assert "of 3 names met the constraints" in summary and "try" in summary
    assert "met the constraints" in w.log.toPlainText()


def test_the_sampling_controls_are_remembered(qtbot, tmp_path, tiny_corpus):
    settings = settings_at(tmp_path)
    w = open_window(qtbot, tmp_path, tiny_corpus, settings=settings)
    p = w.samples
    p.top_k.setValue(4)
    p.min_len.setValue(3)
    p.prefix.setText("Da")
    p.suffix.setText("n")
    p.new_only.setChecked(True)
    p.top_p.setValue(0.85)
    p.beam.setChecked(True)
    w.close()
    again = main_window.MainWindow(settings=settings_at(tmp_path), dialogs=ScriptedDialogs(),
                                   data_dir=tmp_path / "data")
    qtbot.addWidget(again)
    wait_ready(qtbot, again)
    q = again.samples
    assert (q.top_k.value(), q.min_len.value(), q.prefix.text(), q.suffix.text(),
            q.new_only.isChecked()) == (4, 3, "Da", "n", True)
    assert q.top_k.text() == "4" and again.samples.request().spec(True).prefix == "da"
    assert q.top_p.value() == 0.85 and q.beam.isChecked() and not q.seed.isEnabled()
    assert q.request().spec(True).top_p == 0.85 and q.request().beam
    q.top_k.setValue(0)
    assert q.top_k.text() == "off" and q.request().spec(True).top_k is None
    q.top_p.setValue(0)
    assert q.top_p.text() == "off" and q.request().spec(True).top_p is None
    q.top_p.stepUp()
    assert q.top_p.value() == pytest.approx(0.05)
    q.top_p.setValue(0.004)  # below MIN_TOP_P rounds to the field's 2 decimals: off
    assert q.request().spec(True).top_p is None


@pytest.mark.parametrize("preset", ["classic", "default"])
def test_most_likely_names_with_top_p_equal_dinogui_sample_beam(qtbot, tmp_path, tiny_corpus,
                                                               capsys, preset):
    """Top-p and "Most likely (beam)" in the panel give what `dinogui sample --beam --top-p`
    prints; the seed plays no part (its field is disabled), and a favourite's export command
    draws it again."""
    w = open_window(qtbot, tmp_path, tiny_corpus, preset=preset, batch_size=4)
    train(qtbot, w, 300)
    path = tmp_path / "model.npz"
    save_as(qtbot, w, path)
    p = w.samples
    assert p.seed.isEnabled()
    sample(qtbot, w, count=7, seed=4, top_p=0.9, min_len=2, beam=True, best=False)
    assert not p.seed.isEnabled()
    names = p.names()
    flags = ["--checkpoint", str(path), "--count", "7", "--top-p", "0.9", "--min-len", "2"]
    capsys.readouterr()
    assert cli.main(["sample", *flags, "--beam", "--scores"]) == 0
    lines = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    assert names == [name for name, _, _ in lines] and len(names) == 7
    assert [f"{r.loglik_per_char:.4f}" for r in p.rows()] == [score for _, score, _ in lines]
    assert "most likely (beam)" in p.summary.text() and "top-p 0.9" in p.summary.text()
    p.summary.setText("")  # the summary names no seed: wait for it to come back
    sample(qtbot, w, seed=5)  # another seed: the same names
    assert p.names() == names
    assert cli.main(["sample", *flags]) == 0  # drawn, not the most likely: other names
    assert capsys.readouterr().out.splitlines() != names
    sample(qtbot, w, beam=False)
    assert p.seed.isEnabled() and p.names() != names
    cli.main(["sample", *flags, "--seed", "5"])
    assert p.names() == capsys.readouterr().out.splitlines()  # top-p draws as the CLI does

    sample(qtbot, w, beam=True)
    p.set_favourite(p.rows()[2], True)
    args = next(iter(p.favourites)).settings.cli_args()
    assert "--beam" in args and "--seed" not in args and "--top-p" in args
    capsys.readouterr()
    assert cli.main(["sample", "--checkpoint", str(path), *args]) == 0
    assert capsys.readouterr().out.splitlines()[2] == names[2]


# -- favourites ----------------------------------------------------------------------

def test_favourites_outlive_resampling_and_export_reproduces_them(qtbot, tmp_path,
                                                                  tiny_corpus, capsys):
    w = open_window(qtbot, tmp_path, tiny_corpus, preset="default", batch_size=4,
                    sample_every=100)
    a, p = w.actions_, w.samples
    assert not a.export_favourites.isEnabled()
    train(qtbot, w, 150)
    sample(qtbot, w, count=8, seed=2, temperature=1.3, best=False)  # the latest weights
    first = p.rows()
    tree = p.list
    target = next(i for i in items(tree) if i.sampled is first[2])
    click_cell(qtbot, tree, target, COL_STAR)  # a click on the star
    assert target.text(COL_STAR) == STAR and first[2].name in p.favourites
    tree.setFocus()
    tree.clearSelection()
    second_pick = next(r for r in first[3:] if r.name != first[2].name)
    other = next(i for i in items(tree) if i.sampled is second_pick)
    other.setSelected(True)
    a.toggle_favourite.trigger()  # Ctrl+D on the selection
    assert other.text(COL_STAR) == STAR
    assert a.export_favourites.isEnabled()

    train(qtbot, w, 400)  # the live model moves on
    sample(qtbot, w, count=5, seed=9, top_k=3, min_len=2, new_only=True)
    second = p.rows()
    assert len(second) == 5
    starred = [r for r in second if r.name not in p.favourites][0]
    click_cell(qtbot, tree, next(i for i in items(tree) if i.sampled is starred), COL_STAR)
    favs = list(p.favourites)
    assert [f.name for f in favs] == [first[2].name, second_pick.name, starred.name]
    assert p.fav_list.topLevelItemCount() == 3 and p.fav_label.text() == "Favourites (3)"
    assert {i.text(COL_STAR) for i in items(p.fav_list)} == {STAR}

    out = tmp_path / "export" / "best-names.txt"
    w.dialogs.save_paths = [str(out)]
    a.export_favourites.trigger()  # Samples > Export Favourites… (Ctrl+Shift+E)
    qtbot.waitUntil(lambda: out.is_file(), timeout=WAIT)
    assert out.read_text(encoding="utf-8").splitlines() == [f.display for f in favs]
    record = json.loads((tmp_path / "export" / "best-names.json").read_text(encoding="utf-8"))
    entries = record["favourites"]
    assert [e["name"] for e in entries] == [f.display for f in favs]
    assert [e["iteration"] for e in entries] == [150, 150, 400]
    assert {e["checkpoint"] for e in entries} == {"best-names-150.safetensors",
                                                  "best-names-400.safetensors"}
    assert entries[2]["sampling"] == {"count": 5, "seed": 9, "temperature": 1.3, "top_k": 3,
                                      "top_p": None,
                                      "prefix": "", "suffix": "", "min_len": 2, "max_len": 50,
                                      "new_only": True, "index": starred.index}
    assert entries[0]["config"] == w.session.config.to_dict()
    assert entries[0]["corpus"] == {"title": "tiny", "path": str(tiny_corpus)}
    for e, f in zip(entries, favs, strict=True):
        assert e["loglik_per_char"] == pytest.approx(f.loglik_per_char, abs=1e-6)
        assert (e["nearest"], e["distance"], e["in_corpus"]) == (
            display_name(f.nearest), f.distance, f.known)

    for e in entries:  # each checkpoint loads and draws the name again, where it was
        trainer = checkpoint.load(tmp_path / "export" / e["checkpoint"])
        assert trainer.iteration == e["iteration"]
        s = dict(e["sampling"])
        count, seed, index = s.pop("count"), s.pop("seed"), s.pop("index")
        drawn = trainer.sampler().draw(count, seed, SampleSpec(**s),
                                       known=frozenset(trainer.corpus.names))
        assert drawn.names[index] == e["as_drawn"]
        command, line = e["command"].split("  # line ")
        args = shlex.split(command)
        assert args[:2] == ["dinogui", "sample"]
        args[3] = str(tmp_path / "export" / args[3])  # relative to the export's folder
        capsys.readouterr()
        assert cli.main(args[1:]) == 0
        assert capsys.readouterr().out.splitlines()[int(line) - 1] == e["name"]

    fav_item = items(p.fav_list)[0]
    click_cell(qtbot, p.fav_list, fav_item, COL_STAR)  # unstar from the favourites list
    assert [f.name for f in p.favourites] == [second_pick.name, starred.name]
    assert all(i.text(COL_STAR) in (STAR, UNSTAR) for i in items(tree))


def test_export_favourites_into_a_folder_that_cannot_be_written_says_so(qtbot, tmp_path,
                                                                       tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus)
    train(qtbot, w, 20)
    sample(qtbot, w, count=3)
    w.samples.list.setFocus()
    w.samples.list.selectAll()
    w.actions_.toggle_favourite.trigger()
    assert len(w.samples.favourites) == 3
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    w.dialogs.save_paths = [str(blocker / "favs.txt")]
    w.actions_.export_favourites.trigger()
    qtbot.waitUntil(lambda: bool(w.dialogs.errors), timeout=WAIT)
    title, _text = w.dialogs.errors[-1]
    assert title == "Cannot export favourites"
    assert len(w.samples.favourites) == 3  # nothing lost
    w.actions_.toggle_favourite.trigger()  # all selected are favourites: Ctrl+D unstars them
    assert len(w.samples.favourites) == 0 and not w.actions_.export_favourites.isEnabled()


# -- samples of an earlier model are cleared or marked, never passed off as the new one's ---

def test_samples_of_an_earlier_model_are_marked_then_cleared(qtbot, tmp_path, tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus)
    draw(qtbot, w)  # an untrained model: letter soup, and the list says why
    summary = w.samples.summary.text()
    assert summary.startswith("The model has not trained yet") and "Start (F5)" in summary
    assert len(w.samples.names()) == 10
    train(qtbot, w, 300)
    summary = w.samples.summary.text()
    assert summary.startswith("Drawn at iteration 0; the model is at 300 now")
    assert "Sample (Ctrl+G)" in summary
    draw(qtbot, w)  # trained: no hint, no mark
    summary = w.samples.summary.text()
    assert "not trained yet" not in summary and "Drawn at" not in summary
    assert "iteration 300" in summary

    w.dialogs.choices = [1]  # Reset, then Discard the unsaved training
    w.actions_.reset.trigger()
    qtbot.waitUntil(lambda: w.session.iteration == 0 and not w.session.busy, timeout=WAIT_MS)
    assert w.samples.names() == [] and w.samples.list.topLevelItemCount() == 0
    assert "previous model were cleared" in w.samples.summary.text()
    assert not w.actions_.copy_samples.isEnabled()
    assert not w.actions_.export_samples.isEnabled()


def test_changing_the_preset_and_discarding_clears_the_samples(qtbot, tmp_path, tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus, preset="default")
    train(qtbot, w, 200)
    draw(qtbot, w)
    assert "best weights" in w.samples.summary.text() and w.samples.names()
    w.dialogs.choices = [1]  # a new preset needs a new model: Discard the trained one
    w.hyperparams.preset.setCurrentIndex(w.hyperparams.preset.findData("classic"))
    qtbot.waitUntil(lambda: w.session.config.preset == "classic" and not w.session.busy,
                    timeout=WAIT_MS)
    assert w.samples.names() == []
    assert "best weights" not in w.samples.summary.text()
