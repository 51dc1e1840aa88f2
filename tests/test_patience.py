"""Early stopping: `patience` stops a run after N held-out checks without a new best, in the
engine, `dinogui train --patience N` and the window's Patience field (on at a first launch)."""

import json

import pytest

from dinogui import cli
from dinogui.core import checkpoint
from dinogui.core.config import TrainConfig
from dinogui.core.corpus import bundled_corpus_path, load_corpus
from dinogui.core.trainer import Trainer
from dinogui.widgets.hyperparams import DEFAULT_BUDGET, DEFAULT_PATIENCE
from tests.gui_support import WAIT_MS, open_window, set_panel, train, wait_stopped

# the bundled dinosaurs, a small default-preset model measured every 50 iterations: its
# held-out loss stops improving within the first thousand iterations
SMALL = dict(hidden=32, val_every=50, samples=0)
SMALL_FLAGS = ["--preset", "default", "--hidden", "32", "--val-every", "50", "--samples", "0"]
# where each patience stops (iteration after the step, checks since the best, the best's
# iteration), measured once with this corpus and these settings
PINNED = {1: 251, 2: 551, 3: 851, 5: 1251}


@pytest.fixture(scope="module")
def dinosaurs():
    return load_corpus(bundled_corpus_path())


@pytest.fixture(scope="module")
def reference(dinosaurs):
    """Held-out checks of the run without patience: (iteration, loss) in order."""
    t = Trainer(dinosaurs, TrainConfig.for_preset("default", **SMALL))
    t.run(1600)
    return list(zip(t.state.val_iterations, t.state.val_losses, strict=True))


def expected_stop(reference, patience: int) -> int:
    """The iteration count after the step whose check is the patience-th in a row with no
    loss strictly below the best so far (a tie is no improvement)."""
    best, stale = None, 0
    for j, loss in reference:
        if best is None or loss < best:
            best, stale = loss, 0
        else:
            stale += 1
            if stale == patience:
                return j + 1
    raise AssertionError(f"the reference never ran out of patience {patience}")


# -- the engine ---------------------------------------------------------------------
@pytest.mark.parametrize("patience", sorted(PINNED))
def test_patience_stops_after_exactly_n_checks_without_a_new_best(dinosaurs, reference,
                                                                  patience):
    t = Trainer(dinosaurs, TrainConfig.for_preset("default", patience=patience, **SMALL))
    t.run(100_000)
    assert t.iteration == expected_stop(reference, patience) == PINNED[patience]
    assert t.checks_since_best == patience and t.out_of_patience
    st = t.state
    assert st.val_iterations[-1] == t.iteration - 1  # it stopped right after a check
    assert min(st.val_losses[:-patience]) == st.best_val < min(st.val_losses[-patience:])
    assert f"for {patience} check{'' if patience == 1 else 's'} (" in t.patience_message()


def test_the_stopping_step_says_why_and_earlier_steps_do_not(dinosaurs):
    t = Trainer(dinosaurs, TrainConfig.for_preset("default", patience=2, **SMALL))
    results = []
    t.run(100_000, on_step=results.append)
    assert [r.stopped for r in results[-1:]] == ["patience"]
    assert all(r.stopped is None for r in results[:-1])
    assert results[-1].val_loss is not None


@pytest.mark.parametrize("off", [0, None])
def test_patience_0_or_none_is_off(dinosaurs, reference, off):
    config = TrainConfig.for_preset("default", **SMALL)
    assert TrainConfig.for_preset("default", patience=off, **SMALL) == config  # None: default
    assert TrainConfig(preset="default", val_fraction=0.1, patience=off).patience == 0
    t = Trainer(dinosaurs, TrainConfig.for_preset("default", patience=off, **SMALL))
    n = expected_stop(reference, 5) + 100  # well past where patience 5 stops
    t.run(n)
    assert t.iteration == n and t.checks_since_best > 5 and not t.out_of_patience


@pytest.mark.parametrize("bad", [-1, 1.5, "3"])
def test_patience_must_be_a_whole_number_zero_or_more(bad):
    with pytest.raises(ValueError, match="patience"):
        TrainConfig(preset="default", val_fraction=0.1, patience=bad)


def test_without_held_out_names_patience_never_fires(dinosaurs):
    t = Trainer(dinosaurs, TrainConfig(patience=1))  # classic: no names held out
    t.run(300)
    assert t.iteration == 300 and not t.out_of_patience


def test_a_resumed_run_stops_where_the_straight_one_does(dinosaurs, reference, tmp_path):
    stop = expected_stop(reference, 5)
    t = Trainer(dinosaurs, TrainConfig.for_preset("default", patience=5, **SMALL))
    t.run(stop - 120)  # two checks without a new best are behind it already
    assert t.checks_since_best >= 2
    checkpoint.save(t, tmp_path / "half.npz")
    resumed = checkpoint.load(tmp_path / "half.npz")
    assert resumed.config.patience == 5 and resumed.checks_since_best == t.checks_since_best
    resumed.run(100_000)
    assert resumed.iteration == stop


def test_patience_set_live_applies_at_the_next_check(dinosaurs, reference):
    t = Trainer(dinosaurs, TrainConfig.for_preset("default", **SMALL))
    t.run(1000)  # past the first stale checks: 1 would have stopped long ago
    t.set_live(patience=1)
    t.run(100_000)
    stale = [j for j, loss in reference if j >= 1000 and loss >= min(
        v for i, v in reference if i < j)]
    assert t.iteration == stale[0] + 1


# -- dinogui train --patience -----------------------------------------------------------
def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("patience", [1, 3])
def test_train_patience_stops_and_says_so(capsys, tmp_path, reference, patience):
    log = tmp_path / "log.jsonl"
    code, out, err = run(capsys, "train", *SMALL_FLAGS, "--patience", str(patience),
                         "--iterations", "100000", "--log-jsonl", str(log))
    assert code == 0, err
    stop = expected_stop(reference, patience)
    done = out.splitlines()[-1]
    assert done.startswith(f"trained to iteration {stop}:")
    checks = "1 check " if patience == 1 else f"{patience} checks "
    assert f"stopped: patience (no better held-out loss for {checks}" in done
    event = json.loads(log.read_text().splitlines()[-1])
    assert event["event"] == "done" and event["stopped"] == "patience"
    assert event["iterations"] == stop


def test_train_without_patience_runs_its_iterations(capsys, tmp_path):
    log = tmp_path / "log.jsonl"
    code, out, err = run(capsys, "train", *SMALL_FLAGS, "--iterations", "900",
                         "--log-jsonl", str(log))
    assert code == 0, err
    assert out.splitlines()[-1].startswith("trained to iteration 900:")
    assert out.splitlines()[-1].endswith("stopped: iterations")
    assert json.loads(log.read_text().splitlines()[-1])["stopped"] == "iterations"


def test_train_resume_takes_patience(capsys, tmp_path, reference):
    first = tmp_path / "first.npz"
    assert run(capsys, "train", *SMALL_FLAGS, "--iterations", "300", "--save", str(first))[0] == 0
    code, out, err = run(capsys, "train", "--resume", str(first), "--patience", "3",
                         "--iterations", "100000")
    assert code == 0, err
    assert out.splitlines()[-1].startswith(f"trained to iteration {expected_stop(reference, 3)}:")


@pytest.mark.parametrize("argv, message", [
    (["--preset", "classic", "--patience", "3"], "--patience needs held-out names"),
    (["--preset", "default", "--val-fraction", "0", "--patience", "3"],
     "--patience needs held-out names"),
    (["--preset", "default", "--patience", "-1"], "'-1' must be between 0 (off) and 1000000"),
])
def test_train_patience_refusals(capsys, argv, message):
    code, out, err = run(capsys, "train", "--iterations", "5", *argv)
    assert code == 2 and err.startswith("dinogui: error: ") and message in err
    assert len(err.splitlines()) == 1 and not out


# -- the window ---------------------------------------------------------------------------
def test_first_launch_shows_the_default_preset_with_patience_and_from_the_best(qtbot,
                                                                              tmp_path):
    w = open_window(qtbot, tmp_path, bundled_corpus_path(), preset=None)  # nothing remembered
    hp = w.hyperparams
    assert hp.preset.currentData() == "default"
    assert hp.patience.value() == DEFAULT_PATIENCE and hp.patience.isVisibleTo(hp)
    assert hp.budget.value() == DEFAULT_BUDGET
    assert w.session.config.preset == "default" and w.session.config.patience == DEFAULT_PATIENCE
    assert w.worker.call(lambda t: t.config.patience) == DEFAULT_PATIENCE
    assert w.loss_plot.scale == "char"  # the default preset's curve, with the held-out one
    assert w.samples.best.isChecked()
    classic_tip = hp.preset.itemData(hp.preset.findData("classic"), 3)
    assert "original exercise" in classic_tip and "exact to its numbers" in classic_tip
    assert "classic" in hp.preset.toolTip()

    # classic is one click away; it holds no names out, so Patience goes
    set_panel(w, preset="classic")
    qtbot.waitUntil(lambda: w.session.config.preset == "classic" and not w.session.busy,
                    timeout=WAIT_MS)
    assert not hp.patience.isVisibleTo(hp) and w.session.config.patience == 0
    assert not w.samples.best.isEnabled()  # nothing held out: it cannot apply
    set_panel(w, preset="default")  # and back: the field kept its value
    qtbot.waitUntil(lambda: w.session.config.preset == "default" and not w.session.busy,
                    timeout=WAIT_MS)
    assert w.session.config.patience == DEFAULT_PATIENCE and hp.patience.isVisibleTo(hp)


@pytest.mark.parametrize("patience", [2, 3])
def test_the_patience_field_stops_the_window_s_training(qtbot, tmp_path, patience, reference):
    w = open_window(qtbot, tmp_path, bundled_corpus_path(), preset="default", hidden=32,
                    samples=0, patience=patience, budget=0, mix_ngram=0)  # the net's own loss
    w.worker.call(lambda t: t.set_live(val_every=50))  # not a window field: as SMALL
    assert w.worker.call(lambda t: t.config.patience) == patience
    w.actions_.start.trigger()
    wait_stopped(qtbot, w)
    assert w.session.iteration == expected_stop(reference, patience)
    assert w.status.state.text() == "Stopped early"
    assert w.status.state.toolTip() == f"Stopped: no better held-out loss for {patience} checks"
    assert f"no better held-out loss for {patience} checks" in w.log.toPlainText()
    assert w.actions_.start.isEnabled()


def test_patience_changed_while_training_stops_at_the_next_stale_check(qtbot, tmp_path):
    w = open_window(qtbot, tmp_path, bundled_corpus_path(), preset="default", hidden=32,
                    samples=0, patience=0, budget=0)
    w.worker.call(lambda t: t.set_live(val_every=50))
    w.actions_.start.trigger()
    qtbot.waitUntil(lambda: w.session.iteration > 1000, timeout=WAIT_MS)  # past the best by then
    assert w.session.training
    set_panel(w, patience=1)
    wait_stopped(qtbot, w)
    st = w.worker.call(lambda t: (t.iteration, t.state.val_iterations, t.checks_since_best,
                                  t.config.patience))
    iteration, checks, since_best, patience = st
    assert patience == 1 and since_best >= 1 and checks[-1] == iteration - 1
    assert w.session.iteration == iteration


def test_the_train_on_prompt_does_not_carry_its_budget_into_a_new_model(qtbot, tmp_path,
                                                                         tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus, budget=1000)
    train(qtbot, w, 1000)
    w.dialogs.confirms = [True]  # "Train on to 2,000?"
    w.actions_.start.trigger()
    qtbot.waitUntil(lambda: not w.session.training and w.session.iteration == 2000, timeout=WAIT_MS)
    assert "Train on to 2,000?" in w.dialogs.asked[-1][1]
    assert w.hyperparams.budget.value() == 2000  # this model's extension is shown
    assert w.settings.hyperparameters()["budget"] == 1000  # the user's budget is remembered

    w.dialogs.choices = [1]  # Discard the unsaved 2,000 iterations for the other preset
    # patience off: on 8 names the default preset checks every step and would stop early
    set_panel(w, patience=0)
    set_panel(w, preset="default")
    qtbot.waitUntil(lambda: w.session.config.preset == "default" and not w.session.busy,
                    timeout=WAIT_MS)
    assert w.session.iteration == 0 and w.hyperparams.budget.value() == 1000
    assert w.status.budget == 1000
    w.actions_.start.trigger()  # a fresh model stops at the user's budget, not at 2,000
    qtbot.waitUntil(lambda: not w.session.training and w.session.iteration > 0, timeout=WAIT_MS)
    assert w.session.iteration == 1000 and not w.dialogs.confirms


def test_the_patience_field_has_its_mnemonic_and_tooltip(qtbot, tmp_path):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QLabel

    w = open_window(qtbot, tmp_path, bundled_corpus_path(), preset=None)
    hp = w.hyperparams
    label = next(x for x in w.findChildren(QLabel) if x.buddy() is hp.patience)
    assert label.text() == "&Quiet checks:"
    assert "Patience (early stopping)" in hp.patience.toolTip()
    assert hp.patience.specialValueText() == "off" and hp.patience.minimum() == 0
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=WAIT_MS)
    qtbot.keyClick(w, Qt.Key.Key_Q, Qt.KeyboardModifier.AltModifier)
    assert hp.patience.hasFocus()
