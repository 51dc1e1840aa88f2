"""The status bar shows the learning rate the schedule gave the last step; resuming past a
schedule's end warns (window and CLI) that the rate is 0 and says how to go on."""

import math

import pytest

from dinogui.cli import main
from dinogui.core import checkpoint, schedule
from dinogui.widgets.status import lr_text
from tests.gui_support import ScriptedDialogs, open_window, set_panel, train

pytest.importorskip("pytestqt")


def test_the_status_bar_shows_the_rate_of_the_last_step(qtbot, tmp_path, tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus, preset="default", lr_schedule="cosine")
    base = w.session.config.lr
    assert w.status.rate_label.text() == f"lr {lr_text(base)}"  # before training: the next
    train(qtbot, w, 100)  # the budget is the cosine's horizon: 100
    cfg = w.session.config
    assert (cfg.lr_schedule, cfg.schedule_iterations) == ("cosine", 100)
    last = base * 0.5 * (1 + math.cos(math.pi * 99 / 100))  # step 99, by hand
    assert schedule.rate(cfg, 99) == pytest.approx(last, rel=1e-12)
    assert w.status.rate_label.text() == f"lr {lr_text(last)}" == "lr 7.4e-07"  # the recipe's 0.003
    assert f"Learning rate {last:.6g}:" in w.status.rate_label.toolTip()
    set_panel(w, lr_schedule="constant")  # a changed setting: the next step's rate
    assert w.status.rate_label.text() == f"lr {lr_text(base)}"


def test_training_on_past_the_schedules_end_warns(qtbot, tmp_path, tiny_corpus):
    dialogs = ScriptedDialogs()
    w = open_window(qtbot, tmp_path, tiny_corpus, dialogs=dialogs, preset="default",
                    lr_schedule="cosine")
    train(qtbot, w, 60)
    assert "Warning" not in w.log.toPlainText()
    dialogs.confirms.append(True)  # "Train on to 1,060?" (the budget raised, the horizon not)
    w.actions_.start.trigger()
    qtbot.waitUntil(lambda: w.session.iteration > 60, timeout=20_000)
    w.actions_.pause.trigger()
    warning = ("Warning: the cosine learning-rate schedule ended at iteration 60, so from "
               "iteration 60 on the learning rate is 0 and nothing is learnt: choose the "
               "constant Schedule, or type a new Iterations budget")
    assert warning in w.log.toPlainText()
    qtbot.waitUntil(lambda: not w.session.training, timeout=20_000)
    assert w.status.rate_label.text() == "lr 0"


def test_the_cli_warns_when_a_resume_would_train_at_rate_0(capsys, tmp_path, tiny_corpus):
    ckpt = tmp_path / "c.safetensors"
    base = ["train", "--corpus", str(tiny_corpus), "--preset", "default", "--quiet"]
    assert main([*base, "--iterations", "30", "--lr-schedule", "linear", "--save",
                 str(ckpt)]) == 0
    capsys.readouterr()
    assert main(["train", "--resume", str(ckpt), "--iterations", "5", "--quiet"]) == 0
    err = capsys.readouterr().err
    assert err == ("dinogui: warning: the linear learning-rate schedule ended at iteration 30, "
                   "so from iteration 30 on the learning rate is 0 and nothing is learnt: to "
                   "train on, give --lr-schedule constant, or --lr-schedule linear for a new "
                   "schedule to this run's end\n")
    for how in (["--lr-schedule", "constant"], ["--lr-schedule", "linear"]):
        assert main(["train", "--resume", str(ckpt), "--iterations", "5", "--quiet",
                     "--save", str(tmp_path / "on.safetensors"), *how]) == 0
        assert "warning" not in capsys.readouterr().err
        on = checkpoint.load(tmp_path / "on.safetensors")
        assert schedule.rate(on.config, 30) > 0  # it did train on


def test_the_rate_shows_with_room_and_never_widens_the_bar(qtbot, tmp_path, tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus, preset="default")
    bar, label = w.statusBar(), w.status.rate_label
    w.status.set_rate(None)
    least = bar.minimumSizeHint().width()
    w.status.set_rate(1.2345e-05)
    assert label.text() == "lr 1.2e-05" and bar.minimumSizeHint().width() == least
    w.resize(1280, 700)
    qtbot.waitUntil(lambda: label.width() >= label.sizeHint().width() > 1)


def test_a_val_file_checkpoint_trains_on_in_the_window(qtbot, tmp_path, tiny_corpus):
    """CLI --val-file, then the window: the held-out names stay held out, even for a model
    rebuilt from the panel, and are never trained on."""
    held = tmp_path / "held.txt"
    held.write_text("Eve\nHal\nAdan\n", encoding="utf-8")
    ckpt = tmp_path / "v.safetensors"
    assert main(["train", "--corpus", str(tiny_corpus), "--val-file", str(held), "--preset",
                 "default", "--batch-size", "2", "--iterations", "10", "--quiet",
                 "--save", str(ckpt)]) == 0
    w = open_window(qtbot, tmp_path, None, preset=None)
    w.open_checkpoint_path(ckpt)
    qtbot.waitUntil(lambda: w.session.iteration == 10 and not w.session.busy, timeout=20_000)
    train(qtbot, w, 30)

    def held_and_trained(t):
        names = [t.vocab.decode(t._encoded[int(i)]) for i in t.train_rows]
        return t.corpus.held_out, names, list(t.state.val_iterations)

    held_out, trained, checks = w.worker.call(held_and_trained)
    assert held_out == ["eve", "hal", "adan"] and checks[-1] >= 10
    assert sorted(trained) == ["ada", "bob", "cyrus", "dan", "finnegan", "gus"]
    w.dialogs.choices.append(1)  # Discard the 20 unsaved iterations
    set_panel(w, hidden=12)  # a fresh model on the same names and held-out names
    qtbot.waitUntil(lambda: w.session.config.hidden == 12 and w.session.iteration == 0
                    and not w.session.busy,
                    timeout=20_000)
    held_out, trained, _ = w.worker.call(held_and_trained)
    assert held_out == ["eve", "hal", "adan"] and len(trained) == 6
