"""The window trains live: start, pause, resume, step, live settings, divergence, sampling,
and early stops that read finished and say why."""

import numpy as np
import pytest

from dinogui import cli
from dinogui.core import checkpoint
from dinogui.core.corpus import load_corpus
from dinogui.core.sampling import display_name
from dinogui.core.trainer import Trainer
from dinogui.widgets.samples_panel import COL_NAME, COL_NEAREST, IN_CORPUS
from tests.gui_support import (
    WAIT_MS,
    open_window,
    set_panel,
    settle,
    train,
    trainer_arrays,
    wait_stopped,
)

pytest.importorskip("pytestqt")


def test_start_streams_the_loss_into_the_plot(qtbot, tmp_path, tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus, sample_every=100)
    assert w.windowTitle() == "tiny[*] — dinogui" and not w.isWindowModified()
    train(qtbot, w, 300)
    assert w.session.iteration == 300 and w.loss_plot.points == 300
    hist = trainer_arrays(w)
    x, step, smooth = w.loss_plot.data.series("name")  # classic shows the seed's per-name loss
    np.testing.assert_array_equal(x, np.arange(300))
    np.testing.assert_array_equal(step, hist["loss"] / hist["names"])
    np.testing.assert_array_equal(smooth, hist["smooth"])
    w.loss_plot.redraw()
    assert len(w.loss_plot.smooth_curve.xData) == 300  # the curve holds them too
    assert w.isWindowModified()  # unsaved progress: the title shows '*'
    assert "Iteration 300" in w.status.iteration_label.text()
    log = w.log.toPlainText()
    assert "Iteration: 0, Loss:" in log and "Iteration: 200, Loss:" in log
    assert "loss per name" in w.loss_plot.view.getPlotItem().getAxis("left").labelText


def test_pause_holds_and_resume_equals_an_uninterrupted_run(qtbot, tmp_path, tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus, budget=0)  # 0: unlimited
    w.actions_.start.trigger()
    qtbot.waitUntil(lambda: w.session.iteration > 50, timeout=20_000)
    w.actions_.pause.trigger()
    wait_stopped(qtbot, w)
    paused_at = w.session.iteration
    for _ in range(3):  # round trips to the worker's thread: a step would run between them
        settle()
        assert w.worker.call(lambda t: t.iteration) == paused_at == w.session.iteration
    assert w.actions_.start.text() == "&Resume"

    train(qtbot, w, paused_at + 400)
    straight = Trainer(load_corpus(tiny_corpus), w.session.config)
    straight.run(paused_at + 400)
    hist = trainer_arrays(w)
    for k, col in straight.history.to_arrays().items():
        np.testing.assert_array_equal(hist[k], col, err_msg=k)
    params = w.worker.call(lambda t: {k: v.copy() for k, v in t.params.items()})
    for k, v in straight.params.items():
        np.testing.assert_array_equal(params[k], v, err_msg=k)
    assert w.loss_plot.points == paused_at + 400


def test_step_takes_exactly_one_iteration(qtbot, tmp_path, tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus)
    for expected in (1, 2):
        w.actions_.step.trigger()
        qtbot.waitUntil(lambda e=expected: w.session.iteration == e and not w.session.training,
                        timeout=20_000)
    settle()
    assert w.worker.call(lambda t: t.iteration) == 2
    settle()
    assert w.session.iteration == 2 and w.loss_plot.points == 2


def test_live_settings_reach_the_running_trainer(qtbot, tmp_path, tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus, budget=0)
    w.actions_.start.trigger()
    qtbot.waitUntil(lambda: w.session.iteration > 10, timeout=20_000)
    set_panel(w, lr=0.02, clip=2.5, sample_every=50)
    qtbot.waitUntil(lambda: w.worker.call(lambda t: (t.config.lr, t.config.clip,
                                                     t.config.sample_every))
                    == (0.02, 2.5, 50), timeout=20_000)
    assert w.session.training  # a live change never stops training
    w.actions_.pause.trigger()
    wait_stopped(qtbot, w)


def test_a_model_setting_asks_before_resetting_a_trained_model(qtbot, tmp_path, tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus)
    train(qtbot, w, 40)
    w.dialogs.choices = [None]  # Cancel
    set_panel(w, hidden=60)
    assert "hidden" in w.dialogs.asked[-1][1]
    assert w.hyperparams.hidden.value() == 50 and w.session.iteration == 40  # kept

    w.dialogs.choices = [1]  # Discard
    set_panel(w, hidden=60)
    qtbot.waitUntil(lambda: w.session.config.hidden == 60 and not w.session.busy, timeout=20_000)
    assert w.session.iteration == 0 and w.loss_plot.points == 0
    assert w.worker.call(lambda t: t.params["Waa"].shape) == (60, 60)


def test_a_diverging_loss_pauses_with_a_message_and_keeps_good_weights(qtbot, tmp_path,
                                                                        tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus, lr=10.0, budget=0)
    w.actions_.start.trigger()
    qtbot.waitUntil(lambda: bool(w.dialogs.errors), timeout=20_000)
    title, text = w.dialogs.errors[-1]
    assert "NaN or infinite" in text and "learning rate" in text
    assert not w.session.training and w.status.state.text() == "Diverged"
    stopped_at = w.session.iteration
    finite = w.worker.call(lambda t: all(np.isfinite(v).all() for v in t.params.values()))
    assert finite and w.worker.call(lambda t: t.iteration) == stopped_at
    # still usable: it samples from the kept weights, and a reset with a sane rate trains on
    w.actions_.sample.trigger()
    qtbot.waitUntil(lambda: len(w.samples.names()) == 10, timeout=20_000)
    set_panel(w, lr=0.01)
    w.dialogs.choices = [1]  # discard the unsaved (diverged) training
    w.actions_.reset.trigger()
    qtbot.waitUntil(lambda: w.session.iteration == 0 and not w.session.busy, timeout=20_000)
    train(qtbot, w, 100)
    assert np.isfinite(w.status.smooth)


def test_an_error_in_a_step_stops_training_with_a_message_and_the_thread_lives_on(
        qtbot, tmp_path, tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus, budget=0)
    real_step = w.worker.call(lambda t: t.step)

    calls: list[int] = []

    def failing_step():  # a fault no check foresaw, 40 steps in
        calls.append(1)
        if len(calls) > 40:
            raise MemoryError("out of memory in a product")
        return real_step()

    w.worker.call(lambda t: setattr(t, "step", failing_step))
    w.actions_.start.trigger()
    qtbot.waitUntil(lambda: bool(w.dialogs.errors), timeout=20_000)
    title, text = w.dialogs.errors[-1]
    assert "MemoryError: out of memory in a product" in text and "iteration 40" in text
    assert not w.session.training and w.status.state.text() == "Stopped by an error"
    assert w.worker_thread.thread.isRunning()  # the training thread is still there
    w.worker.call(lambda t: setattr(t, "step", real_step))
    train(qtbot, w, 100)  # Resume goes on from iteration 40
    assert w.session.iteration == 100 and w.loss_plot.points == 100


@pytest.mark.parametrize("preset", ["classic", "default"])
def test_sample_gives_the_same_names_as_dinogui_sample(qtbot, tmp_path, tiny_corpus, capsys,
                                                       preset):
    w = open_window(qtbot, tmp_path, tiny_corpus, preset=preset, batch_size=4)
    train(qtbot, w, 120)
    path = tmp_path / "model.npz"
    w.dialogs.save_paths = [str(path)]
    w.actions_.save_as.trigger()
    qtbot.waitUntil(lambda: not w.isWindowModified(), timeout=20_000)
    w.samples.seed.setValue(3)
    w.samples.count.setValue(8)
    w.samples.temperature.setValue(0.8)
    w.actions_.sample.trigger()
    qtbot.waitUntil(lambda: len(w.samples.names()) == 8, timeout=20_000)

    capsys.readouterr()
    best = ["--best"] if preset == "default" else []  # From the best is on where names are held out
    assert cli.main(["sample", "--checkpoint", str(path), "--seed", "3", "--count", "8",
                     "--temperature", "0.8", *best]) == 0
    assert w.samples.names() == capsys.readouterr().out.splitlines()


def test_sampling_works_while_training_and_marks_known_names(qtbot, tmp_path, tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus, budget=0)
    w.actions_.start.trigger()
    qtbot.waitUntil(lambda: w.session.iteration > 2000, timeout=20_000)
    w.samples.count.setValue(50)
    w.actions_.sample.trigger()
    qtbot.waitUntil(lambda: len(w.samples.names()) == 50, timeout=20_000)
    assert w.session.training
    known = {display_name(n) for n in load_corpus(tiny_corpus).names}
    items = [w.samples.list.topLevelItem(i) for i in range(50)]
    for item in items:
        assert (item.text(COL_NEAREST) == IN_CORPUS) == (item.text(COL_NAME) in known)
    assert any(item.text(COL_NEAREST) == IN_CORPUS for item in items)  # repeats a few names
    w.actions_.pause.trigger()
    wait_stopped(qtbot, w)


def test_replacing_unsaved_training_offers_save_first_and_counts_since_the_last_save(
        qtbot, tmp_path, tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus)
    train(qtbot, w, 30)
    path = tmp_path / "m.npz"
    w.save_to(path)
    qtbot.waitUntil(lambda: not w.isWindowModified(), timeout=20_000)
    train(qtbot, w, 50)
    w.dialogs.choices = [0]  # Save: the default (Enter)
    w.actions_.reset.trigger()
    qtbot.waitUntil(lambda: w.session.iteration == 0 and not w.session.busy, timeout=20_000)
    assert w.dialogs.options[-1] == ["Save", "Discard"]  # Save first: the default
    text = w.dialogs.asked[-1][1]
    assert "trained 20 iterations since it was last saved" in text
    assert checkpoint.load(path).iteration == 50  # saved, then reset

    train(qtbot, w, 10)  # a new model no file holds: Save asks where, Cancel keeps it
    w.dialogs.choices = [0]
    w.dialogs.save_paths = [None]
    w.dialogs.open_paths = [str(path)]
    w.actions_.open_checkpoint.trigger()
    qtbot.waitUntil(lambda: not w.dialogs.save_paths and not w.session.busy, timeout=20_000)
    assert "trained 10 iterations that no file holds" in w.dialogs.asked[-2][1]
    assert w.session.iteration == 10 and w.isWindowModified()  # nothing replaced

    w.dialogs.choices = [0]
    w.dialogs.save_paths = [str(tmp_path / "new.npz")]
    w.dialogs.open_paths = [str(path)]
    w.actions_.open_checkpoint.trigger()
    qtbot.waitUntil(lambda: w.session.iteration == 50 and not w.session.busy, timeout=20_000)
    assert checkpoint.load(tmp_path / "new.npz").iteration == 10


def test_a_preset_change_with_unsaved_training_offers_save_first(qtbot, tmp_path, tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus)
    train(qtbot, w, 20)
    w.dialogs.choices = [0]
    w.dialogs.save_paths = [str(tmp_path / "before.npz")]
    set_panel(w, preset="default")
    qtbot.waitUntil(lambda: w.session.config.preset == "default" and not w.session.busy,
                    timeout=20_000)
    assert "needs a fresh model" in w.dialogs.asked[0][1]
    assert checkpoint.load(tmp_path / "before.npz").iteration == 20 and w.session.iteration == 0


# -- an early stop reads finished, and says why, every time ---------------------------------

def test_an_early_stop_reads_finished_and_a_resume_says_why_it_stops_again(qtbot, tmp_path,
                                                                          tiny_corpus):
    import re

    from tests.gui_support import wait_stopped

    small = dict(hidden=16, batch_size=4, sample_every=10, samples=0, patience=2)
    w = open_window(qtbot, tmp_path, tiny_corpus, preset="default", **small)
    w.hyperparams.budget.setValue(5000)
    w.actions_.start.trigger()
    wait_stopped(qtbot, w)
    first = w.session.iteration
    assert first < 5000  # stopped early
    bar = w.status.progress
    assert bar.isVisible() and bar.value() == bar.maximum()
    assert bar.text() == "Finished early: no held-out gain"  # not "3% · 4,880 to go"
    assert "no better held-out loss for 2 checks" in bar.toolTip()
    logged = re.findall(r"no better held-out loss for (\d+) checks", w.log.toPlainText())
    assert logged == ["2"] and w.status.state.toolTip() == "Stopped: no better held-out " \
        "loss for 2 checks" and w.status.state.text() == "Stopped early"

    w.actions_.start.trigger()  # Resume: told beforehand that the next quiet check stops it
    # the default preset checks by data seen (val_every 0): its cadence in words, not "every 0"
    assert w.session.config.val_every == 0
    assert ("stops again at the next held-out check (4 per pass over the training names)"
            in w.log.toPlainText())
    assert bar.text().endswith("to go") or bar.text().startswith("ETA") or "%" in bar.text()
    wait_stopped(qtbot, w)
    assert first < w.session.iteration < 5000
    message = w.statusBar().currentMessage()
    assert message.startswith(f"Stopped again at iteration {w.session.iteration:,}: no better")
    logged = re.findall(r"no better held-out loss for (\d+) checks", w.log.toPlainText())
    assert logged[-1] == "3"  # one more check without a new best: the status says the same
    assert w.status.state.toolTip() == "Stopped: no better held-out loss for 3 checks"
    assert bar.text() == "Finished early: no held-out gain"

    w.dialogs.choices = [1]  # Reset (Discard): a fresh model counts towards the budget again
    w.actions_.reset.trigger()
    qtbot.waitUntil(lambda: w.session.iteration == 0 and not w.session.busy, timeout=WAIT_MS)
    assert bar.text() == "0% · 5,000 to go"
