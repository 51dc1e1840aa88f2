"""GRU, LSTM and stacked layers beyond their parity with the reference (tests/test_models.py):
dropout, padding, float32 against float64, rebuilding from saved parameters, and
training and resuming through the Trainer and checkpoints."""

import numpy as np
import pytest

from dinogui.core import checkpoint
from dinogui.core.checkpoint import CheckpointError
from dinogui.core.config import TrainConfig
from dinogui.core.corpus import corpus_from_names
from dinogui.core.models import MODELS
from dinogui.core.models.batched import GRU, LSTM, RNN, drop
from dinogui.core.trainer import Trainer
from tests.test_models import batch, numeric_grad

NAMES = ["ada", "bob", "cyrus", "dan", "eve", "finnegan", "gus", "hal", "ivy", "jo",
         "kim", "lou", "max", "ned", "otto", "pia", "quinn", "rex", "sal", "tom"]

# every cell at every depth that goes through the stacked code
STACKS = [("gru", 1), ("lstm", 1), ("rnn", 2), ("gru", 2), ("lstm", 2),
          ("rnn", 3), ("gru", 3), ("lstm", 3)]


def model_for(cell, layers, seed=0, V=6, H=4, scale=0.5, dtype=np.float64):
    rng = np.random.default_rng(seed)
    model = MODELS[cell].create(V, H, rng, dtype, layers=layers)
    for k, v in model.params.items():  # larger than the init, so every term matters
        model.params[k] = (rng.standard_normal(v.shape) * scale).astype(dtype)
    return model


# -- the math ------------------------------------------------------------------
@pytest.mark.parametrize(("cell", "layers"), [("gru", 1), ("lstm", 2), ("rnn", 2), ("gru", 3)])
def test_gradients_with_dropout_match_finite_differences(cell, layers):
    model = model_for(cell, layers, seed=6)
    X, Y, mask = batch(seed=6)
    n = mask.sum()

    def dropped():  # the same masks on every call
        return model.loss_and_grads(X, Y, mask, 0.4, np.random.default_rng(7))

    _, grads = dropped()
    for k, p in model.params.items():
        num = numeric_grad(lambda: dropped()[0] / n, p)
        np.testing.assert_allclose(grads[k], num, rtol=1e-5, atol=1e-8,
                                   err_msg=f"{cell} x{layers} {k}")


def test_dropout_drops_only_while_training():
    model = model_for("lstm", 2, seed=7)
    X, Y, mask = batch(seed=7)
    plain, _ = model.loss_and_grads(X, Y, mask)
    assert model.loss_and_grads(X, Y, mask, 0.0, np.random.default_rng(0))[0] == plain
    dropped = {model.loss_and_grads(X, Y, mask, 0.5, np.random.default_rng(s))[0]
               for s in range(3)}
    assert len(dropped) == 3 and plain not in dropped
    assert model.loss(X, Y, mask) == pytest.approx(plain, rel=1e-12)

    H = np.ones((400, 500), dtype=np.float32)
    out, keep = drop(H, 0.3, np.random.default_rng(0))
    assert out.dtype == np.float32
    assert abs((out == 0).mean() - 0.3) < 0.01
    np.testing.assert_allclose(out[out != 0], 1 / 0.7, rtol=1e-6)  # expected value kept
    assert drop(H, 0.0, None) == (H, None)


@pytest.mark.parametrize(("cell", "layers"), [*STACKS, ("rnn", 1)])
def test_padding_never_reaches_the_loss_or_the_gradients(cell, layers):
    model = model_for(cell, layers, seed=3)
    X, Y, mask = batch(seed=3)
    loss, grads = model.loss_and_grads(X, Y, mask)
    X2, Y2 = X.copy(), Y.copy()
    pad = mask == 0
    X2[pad] = 5  # whatever sits in the padding
    Y2[pad] = 4
    loss2, grads2 = model.loss_and_grads(X2, Y2, mask)
    assert loss2 == loss
    for k in grads:
        np.testing.assert_allclose(grads2[k], grads[k], rtol=0, atol=1e-15, err_msg=k)


@pytest.mark.parametrize(("cell", "layers"), [*STACKS, ("rnn", 1)])
def test_float32_agrees_with_float64(cell, layers):
    m64 = model_for(cell, layers, seed=5, V=9, H=16, scale=0.3)
    m32 = MODELS[cell]({k: v.astype(np.float32) for k, v in m64.params.items()})
    X, Y, mask = batch(seed=5, V=9, T=10, B=8)
    loss64, g64 = m64.loss_and_grads(X, Y, mask)
    loss32, g32 = m32.loss_and_grads(X, Y, mask.astype(np.float32))
    assert loss32 == pytest.approx(loss64, rel=1e-5)
    for k in g64:
        assert g32[k].dtype == np.float32, k
        np.testing.assert_allclose(g32[k], g64[k], rtol=0,
                                   atol=1e-5 * max(1.0, np.abs(g64[k]).max()), err_msg=k)


# -- building and rebuilding -------------------------------------------------------
@pytest.mark.parametrize("cell", sorted(MODELS))
@pytest.mark.parametrize("layers", [1, 2, 3])
def test_models_rebuild_from_their_parameters_alone(cell, layers):
    model = MODELS[cell].create(8, 6, np.random.default_rng(0), layers=layers)
    again = MODELS[cell](model.params)
    assert type(again) is type(model)
    assert again.params is model.params
    if layers > 1:
        assert again.layers == layers
        assert all(k in ("W_hy", "b_y") or k.startswith(("l0/", "l1/", "l2/"))
                   for k in model.params)
    else:
        assert not any("/" in k for k in model.params)
    assert again.start_state(3).shape[0] == 3


def test_registry_names_one_class_per_cell():
    rng = np.random.default_rng(0)
    assert [MODELS[c] for c in ("rnn", "gru", "lstm")] == [RNN, GRU, LSTM]
    assert MODELS["rnn"].create(5, 4, rng, layers=2).layers == 2
    with pytest.raises(ValueError, match="layers"):
        GRU.create(5, 4, rng, layers=4)


def test_the_lstm_state_carries_h_and_c_per_layer():
    model = model_for("lstm", 2, H=3)
    state = model.start_state(2)
    assert state.shape == (2, 2 * 2 * 3)
    _, state = model.step(np.array([-1, -1]), state)
    _, state = model.step(np.array([1, 2]), state)
    h_top = state[:, 6:9]  # layer 1's [h | c] sits after layer 0's
    logits, _ = model.step(np.array([3, 4]), state)
    assert np.abs(h_top).max() > 0 and np.isfinite(logits).all()


# -- through the trainer and checkpoints ---------------------------------------------
def corpus_loss(trainer: Trainer) -> float:
    from dinogui.core.validation import Evaluator
    ev = Evaluator.for_names([np.array(trainer.vocab.encode(n)) for n in trainer.corpus.names])
    return ev.loss_per_char(trainer.model)


def make(cell, layers=1, **kw):
    config = TrainConfig.for_preset("default", cell=cell, layers=layers, hidden=16,
                                    batch_size=4, sample_every=50, samples=3,
                                    val_fraction=0.0, **kw)
    return Trainer(corpus_from_names(NAMES), config)


@pytest.mark.parametrize(("cell", "layers"), [("gru", 1), ("lstm", 1), ("gru", 2), ("rnn", 2)])
def test_training_lowers_the_loss(cell, layers):
    t = make(cell, layers)
    assert t.model.cell == cell and t.params["W_hy"].dtype == np.float32
    before = corpus_loss(t)
    reports = t.run(150)
    after = corpus_loss(t)
    assert after < before - 0.5, (before, after)
    assert all(len(r.samples) == 3 for r in reports)


def test_layers_and_dropout_are_validated():
    with pytest.raises(ValueError, match="layers must be between 1 and 3"):
        TrainConfig.for_preset("default", layers=4)
    with pytest.raises(ValueError, match="layers"):
        TrainConfig.for_preset("default", layers=0)
    for bad in (-0.1, 0.95, float("nan")):
        with pytest.raises(ValueError, match="dropout must be"):
            TrainConfig.for_preset("default", cell="gru", dropout=bad)
    with pytest.raises(ValueError, match="dropout needs a gru or lstm"):
        TrainConfig.for_preset("default", cell="rnn", dropout=0.2)
    TrainConfig.for_preset("default", cell="rnn", layers=2, dropout=0.2)


def test_dropout_changes_training_and_is_drawn_from_the_seed():
    plain, dropped, again = make("gru"), make("gru", dropout=0.3), make("gru", dropout=0.3)
    for t in (plain, dropped, again):
        t.run(30)
    assert not np.array_equal(plain.params["W_h"], dropped.params["W_h"])
    for k in dropped.params:
        assert np.array_equal(dropped.params[k], again.params[k]), k


@pytest.mark.parametrize(("cell", "layers", "dropout"),
                         [("gru", 1, 0.0), ("lstm", 1, 0.0), ("lstm", 2, 0.0), ("rnn", 2, 0.0),
                          ("gru", 1, 0.25), ("rnn", 2, 0.25)])
def test_resume_is_exact_to_the_last_bit(tmp_path, cell, layers, dropout):
    straight = make(cell, layers, dropout=dropout)
    straight_reports = straight.run(120)

    first = make(cell, layers, dropout=dropout)
    reports = first.run(60)
    checkpoint.save(first, tmp_path / "half.npz")
    resumed = checkpoint.load(tmp_path / "half.npz")
    assert resumed.config.layers == layers and type(resumed.model) is type(straight.model)
    reports += resumed.run(60)

    assert straight.params.keys() == resumed.params.keys()
    for k in straight.params:
        assert np.array_equal(straight.params[k], resumed.params[k]), k
    np.testing.assert_array_equal(straight.history.column("loss"),
                                  resumed.history.column("loss"))
    assert [(r.iteration, r.samples) for r in straight_reports] == \
        [(r.iteration, r.samples) for r in reports]
    assert resumed.sample(6, seed=3) == straight.sample(6, seed=3)


def test_a_checkpoint_with_other_layers_is_refused(tmp_path):
    from tests.checkpoint_files import rewrite
    path = checkpoint.save(make("gru", 2), tmp_path / "c.safetensors")
    bad = rewrite(path, tmp_path / "bad.safetensors",
                  edit_meta=lambda m: m["config"].update(layers=1))
    with pytest.raises(CheckpointError, match="do not fit a gru"):
        checkpoint.load(bad)
