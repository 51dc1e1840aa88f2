import json
import math
import os
import struct
from pathlib import Path

import numpy as np
import pytest
from safetensors import safe_open

from dinogui.core import checkpoint
from dinogui.core.checkpoint import CheckpointError
from dinogui.core.config import TrainConfig
from dinogui.core.corpus import corpus_from_names, load_corpus
from dinogui.core.trainer import Trainer
from tests.checkpoint_files import read, read_npz, rewrite, write, write_npz

DATA = Path(__file__).parent / "data"
LEGACY_NAMES = ["ada", "bob", "cyrus", "dan", "eve", "finnegan", "gus", "hal"]


def make(tiny_corpus, preset, **kw):
    return Trainer(load_corpus(tiny_corpus), TrainConfig(preset=preset, batch_size=3,
                                                         sample_every=50, **kw))


@pytest.mark.parametrize("preset", ["classic", "default"])
def test_resume_is_exact_to_the_last_bit(tiny_corpus, tmp_path, preset):
    straight = make(tiny_corpus, preset)
    straight_reports = straight.run(200)

    first = make(tiny_corpus, preset)
    reports = first.run(100)
    checkpoint.save(first, tmp_path / "half.safetensors")
    resumed = checkpoint.load(tmp_path / "half.safetensors")
    assert resumed.iteration == 100
    reports += resumed.run(100)

    for k in straight.params:
        assert np.array_equal(straight.params[k], resumed.params[k]), k
    assert straight.state.smooth == resumed.state.smooth
    assert straight.state.smooth_char == resumed.state.smooth_char
    for k, col in straight.history.to_arrays().items():
        np.testing.assert_array_equal(col, resumed.history.column(k), err_msg=k)
    assert [(r.iteration, r.samples) for r in straight_reports] == \
        [(r.iteration, r.samples) for r in reports]


def test_checkpoint_carries_names_vocab_config_and_history(tiny_corpus, tmp_path):
    t = make(tiny_corpus, "default", hidden=12, lr=0.02, seed=4, val_fraction=0.25,
             val_every=7)
    t.run(30)
    checkpoint.save(t, tmp_path / "c.safetensors")
    back = checkpoint.load(tmp_path / "c.safetensors")
    assert back.corpus.names == t.corpus.names
    assert back.vocab == t.vocab
    assert back.config == t.config
    assert (back.optimizer.kind, back.optimizer.t) == (t.optimizer.kind, t.optimizer.t)
    for k, v in t.optimizer.state.items():
        assert np.array_equal(back.optimizer.state[k], v), k
    assert back.state.val_iterations == t.state.val_iterations == [0, 7, 14, 21, 28]
    assert back.state.val_losses == t.state.val_losses
    assert (back.state.best_val, back.state.best_iteration) == \
        (t.state.best_val, t.state.best_iteration)
    for k, v in t.best_params.items():
        assert np.array_equal(back.best_params[k], v) and back.best_params[k] is not v
    assert len(back.history) == 30
    assert back.sample(5, seed=2) == t.sample(5, seed=2)


def test_the_file_is_safetensors_that_other_tools_read(tiny_corpus, tmp_path):
    t = make(tiny_corpus, "default")
    t.run(3)
    path = checkpoint.save(t, tmp_path / "c.safetensors")
    raw = path.read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8 : 8 + n])  # the header comes first, arrays after it
    assert header["__metadata__"]["format"] == "dinogui-checkpoint"
    assert header["__metadata__"]["version"] == "2"
    with safe_open(str(path), framework="numpy") as f:  # the reference implementation
        assert np.array_equal(f.get_tensor("param/W_hy"), t.params["W_hy"])
        assert set(f.keys()) >= {"names", "state/order", "hist/loss", "opt/m/W_hy"}
    meta, _ = read(path)
    assert meta["state"]["iteration"] == 3 and meta["optimizer"]["kind"] == "adam"


def test_save_writes_exactly_the_path_and_load_goes_by_content(tiny_corpus, tmp_path):
    t = make(tiny_corpus, "classic")
    t.run(4)
    for name in ("model.npz", "model", "model.txt.bak"):
        path = checkpoint.save(t, tmp_path / name)
        assert path == tmp_path / name and path.read_bytes()[8:9] == b"{"
        assert checkpoint.load(path).iteration == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model", "model.npz",
                                                          "model.txt.bak", "tiny.txt"]
    legacy = tmp_path / "old.safetensors"  # a legacy archive under the new name
    legacy.write_bytes((DATA / "legacy-classic.npz").read_bytes())
    assert checkpoint.load(legacy).iteration == 25
    assert checkpoint.SUFFIX == ".safetensors"


@pytest.mark.parametrize(("fixture", "config"), [
    ("legacy-classic.npz", TrainConfig(preset="classic", hidden=6, sample_every=50)),
    ("legacy-gru-adam.npz", TrainConfig.for_preset(
        "default", cell="gru", hidden=6, batch_size=3, val_fraction=0.25, val_every=5,
        sample_every=50)),
])
def test_checkpoints_of_version_1_still_load_and_resume_exactly(fixture, config, tmp_path):
    """Files written by the .npz format (tests/data, made by the code before safetensors)."""
    old = checkpoint.load(DATA / fixture)
    meta, arrays = read_npz(DATA / fixture)
    assert old.config == config and old.corpus.names == LEGACY_NAMES
    assert old.iteration == meta["state"]["iteration"] and old.history.steps == old.iteration
    assert old.state.val_losses == meta["state"]["val_losses"]
    assert old.state.best_val == meta["state"]["best_val"]
    for k, v in arrays.items():
        if k.startswith("param/"):
            assert np.array_equal(old.params[k[6:]], v), k
        elif k.startswith("hist/"):
            np.testing.assert_array_equal(old.history.column(k[5:]), v, err_msg=k)
    if old.optimizer is not None:
        assert old.optimizer.state.keys() == {k[4:] for k in arrays if k.startswith("opt/")}
    resaved = checkpoint.load(checkpoint.save(old, tmp_path / "new.safetensors"))
    for t in (old, resaved):
        t.run(15)
    for k in old.params:  # the old file and its new-format copy continue alike
        assert np.array_equal(old.params[k], resaved.params[k]), k
    if config.preset == "classic":  # the seed's path, unchanged: as if never saved
        # The fixture was written on another machine, whose BLAS kernel may round the
        # last bits differently (about 1e-18 here): bitwise equality holds only within
        # one process, so compare across machines to a tolerance that one step of a real
        # change (a skipped iteration, another rate or clip) exceeds by orders of magnitude.
        straight = Trainer(corpus_from_names(LEGACY_NAMES), config)
        straight.run(old.iteration)
        for k in straight.params:
            np.testing.assert_allclose(straight.params[k], old.params[k], rtol=0, atol=1e-12,
                                       err_msg=k)
        assert straight.sample(4, seed=1) == old.sample(4, seed=1)


def test_loading_never_unpickles(tmp_path):
    meta, arrays = read_npz(DATA / "legacy-classic.npz")
    arrays["param/Wax"] = np.array([{"evil": 1}], dtype=object)
    write_npz(tmp_path / "pickled.npz", meta, arrays)
    with pytest.raises(CheckpointError, match="pickled"):
        checkpoint.load(tmp_path / "pickled.npz")
    arrays["param/Wax"] = np.zeros(2)
    arrays["zz_other"] = np.array([object()], dtype=object)  # unknown: never opened
    write_npz(tmp_path / "other.npz", meta, arrays)
    with pytest.raises(CheckpointError, match="parameters do not fit"):
        checkpoint.load(tmp_path / "other.npz")


def test_bad_files_are_refused_with_reasons(tiny_corpus, tmp_path):
    with pytest.raises(CheckpointError, match="no such file"):
        checkpoint.load(tmp_path / "missing.safetensors")
    with pytest.raises(CheckpointError, match="folder"):
        checkpoint.load(tmp_path)
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(CheckpointError, match="neither a safetensors file nor an .npz"):
        checkpoint.load(tmp_path / "text.npz")
    os.mkfifo(tmp_path / "pipe")  # nothing writes to it: opening it would wait forever
    with pytest.raises(CheckpointError, match="pipe: is a device or a pipe"):
        checkpoint.load(tmp_path / "pipe")
    with pytest.raises(CheckpointError, match="is a device or a pipe"):
        checkpoint.load("/dev/zero")

    t = make(tiny_corpus, "classic")
    good = checkpoint.save(t, tmp_path / "good.safetensors")
    (tmp_path / "cut").write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(CheckpointError, match="damaged checkpoint: it is .* bytes long"):
        checkpoint.load(tmp_path / "cut")

    np.savez(tmp_path / "other.npz", weights=np.zeros(3))
    with pytest.raises(CheckpointError, match="not a dinogui checkpoint"):
        checkpoint.load(tmp_path / "other.npz")
    write(tmp_path / "model.safetensors", {}, {"w": np.zeros(3)}, format="other")
    with pytest.raises(CheckpointError, match="safetensors file but not a dinogui"):
        checkpoint.load(tmp_path / "model.safetensors")


def test_version_shapes_and_nan_are_checked(tiny_corpus, tmp_path):
    good = checkpoint.save(make(tiny_corpus, "classic"), tmp_path / "good")
    future = tmp_path / "v"
    write(future, *read(good), version="99")
    with pytest.raises(CheckpointError, match="version 99 is not supported"):
        checkpoint.load(future)
    wrong = rewrite(good, tmp_path / "h", edit_meta=lambda m: m["config"].update(hidden=7))
    with pytest.raises(CheckpointError, match="do not fit"):
        checkpoint.load(wrong)

    def poison(arrays):
        arrays["param/Waa"] = arrays["param/Waa"].copy()
        arrays["param/Waa"][0, 0] = np.nan
    with pytest.raises(CheckpointError, match="parameter Waa holds NaN"):
        checkpoint.load(rewrite(good, tmp_path / "nan", edit_arrays=poison))
    with pytest.raises(CheckpointError, match="incomplete: the array state/order"):
        checkpoint.load(rewrite(good, tmp_path / "x", edit_arrays=lambda a: a.pop("state/order")))


@pytest.fixture
def saved(tiny_corpus, tmp_path):
    """(classic, default with held-out names and Adam) checkpoints, 5 steps in."""
    classic = make(tiny_corpus, "classic")
    classic.run(5)
    adam = make(tiny_corpus, "default", val_fraction=0.25, val_every=2)
    adam.run(5)
    return (checkpoint.save(classic, tmp_path / "c.safetensors"),
            checkpoint.save(adam, tmp_path / "d.safetensors"))


def _set(key, value):
    return lambda arrays: arrays.__setitem__(key, value)


def _meta(section, **values):
    return lambda m: (m[section] if section else m).update(values)


# (file: 0 classic / 1 default, edit of the metadata or arrays, the reason in the message)
DAMAGE = [
    (1, dict(edit_arrays=_set("opt/m/W_h", np.zeros((2, 2), np.float32))), "m/W_h has the"),
    (1, dict(edit_arrays=_set("opt/m/nothing", np.zeros(2, np.float32))), "optimizer state"),
    (1, dict(edit_arrays=lambda a: a.pop("opt/v/W_h")), "optimizer state v/W_h is missing"),
    (1, dict(edit_arrays=lambda a: a.__setitem__("opt/v/b_y", -a["opt/v/b_y"] - 1)),
     "v/b_y holds negative"),
    (1, dict(edit_arrays=lambda a: a.__setitem__("opt/m/b_y", a["opt/m/b_y"] * np.inf)),
     "optimizer state m/b_y holds NaN"),
    (1, dict(edit_meta=_meta("optimizer", kind="adagrad")), "optimizer is 'adagrad'"),
    (1, dict(edit_meta=lambda m: m["config"].update(optimizer="adagrad")
             or m["optimizer"].update(kind="adagrad")), "does not fit a adagrad"),
    (1, dict(edit_meta=_meta("optimizer", beta1=1.5)), "out of range"),
    (1, dict(edit_meta=_meta("config", lr_schedule="wavy")), "schedule must be one of"),
    (1, dict(edit_meta=_meta("config", lr_schedule="cosine")), "needs the run's number"),
    (1, dict(edit_meta=_meta("config", warmup=9, schedule_iterations=8)), "longer than the run"),
    (1, dict(edit_meta=_meta("config", weight_decay=-0.1)), "weight decay must be between"),
    (1, dict(edit_meta=_meta("optimizer", t="3")), "optimizer's t is '3'"),
    (1, dict(edit_arrays=_set("best/W_h", np.zeros((3, 3), np.float32))), "best/W_h has"),
    (1, dict(edit_arrays=lambda a: a.__setitem__("best/b_y", a["best/b_y"].astype(np.float64))),
     "best/b_y holds float64, not float32"),
    (1, dict(edit_arrays=lambda a: a.__setitem__("best/b_y", a["best/b_y"] * np.nan)),
     "best parameter b_y holds NaN"),
    (1, dict(edit_meta=_meta("state", best_val=None)), "best held-out loss and its iteration"),
    (1, dict(edit_meta=_meta("state", best_val=None, best_iteration=None)), "best parameters"),
    (1, dict(edit_meta=_meta("state", best_val=0.5)), "not one of its held-out"),
    (1, dict(edit_arrays=lambda a: a.__setitem__("param/W_hy",
                                                   a["param/W_hy"].astype(np.float16))),
     "dtype 'F16', which a dinogui checkpoint never holds"),
    (1, dict(edit_arrays=lambda a: a.__setitem__("param/b_y", a["param/b_y"].astype(np.int32))),
     "int32, not float32"),
    (1, dict(edit_meta=_meta("state", cursor=99)), "cursor is beyond"),
    (1, dict(edit_meta=_meta("state", rng_state={"bit_generator": "MT19937"})),
     "random generator's state"),
    (1, dict(edit_meta=_meta("state", rng_state=None)), "random generator state does not fit"),
    (1, dict(edit_arrays=_set("state/val_losses", np.array([np.nan, 1.0, 1.0]))), "NaN or neg"),
    (1, dict(edit_arrays=_set("state/val_iterations", np.array([0, 2, 9]))), "out of order"),
    (1, dict(edit_arrays=_set("state/val_iterations", np.array([0, 2]))), "val_losses has"),
    (0, dict(edit_arrays=_set("state/a_prev", np.zeros((3, 1)))), "carried hidden state"),
    (0, dict(edit_arrays=_set("state/a_prev", np.full((50, 1), np.inf))), "hidden state holds"),
    (0, dict(edit_arrays=_set("state/order", np.zeros(0, np.int64))), "example order"),
    (0, dict(edit_arrays=_set("state/order", np.zeros(8, np.int64))), "example order"),
    (0, dict(edit_arrays=_set("state/order", np.arange(8, dtype=np.int32))), "int32"),
    (0, dict(edit_arrays=_set("names", np.frombuffer(b"ada\n\nbob", np.uint8))), "vocabulary"),
    (0, dict(edit_arrays=_set("names", np.frombuffer(b"\xff\xfe", np.uint8))), "not UTF-8"),
    (0, dict(edit_arrays=_set("hist/loss", np.zeros(4))), "hist/.* has the shape"),
    (0, dict(edit_arrays=lambda a: [a.__setitem__(k, v[:4]) for k, v in list(
        a.items()) if k.startswith("hist/")]), "does not hold every recent step"),
    (0, dict(edit_arrays=_set("extra", np.zeros(1))), "unexpected array 'extra'"),
    (0, dict(edit_arrays=_set("opt/m/Wax", np.zeros(1))), "optimizer state m/Wax"),
    (0, dict(edit_meta=_meta(None, optimizer={"kind": "adam"})), "has no optimizer"),
    (0, dict(edit_meta=_meta(None, config=[1, 2])), "settings are not a table"),
    (0, dict(edit_meta=_meta("config", hidden="50")), "setting hidden is '50', not a int"),
    (0, dict(edit_meta=_meta("config", hidden=True)), "setting hidden is True"),
    (0, dict(edit_meta=_meta("config", hidden=1e10)), "not a int"),
    (0, dict(edit_meta=_meta("config", hidden=10**30)), "out of range"),
    (0, dict(edit_meta=_meta("config", lr=None)), "setting lr is None"),
    (0, dict(edit_meta=_meta("config", preset="fancy")), "preset must be one of"),
    (0, dict(edit_meta=_meta("config", weight_decay=0.1)), "weight decay needs the default"),
    (0, dict(edit_meta=_meta(None, vocab=5)), "vocabulary is malformed"),
    (0, dict(edit_meta=_meta(None, vocab="\nabc\n")), "vocabulary is malformed"),
    (0, dict(edit_meta=_meta(None, corpus={"source": 3})), "corpus fields"),
    (0, dict(edit_meta=lambda m: m.pop("state")), "metadata has no state"),
    (0, dict(edit_meta=lambda m: m["state"].pop("seconds")), "state has no seconds"),
    (0, dict(edit_meta=_meta("state", iteration=-1)), "iteration is -1"),
    (0, dict(edit_meta=_meta("state", iteration=6)), "loss history is damaged"),
    (0, dict(edit_meta=_meta("state", iteration=2**70)), "iteration is"),
    (0, dict(edit_meta=_meta("state", smooth=-3.0)), "never negative"),
    (0, dict(edit_meta=_meta("state", smooth_char="2")), "smooth char is '2'"),
    (0, dict(edit_meta=_meta("state", total_chars=1)), "character count"),
    (0, dict(edit_meta=_meta("state", epoch=2)), "classic model never does"),
    (0, dict(edit_meta=_meta("state", seconds=[1])), r"seconds is \[1\]"),
]


@pytest.mark.parametrize("case", range(len(DAMAGE)))
def test_every_field_and_array_is_checked_at_load(saved, tmp_path, case):
    which, edit, reason = DAMAGE[case]
    bad = rewrite(saved[which], tmp_path / "bad.safetensors", **edit)
    with pytest.raises(CheckpointError, match=reason) as refused:
        checkpoint.load(bad)
    assert str(refused.value).startswith(f"{bad}: ")
    assert "\n" not in str(refused.value)


def test_the_untouched_checkpoints_load_and_train(saved):
    for path in saved:
        checkpoint.load(path).run(2)


def test_a_failed_save_leaves_the_old_checkpoint_intact(tiny_corpus, tmp_path, monkeypatch):
    t = make(tiny_corpus, "classic")
    path = checkpoint.save(t, tmp_path / "c.safetensors")
    before = path.read_bytes()
    t.run(5)

    def crash(*a, **k):
        raise OSError("disk full")
    monkeypatch.setattr("dinogui.core.atomic.os.replace", crash)
    with pytest.raises(OSError):
        checkpoint.save(t, path)
    assert path.read_bytes() == before
    assert not list(tmp_path.glob("*.tmp"))  # no temp file left


def test_describe_reads_only_the_metadata(tiny_corpus, tmp_path):
    t = make(tiny_corpus, "classic")
    t.run(12)
    assert checkpoint.describe(checkpoint.save(t, tmp_path / "a")) == "iteration 12 on tiny"
    assert checkpoint.describe(DATA / "legacy-classic.npz") == "iteration 25 on <memory>"
    (tmp_path / "b").write_bytes(b"junk")
    with pytest.raises(CheckpointError, match="b: is not a dinogui checkpoint"):
        checkpoint.describe(tmp_path / "b")


def test_long_runs_keep_a_bounded_history_that_resumes_exactly(tiny_corpus, tmp_path):
    """Only the history grows with the iterations: 300k iterations are barely larger than
    100k, and a thinned history continues exactly as the straight one."""
    sizes = {}
    for n in (100_000, 300_000):
        t = make(tiny_corpus, "classic")
        t.run(3)
        rng = np.random.default_rng(n)
        t.history = type(t.history).from_every_step({
            "loss": rng.random(n) * 20, "chars": rng.integers(2, 9, n).astype(np.int32),
            "names": np.ones(n, np.int32), "smooth": rng.random(n), "smooth_char": rng.random(n)})
        t.state.iteration, t.state.total_chars = n, 9 * n
        path = checkpoint.save(t, tmp_path / f"{n}.safetensors")
        sizes[n] = path.stat().st_size
        back = checkpoint.load(path)
        for k, col in t.history.to_arrays().items():
            np.testing.assert_array_equal(col, back.history.column(k), err_msg=k)
        assert back.history.steps == n
    assert sizes[300_000] < 2_000_000
    assert sizes[300_000] < 1.05 * sizes[100_000]
    assert 32 * 100_000 > 2 * sizes[100_000]  # what keeping every step would take


def test_deep_or_huge_metadata_is_refused_cleanly(tiny_corpus, tmp_path):
    good = checkpoint.save(make(tiny_corpus, "classic"), tmp_path / "good")
    meta, arrays = read(good)
    deep = tmp_path / "deep"
    write(deep, meta, arrays)
    raw = deep.read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8 : 8 + n])
    header["__metadata__"]["dinogui"] = "[" * 100_000 + "]" * 100_000
    body = json.dumps(header).encode()
    body += b" " * (-len(body) % 8)
    deep.write_bytes(struct.pack("<Q", len(body)) + body + raw[8 + n :])
    with pytest.raises(CheckpointError, match="nested too deeply"):
        checkpoint.load(deep)
    huge = tmp_path / "huge"
    huge.write_bytes(struct.pack("<Q", 2**40) + b"{" + b" " * 100)
    with pytest.raises(CheckpointError, match="header length"):
        checkpoint.load(huge)
    nan = rewrite(good, tmp_path / "nan", edit_meta=_meta("state", smooth=math.nan))
    with pytest.raises(CheckpointError, match="holds NaN"):
        checkpoint.load(nan)


def test_every_train_state_field_is_stored_and_checked():
    """Serialisation follows TrainState's fields: a new field is saved, and needs a rule."""
    from dataclasses import fields

    from dinogui.core import checkpoint_schema as schema
    from dinogui.core.trainer import TrainState

    in_meta, as_arrays = schema.state_fields()
    assert sorted(in_meta + as_arrays) == sorted(f.name for f in fields(TrainState))
    assert {"order", "a_prev", "val_iterations", "val_losses"} <= set(as_arrays)
    for name in in_meta:
        assert callable(schema.state_rule(name)), name  # KeyError: an annotation with no rule


def test_a_loaded_trainer_is_built_like_a_fresh_one(tiny_corpus, tmp_path):
    """One construction path: the same attributes, none created lazily later."""
    for preset in ("classic", "default"):
        fresh = make(tiny_corpus, preset)
        loaded = checkpoint.load(checkpoint.save(fresh, tmp_path / preset))
        assert vars(loaded).keys() == vars(fresh).keys()
        fresh.run(3)
        loaded.run(3)
        assert vars(loaded).keys() == vars(fresh).keys() == vars(make(tiny_corpus, preset)).keys()


def test_cli_save_writes_exactly_the_given_path(tiny_corpus, tmp_path):
    from dinogui import cli

    for name in ("model.npz", "model"):
        out = tmp_path / "out" / name
        out.parent.mkdir(exist_ok=True)
        assert cli.main(["train", "--corpus", str(tiny_corpus), "--iterations", "3", "--quiet",
                         "--save", str(out)]) == 0
        assert out.read_bytes()[8:9] == b"{"  # safetensors, whatever the name says
        assert checkpoint.load(out).iteration == 3
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["model", "model.npz"]


def test_extreme_but_valid_settings_load(tiny_corpus, tmp_path):
    """Only what TrainConfig refuses is refused: a huge learning rate is a setting."""
    t = make(tiny_corpus, "default")
    t.set_live(lr=1e39, clip=1e300)
    back = checkpoint.load(checkpoint.save(t, tmp_path / "c"))
    assert (back.config.lr, back.config.clip) == (1e39, 1e300)
