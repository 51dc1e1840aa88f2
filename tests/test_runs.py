import numpy as np

from dinogui.core.corpus import corpus_from_names
from dinogui.core.runs import Run, RunStore, differing_settings
from dinogui.core.trainer import TrainConfig, Trainer

NAMES = ["ada", "bob", "cyrus", "dan", "eve", "finnegan", "gus", "hal", "ivy", "jo"]


def trained(**kw):
    t = Trainer(corpus_from_names(NAMES), TrainConfig.for_preset("default", batch_size=3, **kw))
    t.run(12)
    return t


def test_runs_round_trip_and_track_progress(tmp_path):
    store = RunStore(tmp_path / "runs")
    t = trained(val_every=4)
    run = Run.start(t)
    store.save(run)
    t.run(8)
    run.update(t)
    store.save(run)
    (back,) = store.runs()
    assert back.run_id == run.run_id and back.iterations == 20
    np.testing.assert_array_equal(back.smooth_char, t.history.column("smooth_char"))
    assert back.val_losses.tolist() == t.state.val_losses
    assert back.best_val == t.state.best_val


def test_damaged_run_files_are_skipped(tmp_path):
    store = RunStore(tmp_path)
    good = store.save(Run.start(trained()))
    (tmp_path / "run-broken.npz").write_bytes(b"not a zip")
    (tmp_path / "run-truncated.npz").write_bytes(good.read_bytes()[:-40])  # a write cut short
    assert len(store.runs()) == 1


def test_differing_settings_lists_only_what_differs():
    a, b = Run.start(trained(hidden=8, lr=0.01)), Run.start(trained(hidden=16, lr=0.02))
    table = differing_settings([a, b])
    assert table == {"hidden": [8, 16], "lr": [0.01, 0.02]}
    assert differing_settings([a, a]) == {}
