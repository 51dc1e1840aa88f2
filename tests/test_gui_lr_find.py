"""The window's learning-rate finder: Training > Find Learning Rate, its dialog, Use."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from dinogui.core.lr_find import sweep_rates
from dinogui.core.settings import LR_FIND
from tests.gui_support import WAIT_MS, open_window, train, trainer_arrays


def test_find_shows_the_curve_and_use_sets_the_trainers_rate(qtbot, tmp_path, tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus, preset="default", lr=0.01)
    train(qtbot, w, 20)
    params = w.worker.call(lambda t: {k: v.copy() for k, v in t.params.items()})
    history = trainer_arrays(w)
    a = w.actions_.find_lr
    assert a.isEnabled() and a in w.menuBar().actions()[1].menu().actions()  # Training menu
    with qtbot.waitSignal(w.lr_finder.shown, timeout=WAIT_MS) as shown:
        a.trigger()
        assert not a.isEnabled()  # one sweep at a time
    dialog = shown.args[0]
    sweep = dialog.sweep
    assert dialog.isVisible() and a.isEnabled()
    steps = LR_FIND["steps"].default
    expected = sweep_rates(LR_FIND["min_lr"].default, LR_FIND["max_lr"].default, steps)
    np.testing.assert_array_equal(sweep.rates, expected[:len(sweep.rates)])
    item = dialog.plot.getPlotItem()
    assert item.ctrl.logXCheck.isChecked()  # the rate on a log axis
    x, y = dialog.smoothed.getData()
    np.testing.assert_allclose(x, np.log10(sweep.rates))
    np.testing.assert_array_equal(y, sweep.smoothed)
    assert dialog.line.value() == np.log10(sweep.suggestion)
    assert f"<b>{sweep.suggestion:g}</b>" in dialog.summary.text()
    # the model did not change
    assert w.session.iteration == 20
    after = w.worker.call(lambda t: {k: v.copy() for k, v in t.params.items()})
    assert all(np.array_equal(params[k], after[k]) for k in params)
    assert all(np.array_equal(history[k], v) for k, v in trainer_arrays(w).items())

    assert sweep.suggestion != 0.01
    qtbot.mouseClick(dialog.use_button, Qt.MouseButton.LeftButton)
    assert w.hyperparams.lr.value() == sweep.suggestion
    qtbot.waitUntil(lambda: w.worker.call(lambda t: t.config.lr) == sweep.suggestion,
                    timeout=WAIT_MS)
    assert w.worker.call(lambda t: t.step().lr) == sweep.suggestion  # the next step's rate
    assert not dialog.isVisible()


def test_the_button_beside_the_learning_rate_finds_too(qtbot, tmp_path, tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus)  # classic: its SGD is swept too
    button = w.hyperparams.find_lr_button
    assert button.isVisible() and button.defaultAction() is w.actions_.find_lr
    with qtbot.waitSignal(w.lr_finder.shown, timeout=WAIT_MS) as shown:
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    dialog = shown.args[0]
    assert dialog.sweep.suggestion is not None and w.session.iteration == 0
    dialog.reject()  # Close: the field keeps its rate
    assert w.hyperparams.lr.value() == 0.01
