"""The Health tab: the worker measures every K-th step, the tab draws what it measured."""

import numpy as np
import pytest

from dinogui.core.corpus import load_corpus
from dinogui.core.health import HealthProbe, due
from dinogui.core.threads import training_threads
from dinogui.core.trainer import Trainer
from dinogui.widgets.health_plot import GUIDE, OFF
from tests.gui_support import open_window, settle, train

pytest.importorskip("pytestqt")


def headless(corpus_path, config, steps: int, every: int):
    """The same training without a window: its weights and the probe's figures."""
    trainer = Trainer(load_corpus(corpus_path), config)
    probe, samples = HealthProbe(trainer), []
    with training_threads():
        for _ in range(steps):
            watched = due(trainer.iteration, every)
            if watched:
                probe.before_step()
            r = trainer.step()
            if watched:
                samples.append(probe.after_step(r.iteration))
    return trainer, samples


def test_the_tab_draws_every_kth_step_as_the_engine_measures_it(qtbot, tmp_path, tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus, preset="default", cell="gru", layers=2)
    w.views.setCurrentWidget(w.health)
    w.health.every.setValue(7)
    assert w.worker._health_every == 7
    train(qtbot, w, 50)
    h = w.health
    assert h.data.iterations == [0, 7, 14, 21, 28, 35, 42, 49]
    weights = ("W_x layer 1", "W_h layer 1", "W_x layer 2", "W_h layer 2", "W_hy (head)")
    assert h.data.weights == weights and h.data.layers == ("layer 1", "layer 2")
    # one curve per weight matrix in both weight plots, one per layer for the saturation
    assert [len(c) for c in (h.grad_curves, h.ratio_curves, h.sat_curves)] == [5, 5, 2]
    assert [label.text for _, label in h.weight_legend.items] == list(weights)
    assert [label.text for _, label in h.layer_legend.items] == ["layer 1", "layer 2"]
    assert h.guide.value() == GUIDE == -3.0 and h.guide in h.ratio_view.getPlotItem().items
    assert not h.placeholder.isVisible()
    # what is drawn is what the engine measures on the same run without a window, and the
    # window's weights are those of a run that was never watched
    straight, samples = headless(tiny_corpus, w.session.config, 50, 7)
    unwatched, _ = headless(tiny_corpus, w.session.config, 50, 0)
    x = [float(s.iteration) for s in samples]
    for i in range(5):
        np.testing.assert_array_equal(h.grad_curves[i].xData, x)
        np.testing.assert_array_equal(h.grad_curves[i].yData,
                                      [np.log10(s.grad_norm[i]) for s in samples])
        np.testing.assert_array_equal(h.ratio_curves[i].yData,
                                      [s.update_ratio[i] for s in samples])
    for i in range(2):
        np.testing.assert_array_equal(h.sat_curves[i].yData,
                                      [100 * s.saturation[i] for s in samples])
    weights_now = w.worker.call(lambda t: {k: v.copy() for k, v in t.params.items()})
    for k, v in unwatched.params.items():
        np.testing.assert_array_equal(weights_now[k], v, err_msg=k)
        np.testing.assert_array_equal(straight.params[k], v, err_msg=k)


def test_classic_is_measured_too_and_a_new_model_starts_afresh(qtbot, tmp_path, tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus)  # classic
    w.views.setCurrentWidget(w.health)
    w.health.every.setValue(5)
    train(qtbot, w, 20)
    assert w.health.data.iterations == [0, 5, 10, 15]
    assert w.health.data.weights == ("Wax layer 1", "Waa layer 1", "Wya (head)")
    assert len(w.health.sat_curves[0].xData) == 4
    w.dialogs.choices.append(1)  # Discard the unsaved training
    w.actions_.reset.trigger()
    qtbot.waitUntil(lambda: w.session.iteration == 0 and not w.session.busy, timeout=20_000)
    assert w.health.data.iterations == [] and w.health.placeholder.isVisible()


def test_unticked_nothing_is_measured(qtbot, tmp_path, tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus, preset="default")
    w.views.setCurrentWidget(w.health)
    w.health.measure.setChecked(False)
    assert w.worker._health_every == 0 and not w.health.every.isEnabled()
    train(qtbot, w, 30)
    assert w.health.data.iterations == []
    assert w.health.placeholder.textItem.toPlainText() == OFF
    w.health.measure.setChecked(True)  # on again: from the next watched iteration (a multiple)
    w.health.every.setValue(4)
    train(qtbot, w, 41)
    assert w.health.data.iterations == [32, 36, 40]


def test_a_hidden_tab_does_not_redraw_until_shown(qtbot, tmp_path, tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus, preset="default")
    w.health.every.setValue(3)
    assert w.views.currentWidget() is not w.health
    train(qtbot, w, 30)
    settle()
    assert len(w.health.data) == 10 and w.health.redraws == 0
    w.views.setCurrentWidget(w.health)
    settle()
    assert w.health.redraws == 1 and len(w.health.ratio_curves[0].xData) == 10
