"""The loss plot's dashed line: where a count model gets on the current corpus's split,
computed on the worker's thread for each model the window adopts."""

from __future__ import annotations

from dinogui.core.corpus import load_corpus
from dinogui.core.models.ngram import KneserNey
from dinogui.core.trainer import Trainer
from dinogui.widgets.hyperparams import DEFAULT_MIX
from tests.gui_support import WAIT_MS, ScriptedDialogs, open_window, set_panel


def test_the_dashed_line_is_the_count_models_held_out_loss(qtbot, tmp_path, tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus, preset="default")
    plot = w.loss_plot
    qtbot.waitUntil(lambda: plot.count_line is not None, timeout=WAIT_MS)
    cfg = w.worker.call(lambda t: t.config)
    t = Trainer(load_corpus(tiny_corpus), cfg)
    model = KneserNey.fit(t._names(t.train_rows), t.vocab.size, 5)  # the order's default
    assert plot.count_line == (5, model.tune(t._names(t.val_rows)))
    assert plot.count_item.value() == plot.count_line[1]
    assert plot.count_item.isVisible()
    assert plot.count_item.label.toPlainText() == \
        f"a count model gets here (5-gram: {plot.count_line[1]:.3f})"
    plot.set_scale("name")  # its units are per character: not on the per-name scale
    assert not plot.count_item.isVisible()
    plot.set_scale("char")
    assert plot.count_item.isVisible()

    # a hybrid's line is its own count model's; a new model's replaces the old one's
    set_panel(w, mix_ngram=2)
    qtbot.waitUntil(lambda: plot.count_line is not None and plot.count_line[0] == 2,
                    timeout=WAIT_MS)
    assert plot.count_line[1] == w.worker.call(
        lambda t: t.mix_count().held_out_loss(t._names(t.val_rows)))


def test_no_held_out_names_no_line(qtbot, tmp_path, tiny_corpus):
    dialogs = ScriptedDialogs()
    w = open_window(qtbot, tmp_path, tiny_corpus, dialogs=dialogs, preset="classic")
    qtbot.waitUntil(lambda: not w.session.busy, timeout=WAIT_MS)
    assert w.worker.call(lambda t: t.count_baseline()) is None
    assert w.loss_plot.count_line is None and not w.loss_plot.count_item.isVisible()


def test_a_first_launch_mixes_the_network_with_a_5_gram(qtbot, tmp_path, tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus, preset=None)
    cfg = w.worker.call(lambda t: t.config)
    assert (cfg.preset, cfg.mix_ngram) == ("default", DEFAULT_MIX) and DEFAULT_MIX == 5
    assert w.hyperparams.mix_ngram.value() == 5
    set_panel(w, mix_ngram=0)  # off: the network alone
    qtbot.waitUntil(lambda: not w.session.busy, timeout=WAIT_MS)
    assert w.worker.call(lambda t: t.config.mixed) is False
    assert w.hyperparams.mix_ngram.text() == "off"


def test_a_best_below_the_count_line_is_labelled_under_its_star(qtbot):
    """The count model's words sit above its dashed line at the left; a best held-out loss
    below the line is labelled under its star, so the two never meet (above the line, where
    there is no line to cross, over it as before)."""
    import numpy as np
    from PySide6.QtCore import QPointF

    from dinogui.widgets.loss_plot import LossPlot

    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.set_preset("default")
    plot.resize(350, 350)
    plot.show()
    qtbot.waitExposed(plot)
    n = np.arange(0, 500)
    ones = np.ones(500)
    plot.append(n, 20 * ones, 8 * ones, ones, 20 * ones, np.linspace(3.5, 1.0, 500))
    plot.set_count_line((5, 1.242))
    vb = plot.view.getPlotItem().getViewBox()
    for best, below in ((1.18, True), (1.30, False)):
        plot.set_validation([0, 100, 300, 499], [1.40, 1.35, best, best + 0.02])
        plot.redraw()
        assert (plot.best_label.anchor.y() < 0) == below
        line_y = vb.mapViewToScene(QPointF(0, 1.242)).y()  # the count words end there
        words = plot.best_label.textItem.sceneBoundingRect()
        assert (words.top() > line_y) == below, best
