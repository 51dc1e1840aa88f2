import io
import json
import zipfile

import numpy as np
import pytest

from dinogui.core import checkpoint
from dinogui.core.checkpoint import CheckpointError
from dinogui.core.corpus import load_corpus
from dinogui.core.trainer import TrainConfig, Trainer


def make(tiny_corpus, preset, **kw):
    return Trainer(load_corpus(tiny_corpus), TrainConfig(preset=preset, batch_size=3,
                                                         sample_every=50, **kw))


@pytest.mark.parametrize("preset", ["classic", "default"])
def test_resume_is_exact_to_the_last_bit(tiny_corpus, tmp_path, preset):
    straight = make(tiny_corpus, preset)
    straight_reports = straight.run(200)

    first = make(tiny_corpus, preset)
    reports = first.run(100)
    checkpoint.save(first, tmp_path / "half.npz")
    resumed = checkpoint.load(tmp_path / "half.npz")
    assert resumed.iteration == 100
    reports += resumed.run(100)

    for k in straight.params:
        assert np.array_equal(straight.params[k], resumed.params[k]), k
    assert straight.state.smooth == resumed.state.smooth
    assert straight.state.smooth_char == resumed.state.smooth_char
    np.testing.assert_array_equal(straight.history.column("loss"),
                                  resumed.history.column("loss"))
    assert [(r.iteration, r.samples) for r in straight_reports] == \
        [(r.iteration, r.samples) for r in reports]


def test_checkpoint_carries_names_vocab_config_and_history(tiny_corpus, tmp_path):
    t = make(tiny_corpus, "default", hidden=12, lr=0.02, seed=4)
    t.run(30)
    checkpoint.save(t, tmp_path / "c.npz")
    back = checkpoint.load(tmp_path / "c.npz")
    assert back.corpus.names == t.corpus.names
    assert back.vocab == t.vocab
    assert back.config == t.config
    assert back.optimizer.t == t.optimizer.t
    assert len(back.history) == 30
    assert back.sample(5, seed=2) == t.sample(5, seed=2)


def test_loading_never_unpickles(tiny_corpus, tmp_path):
    t = make(tiny_corpus, "classic")
    arrays = checkpoint.to_arrays(t)
    arrays["param/Wax"] = np.array([{"evil": 1}], dtype=object)
    np.savez(tmp_path / "pickled.npz", **arrays)
    with pytest.raises(CheckpointError, match="pickled"):
        checkpoint.load(tmp_path / "pickled.npz")


def test_bad_files_are_refused_with_reasons(tiny_corpus, tmp_path):
    with pytest.raises(CheckpointError, match="no such file"):
        checkpoint.load(tmp_path / "missing.npz")
    with pytest.raises(CheckpointError, match="folder"):
        checkpoint.load(tmp_path)
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(CheckpointError, match="not an .npz"):
        checkpoint.load(tmp_path / "text.npz")

    t = make(tiny_corpus, "classic")
    good = tmp_path / "good.npz"
    checkpoint.save(t, good)
    (tmp_path / "cut.npz").write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(CheckpointError):
        checkpoint.load(tmp_path / "cut.npz")

    np.savez(tmp_path / "other.npz", weights=np.zeros(3))
    with pytest.raises(CheckpointError, match="not a dinogui checkpoint"):
        checkpoint.load(tmp_path / "other.npz")


def rewrite(path, out, edit_meta=None, edit_arrays=None):
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    if edit_meta:
        meta = json.loads(arrays["meta"].tobytes())
        edit_meta(meta)
        arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    if edit_arrays:
        edit_arrays(arrays)
    np.savez(out, **arrays)
    return out


def test_version_shapes_and_nan_are_checked(tiny_corpus, tmp_path):
    good = checkpoint.save(make(tiny_corpus, "classic"), tmp_path / "good.npz")
    future = rewrite(good, tmp_path / "v.npz", edit_meta=lambda m: m.update(version=99))
    with pytest.raises(CheckpointError, match="version 99"):
        checkpoint.load(future)
    wrong = rewrite(good, tmp_path / "h.npz", edit_meta=lambda m: m["config"].update(hidden=7))
    with pytest.raises(CheckpointError, match="do not fit"):
        checkpoint.load(wrong)

    def poison(arrays):
        arrays["param/Waa"] = arrays["param/Waa"].copy()
        arrays["param/Waa"][0, 0] = np.nan
    with pytest.raises(CheckpointError, match="NaN"):
        checkpoint.load(rewrite(good, tmp_path / "nan.npz", edit_arrays=poison))
    with pytest.raises(CheckpointError, match="incomplete"):
        checkpoint.load(rewrite(good, tmp_path / "x.npz",
                                edit_arrays=lambda a: a.pop("state/order")))


def test_hand_edited_checkpoints_are_refused_at_load_not_at_the_first_step(tiny_corpus,
                                                                           tmp_path):
    classic = make(tiny_corpus, "classic")
    classic.run(5)
    good = checkpoint.save(classic, tmp_path / "c.npz")
    adam = make(tiny_corpus, "default")
    adam.run(5)
    good_adam = checkpoint.save(adam, tmp_path / "d.npz")

    def reshape(key, shape):
        return lambda arrays: arrays.__setitem__(key, np.zeros(shape))

    slot = next(k for k in np.load(good_adam).files if k.startswith("opt/m/"))
    damaged = [
        (good_adam, dict(edit_arrays=reshape(slot, (2, 2))), "optimizer state"),
        (good_adam, dict(edit_arrays=reshape("opt/m/nothing", (2, 2))), "optimizer state"),
        (good, dict(edit_arrays=reshape("state/a_prev", (3, 1))), "carried hidden state"),
        (good, dict(edit_arrays=reshape("state/order", (0,))), "example order"),
        (good, dict(edit_meta=lambda m: m.update(config=[1, 2])), "incomplete or damaged"),
        (good, dict(edit_meta=lambda m: m.update(vocab=5)), "incomplete or damaged"),
    ]
    for i, (path, edit, reason) in enumerate(damaged):
        with pytest.raises(CheckpointError, match=reason):
            checkpoint.load(rewrite(path, tmp_path / f"bad{i}.npz", **edit))
    for path in (good, good_adam):  # the untouched ones still load and train
        checkpoint.load(path).run(2)


def test_a_failed_save_leaves_the_old_checkpoint_intact(tiny_corpus, tmp_path, monkeypatch):
    t = make(tiny_corpus, "classic")
    path = checkpoint.save(t, tmp_path / "c.npz")
    before = path.read_bytes()
    t.run(5)

    def crash(*a, **k):
        raise OSError("disk full")
    monkeypatch.setattr(checkpoint.os, "replace", crash)
    with pytest.raises(OSError):
        checkpoint.save(t, path)
    assert path.read_bytes() == before
    assert not list(tmp_path.glob("*.tmp"))  # no temp file left


def test_archive_holds_only_plain_arrays(tiny_corpus, tmp_path):
    path = checkpoint.save(make(tiny_corpus, "default"), tmp_path / "c.npz")
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            header = zf.read(name)[:200]
            assert b"'O'" not in header and b"|O" not in header, name
    meta = json.loads(io.BytesIO(np.load(path)["meta"].tobytes()).read())
    assert meta["format"] == "dinogui-checkpoint"
