import json

import numpy as np

from dinogui.core.config import TrainConfig
from dinogui.core.corpus import corpus_from_names
from dinogui.core.history import History
from dinogui.core.runs import Run, RunStore, differing_settings
from dinogui.core.trainer import Trainer

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
    np.testing.assert_array_equal(back.curve_x, np.arange(20))
    assert back.val_losses.tolist() == t.state.val_losses
    assert back.best_val == t.state.best_val


def test_damaged_run_files_are_skipped_with_a_note(tmp_path):
    store = RunStore(tmp_path)
    good = store.save(Run.start(trained()))
    assert good.name.endswith(".safetensors") and good.read_bytes()[8:9] == b"{"
    (tmp_path / "run-broken.npz").write_bytes(b"not a zip")
    (tmp_path / "run-truncated.safetensors").write_bytes(good.read_bytes()[:-40])  # cut short
    (tmp_path / "run-deep.safetensors").write_bytes(
        good.read_bytes().replace(b'"run_id', b'"x": [[[[[[[[' + b"[" * 5000 + b'], "run_id', 1))
    scan = store.scan()
    assert [r.run_id for r in scan.runs] == [store.load(good).run_id]
    reasons = {p.name: why for p, why in scan.skipped}
    assert set(reasons) == {"run-broken.npz", "run-truncated.safetensors", "run-deep.safetensors"}
    assert reasons["run-broken.npz"] == "is not a dinogui run record"
    assert "bytes long" in reasons["run-truncated.safetensors"]
    assert reasons["run-deep.safetensors"]  # whatever broke, a reason and no traceback
    assert scan.note().startswith("Skipped a damaged run record (and 2 more): run-")
    assert len(store.runs()) == 1


def test_runs_of_version_1_still_load(tmp_path):
    """A run record of the .npz format: one smoothed loss per iteration from 0."""
    meta = {"run_id": "abc", "corpus": "dinos", "config": {"preset": "classic"},
            "started": 1.7e9, "iterations": 5, "best_val": None}
    np.savez(tmp_path / "run-abc.npz", meta=np.frombuffer(json.dumps(meta).encode(), np.uint8),
             smooth_char=np.linspace(3, 2, 5), val_iterations=np.zeros(0, np.int64),
             val_losses=np.zeros(0))
    (run,) = RunStore(tmp_path).runs()
    assert (run.run_id, run.iterations, run.curve_x.tolist()) == ("abc", 5, [0, 1, 2, 3, 4])
    np.testing.assert_array_equal(run.smooth_char, np.linspace(3, 2, 5))
    RunStore(tmp_path).save(run)  # rewritten in the new format, the old file goes
    assert [p.name for p in tmp_path.iterdir()] == ["run-abc.safetensors"]
    RunStore(tmp_path).delete("abc")
    assert not list(tmp_path.iterdir())


def test_a_long_run_keeps_the_bounded_curve_with_its_iterations(tmp_path):
    t = trained()
    n = 100_000  # a long run's history, as the trainer keeps it: older steps thinned
    rng = np.random.default_rng(1)
    t.history = History.from_every_step({
        "loss": rng.random(n) * 30, "chars": rng.integers(10, 30, n).astype(np.int32),
        "names": np.full(n, 3, np.int32), "smooth": rng.random(n), "smooth_char": rng.random(n)})
    t.state.iteration = n
    run = Run.start(t)
    back = RunStore(tmp_path).load(RunStore(tmp_path).save(run))
    np.testing.assert_array_equal(back.curve_x, t.history.column("iteration"))
    np.testing.assert_array_equal(back.smooth_char, t.history.column("smooth_char"))
    assert back.iterations == n and back.curve_x[-1] == n - 1
    assert len(back.curve_x) < 40_000


def test_differing_settings_lists_only_what_differs():
    a, b = Run.start(trained(hidden=8, lr=0.01)), Run.start(trained(hidden=16, lr=0.02))
    table = differing_settings([a, b])
    assert table == {"hidden": [8, 16], "lr": [0.01, 0.02]}
    assert differing_settings([a, a]) == {}
