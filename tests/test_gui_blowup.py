"""The window at a blow-up: it pauses, says so, and goes back to the good weights or trains on."""

from __future__ import annotations

import numpy as np
import pytest

from dinogui.core.config import TrainConfig
from dinogui.core.corpus import load_corpus
from dinogui.core.trainer import Trainer
from tests.gui_support import WAIT_MS, open_window, set_panel, settle, train, trainer_arrays

pytest.importorskip("pytestqt")


def blow_up(qtbot, w, choice):
    """1,000 good steps, then a learning rate of 1.0 until the watch pauses the run."""
    train(qtbot, w, 1000)
    set_panel(w, lr=1.0, budget=0)
    w.dialogs.choices = [choice]
    w.actions_.start.trigger()
    qtbot.waitUntil(lambda: any(t == "The loss blew up" for t, _ in w.dialogs.asked),
                    timeout=WAIT_MS)
    return w.dialogs.asked[-1][1]


def test_a_blow_up_pauses_and_going_back_restores_the_good_weights(qtbot, tmp_path,
                                                                   tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus, sample_every=100)
    text = blow_up(qtbot, w, 0)  # Go Back to Iteration 500
    assert "The loss blew up at iteration 1,0" in text and "iteration 500" in text
    assert w.dialogs.options[-1] == ["Go Back to Iteration 500", "Keep Training"]
    qtbot.waitUntil(lambda: w.session.iteration == 500 and not w.session.busy, timeout=WAIT_MS)
    assert not w.session.training
    straight = Trainer(load_corpus(tiny_corpus),
                       TrainConfig.for_preset("classic", sample_every=100))
    straight.run(500)
    params = w.worker.call(lambda t: {k: v.copy() for k, v in t.params.items()})
    for k, v in straight.params.items():
        np.testing.assert_array_equal(params[k], v, err_msg=k)
    hist = trainer_arrays(w)
    for k, v in straight.history.to_arrays().items():
        np.testing.assert_array_equal(hist[k], v, err_msg=k)
    assert w.loss_plot.points == 500  # the plot went back with it
    assert "Iteration 500" in w.status.iteration_label.text()
    assert w.hyperparams.lr.value() == 1.0  # the settings stay; lower the rate to avoid it
    assert "Went back to the weights from iteration 500" in w.log.toPlainText()
    assert w.isWindowModified()


def test_keep_training_trains_on_without_asking_again(qtbot, tmp_path, tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus, sample_every=100)
    blow_up(qtbot, w, 1)  # Keep Training
    qtbot.waitUntil(lambda: w.session.training, timeout=WAIT_MS)
    paused_at = w.worker.call(lambda t: t.iteration)
    qtbot.waitUntil(lambda: w.session.iteration > paused_at + 2000, timeout=WAIT_MS)
    w.actions_.pause.trigger()
    qtbot.waitUntil(lambda: not w.session.training, timeout=WAIT_MS)
    assert [t for t, _ in w.dialogs.asked].count("The loss blew up") == 1


def test_closing_the_question_stays_paused_at_the_blow_up(qtbot, tmp_path, tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus, sample_every=100)
    blow_up(qtbot, w, None)  # Cancel (Escape): look first
    settle()
    at = w.session.iteration
    assert not w.session.training and 1000 < at < 1000 + 300
    assert w.status.state.text() == "Paused: the loss blew up"
    assert w.worker.call(lambda t: t.iteration) == at
