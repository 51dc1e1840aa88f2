"""A long run's checkpoint in the window: its thinned history is drawn at its own iterations."""

from __future__ import annotations

import numpy as np

from dinogui.core import checkpoint
from dinogui.core.config import TrainConfig
from dinogui.core.corpus import load_corpus
from dinogui.core.history import History
from dinogui.core.trainer import Trainer
from tests.gui_support import WAIT_MS, open_window


def long_run(corpus_path, n: int) -> Trainer:
    """A classic trainer whose history is that of an n-iteration run (a falling, noisy
    loss), without the minutes of training."""
    t = Trainer(load_corpus(corpus_path), TrainConfig(hidden=8, sample_every=10**6))
    t.run(2)
    rng = np.random.default_rng(0)
    steps = np.arange(n)
    loss = 20 * np.exp(-steps / (n / 4)) + 8 + rng.gamma(2.0, 2.0, n)  # per name
    chars = rng.integers(4, 12, n).astype(np.int32)
    smooth = np.empty(n)
    s = loss[0]
    for i in range(n):  # the seed's moving average, as the trainer keeps it
        s = 0.999 * s + 0.001 * loss[i]
        smooth[i] = s
    t.history = History.from_every_step({"loss": loss, "chars": chars,
                                         "names": np.ones(n, np.int32), "smooth": smooth,
                                         "smooth_char": smooth / 7})
    t.state.iteration, t.state.total_chars = n, int(chars.sum())
    return t


def test_an_opened_long_run_is_drawn_whole_at_its_iterations(qtbot, tmp_path, tiny_corpus):
    n = 120_000
    t = long_run(tiny_corpus, n)
    path = checkpoint.save(t, tmp_path / "long.safetensors")
    assert path.stat().st_size < 1_500_000

    w = open_window(qtbot, tmp_path, tiny_corpus)
    w.dialogs.open_paths = [str(path)]
    w.actions_.open_checkpoint.trigger()
    qtbot.waitUntil(lambda: w.session.iteration == n and not w.session.busy, timeout=WAIT_MS)
    plot = w.loss_plot
    x = plot.data.column("x")
    assert plot.points == len(t.history) < n // 4
    np.testing.assert_array_equal(x, t.history.column("iteration"))
    assert x[0] == 0 and x[-1] == n - 1  # the whole run, start to end
    assert (np.diff(x[-16_384:]) == 1).all()  # every recent step
    # the thinned part keeps each bucket's extremes: the noise band's edges are intact
    per_name = t.history.per_name()
    drawn = plot.step_curve.xData  # what the plot was handed (its overview, shown whole)
    assert drawn[0] == 0 and drawn[-1] == n - 1
    assert per_name.max() == plot.data.column("step_name").max()
    w.grab().save(str(tmp_path / "long-run.png"))


def test_a_damaged_run_record_is_skipped_with_a_note(qtbot, tmp_path, tiny_corpus):
    from dinogui.core.corpus import corpus_from_names
    from dinogui.core.runs import Run, RunStore

    store = RunStore(tmp_path / "data" / "runs")
    t = Trainer(corpus_from_names(["ada", "bob", "cy"]), TrainConfig(hidden=4))
    t.run(5)
    good = store.save(Run.start(t))
    (store.folder / "run-0000damaged.safetensors").write_bytes(good.read_bytes()[:-9])
    w = open_window(qtbot, tmp_path)
    qtbot.waitUntil(lambda: w.runs_view.loaded, timeout=WAIT_MS)
    assert [r.iterations for r in w.runs_view.runs.values()] == [5]  # the good one shows
    log = w.log.toPlainText()
    assert "Skipped a damaged run record: run-0000damaged.safetensors: it is" in log
