"""core.models.reference is the definition; every fast path is checked against it.

- the references' gradients against central finite differences, every cell and depth;
- the rnn reference against the seed's transcription (dinogui/bench/seed.py);
- the classic packed step, the classic sampling step and the batched paths against
  the reference: forward loss, every gradient, and a few steps of training;
- checkpoints written under the one-layer rnn's former names still load.
"""

import numpy as np
import pytest

from dinogui.bench import seed
from dinogui.core import checkpoint
from dinogui.core.config import TrainConfig
from dinogui.core.corpus import corpus_from_names
from dinogui.core.models import MODELS, as_batched, classic, current_name, reference
from dinogui.core.models.ops import log_softmax, softmax
from dinogui.core.trainer import Trainer
from tests.checkpoint_files import as_version_1, read, write_npz

# every cell at every depth
STACKS = [("rnn", 1), ("gru", 1), ("lstm", 1), ("rnn", 2), ("gru", 2), ("lstm", 2),
          ("rnn", 3), ("gru", 3), ("lstm", 3)]


def numeric_grad(f, param: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """Central differences of the scalar f() with respect to every entry of param."""
    g = np.zeros_like(param)
    it = np.nditer(param, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = param[i]
        param[i] = old + eps
        up = f()
        param[i] = old - eps
        down = f()
        param[i] = old
        g[i] = (up - down) / (2 * eps)
    return g


def batch(seed=0, V=6, T=6, B=3):
    """Inputs with the start input at t = 0 and two names shorter than the batch."""
    rng = np.random.default_rng(seed)
    X = rng.integers(1, V, (T, B))
    X[0] = -1
    Y = np.roll(X, -1, axis=0)
    Y[-1] = 0
    mask = np.ones((T, B))
    for b, length in ((1, 3), (2, 5)):  # positions past a name's end are padding
        Y[length - 1, b] = 0
        mask[length:, b] = 0
        Y[length:, b] = 0
    return X, Y, mask


def random_params(cell, layers, seed=0, V=6, H=4, scale=0.5):
    """The reference's names and shapes, larger values than the init so every term matters."""
    rng = np.random.default_rng(seed)
    p = reference.init_params(cell, V, H, layers, rng)
    return {k: rng.standard_normal(v.shape) * scale for k, v in p.items()}


# -- the references ---------------------------------------------------------------------
@pytest.mark.parametrize(("cell", "layers"), [("rnn", 1), ("gru", 1), ("lstm", 1),
                                              ("rnn", 2), ("gru", 2), ("lstm", 2)])
def test_reference_gradients_match_finite_differences(cell, layers):
    params = random_params(cell, layers)
    X, Y, mask = batch()
    _, grads, _ = reference.loss_and_grads(cell, params, X, Y, mask)
    assert grads.keys() == params.keys()
    for k, p in params.items():
        num = numeric_grad(lambda: reference.loss_and_grads(cell, params, X, Y, mask)[0], p)
        np.testing.assert_allclose(grads[k], num, rtol=1e-6, atol=1e-8, err_msg=f"{cell} {k}")


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_reference_gradients_with_a_carried_start_state(cell):
    params = random_params(cell, 1, seed=1)
    X, Y, mask = batch(seed=1)
    rng = np.random.default_rng(2)
    start = [tuple(rng.standard_normal((3, 4)) * 0.5 for _ in range(reference.STATE_PARTS[cell]))]
    _, grads, _ = reference.loss_and_grads(cell, params, X, Y, mask, start)
    for k, p in params.items():
        num = numeric_grad(lambda: reference.loss_and_grads(cell, params, X, Y, mask, start)[0], p)
        np.testing.assert_allclose(grads[k], num, rtol=1e-6, atol=1e-8, err_msg=f"{cell} {k}")


def seed_name(rng, V, T):
    """One name of T - 1 letters as the seed feeds it: (X with None first, Y ending in 0)."""
    ys = [*rng.integers(1, V, T - 1).tolist(), 0]
    return [None, *ys[:-1]], ys


def test_rnn_reference_is_the_seed_transcription():
    """One name with a carried state: the reference's numbers are the exercise's."""
    rng = np.random.default_rng(3)
    V, H = 9, 8
    params = random_params("rnn", 1, seed=3, V=V, H=H)
    seed_params = {"Wax": params["W_x"].T, "Waa": params["W_h"].T, "Wya": params["W_hy"].T,
                   "b": params["b"][:, None], "by": params["b_y"][:, None]}
    a_prev = rng.standard_normal((H, 1)) * 0.5
    X, Y = seed_name(rng, V, 12)
    want_loss, cache = seed.rnn_forward(X, Y, a_prev, seed_params, V)
    want, a = seed.rnn_backward(X, Y, seed_params, cache)
    Xr = np.array([-1, *X[1:]])[:, None]
    loss, grads, end = reference.loss_and_grads("rnn", params, Xr, np.array(Y)[:, None],
                                                np.ones((12, 1)), [(a_prev.T,)])
    assert loss == pytest.approx(want_loss, rel=1e-12)
    for k, sk in (("W_x", "Wax"), ("W_h", "Waa"), ("W_hy", "Wya")):
        np.testing.assert_allclose(grads[k], want["d" + sk].T, rtol=0, atol=1e-12, err_msg=k)
    np.testing.assert_allclose(grads["b"], want["db"][:, 0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(grads["b_y"], want["dby"][:, 0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(end[0][0], a[11].T, rtol=0, atol=1e-13)


def test_init_follows_the_documented_scales_and_draw_order():
    p = reference.init_params("rnn", 7, 16, 1, np.random.default_rng(0))
    draws = np.random.default_rng(0)
    np.testing.assert_array_equal(p["W_x"], draws.standard_normal((7, 16)) * 0.3)
    np.testing.assert_array_equal(p["W_h"], draws.standard_normal((16, 16)) * (0.5 / 4))
    np.testing.assert_array_equal(p["W_hy"], draws.standard_normal((16, 7)) * (0.3 / 4))
    assert not p["b"].any() and not p["b_y"].any()
    lstm = reference.init_params("lstm", 5, 4, 2, np.random.default_rng(0))
    for layer in range(2):
        b = lstm[f"l{layer}/b"]
        np.testing.assert_array_equal(b[4:8], 1.0)  # the forget block of [i | f | o | g]
        np.testing.assert_array_equal(np.delete(b, np.s_[4:8]), 0.0)
    with pytest.raises(ValueError, match="layers must be between 1 and 3"):
        reference.init_params("gru", 5, 4, 4, np.random.default_rng(0))


# -- classic: the packed step and the sampling step -------------------------------------------
def classic_params(seed, V, H):
    rng = np.random.RandomState(seed)
    return {k: rng.randn(*v.shape) * 0.4 for k, v in classic.init_params(H, V, rng).items()}


def test_packed_step_equals_the_reference_for_long_names_and_carried_state():
    rng = np.random.default_rng(4)
    V, H = 11, 7
    params = classic_params(4, V, H)
    net = classic.PackedRNN.from_params(params)
    a_prev = rng.standard_normal((H, 1)) * 0.5
    for T in (2, 5, 40, 3, 70):  # 40 and 70 outgrow the workspace; 3 reuses a smaller view
        ys = np.concatenate((rng.integers(1, V, T - 1), [0]))
        loss = net.backprop(ys[:-1], ys, a_prev)
        X = np.concatenate(([-1], ys[:-1]))[:, None]
        want, grads, end = reference.loss_and_grads(
            "rnn", classic.to_reference(params), X, ys[:, None], np.ones((T, 1)), [(a_prev.T,)])
        assert loss == pytest.approx(want, rel=1e-12)
        got = classic.to_reference(net.grads)
        for k in grads:
            np.testing.assert_allclose(got[k], grads[k], rtol=0, atol=1e-10, err_msg=k)
        np.testing.assert_allclose(net.last_state(), end[0][0].T, rtol=0, atol=1e-13)
        a_prev = net.last_state()


def test_packed_training_steps_follow_the_reference():
    """Three clipped SGD steps, name after name with the state carried, as classic trains."""
    rng = np.random.default_rng(5)
    V, H, lr, clip = 8, 6, 0.1, 1.0
    params = classic_params(5, V, H)
    ref_params = {k: v.copy() for k, v in classic.to_reference(params).items()}
    net = classic.PackedRNN.from_params(params)
    a_net = a_ref = np.zeros((H, 1))
    for T in (6, 4, 9):
        ys = np.concatenate((rng.integers(1, V, T - 1), [0]))
        net.backprop(ys[:-1], ys, a_net)
        net.clip_grads(clip)
        net.sgd(lr)
        a_net = net.last_state()
        X = np.concatenate(([-1], ys[:-1]))[:, None]
        _, grads, end = reference.loss_and_grads("rnn", ref_params, X, ys[:, None],
                                                 np.ones((T, 1)), [(a_ref.T,)])
        for k, g in grads.items():
            ref_params[k] -= lr * np.clip(g, -clip, clip)
        a_ref = end[0][0].T
    for k, v in classic.to_reference(net.params).items():
        np.testing.assert_allclose(v, ref_params[k], rtol=0, atol=1e-12, err_msg=k)


def test_packed_sgd_and_clip_equal_the_seed_update_bit_for_bit():
    rng = np.random.RandomState(0)
    params = {k: rng.randn(*v.shape) for k, v in classic.init_params(6, 5, rng).items()}
    net = classic.PackedRNN.from_params(params)
    grads = {k: rng.randn(*v.shape) * 8 for k, v in params.items()}  # some beyond the clip
    for k, g in grads.items():
        net.grads[k][...] = g
    seed.update_parameters(params, seed.clip({"d" + k: g for k, g in grads.items()}, 5), 0.01)
    net.clip_grads(5.0)
    net.sgd(0.01)
    for k in classic.PARAM_NAMES:
        assert np.array_equal(net.params[k], params[k]), k


def test_seed_views_are_the_seed_arrays():
    """step_probs, checkpoints and the window see the seed's shapes, and writes go through."""
    net = classic.PackedRNN.from_params(classic.init_params(5, 4, np.random.RandomState(1)))
    assert {k: v.shape for k, v in net.params.items()} == {
        "Wax": (5, 4), "Waa": (5, 5), "Wya": (4, 5), "b": (5, 1), "by": (4, 1)}
    net.params["Waa"][2, 3] = 7.0
    assert net.flat[2 * net.width + 3] == 7.0
    assert net.grads_finite()  # zeros
    net.grad_flat[3] = np.nan
    assert not net.grads_finite()
    net.grad_flat[3] = np.inf
    assert not net.grads_finite()
    net.grad_flat[3] = 1e308  # finite, and the sum overflows: still finite
    net.grad_flat[4] = 1e308
    with np.errstate(over="ignore"):
        assert net.grads_finite()


def test_classic_sampling_step_equals_the_reference_forward():
    params = classic_params(6, 7, 5)
    ref_params = classic.to_reference(params)
    xs = [-1, 3, 1, 6, 2]
    a = np.zeros((5, 1))
    for t, x in enumerate(xs):
        p, a = classic.step_probs(params, x, a, temperature=0.7)
        X = np.array(xs[: t + 1])[:, None]
        logits = as_batched("classic", "rnn", params).logits(X)[t, 0]
        np.testing.assert_allclose(p, softmax(logits / 0.7), rtol=1e-12)
        # the reference's state after the same inputs
        _, _, end = reference.loss_and_grads("rnn", ref_params, X, np.zeros_like(X),
                                             np.zeros(X.shape))
        np.testing.assert_allclose(a[:, 0], end[0][0][0], rtol=0, atol=1e-14)


# -- batched: every cell and depth ------------------------------------------------------------
@pytest.mark.parametrize(("cell", "layers"), STACKS)
def test_batched_loss_and_gradients_equal_the_reference(cell, layers):
    params = random_params(cell, layers, seed=2)
    model = MODELS[cell]({k: v.copy() for k, v in params.items()})
    X, Y, mask = batch(seed=2)
    want, want_grads, _ = reference.loss_and_grads(cell, params, X, Y, mask)
    n = mask.sum()
    for _ in range(2):  # the second call runs on reused work arrays
        loss, grads = model.loss_and_grads(X, Y, mask)
        assert loss == pytest.approx(want, rel=1e-12)
        assert grads.keys() == params.keys()
        for k, g in want_grads.items():  # the batched paths return the mean per character
            np.testing.assert_allclose(grads[k] * n, g, rtol=0, atol=1e-11, err_msg=k)
    assert model.loss(X, Y, mask) == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize(("cell", "layers"), [("rnn", 1), ("gru", 1), ("lstm", 2), ("rnn", 3)])
def test_batched_training_steps_follow_the_reference(cell, layers):
    """Three SGD steps on different batches: parameters stay equal to rounding."""
    params = random_params(cell, layers, seed=8, V=7, H=5, scale=0.3)
    model = MODELS[cell]({k: v.copy() for k, v in params.items()})
    for s in range(3):
        X, Y, mask = batch(seed=10 + s, V=7, T=5 + s, B=4)
        _, grads = model.loss_and_grads(X, Y, mask)
        _, want, _ = reference.loss_and_grads(cell, params, X, Y, mask)
        for k in params:
            model.params[k] -= 0.5 * grads[k]
            params[k] -= 0.5 * want[k] / mask.sum()
    for k in params:
        np.testing.assert_allclose(model.params[k], params[k], rtol=0, atol=1e-12, err_msg=k)


@pytest.mark.parametrize(("cell", "layers"), STACKS)
def test_batched_stepping_gives_the_full_forward_pass(cell, layers):
    model = MODELS[cell](random_params(cell, layers, seed=4, V=7, H=5))
    X, Y, mask = batch(seed=4, V=7, T=7, B=4)
    state = model.start_state(X.shape[1])
    stepped = []
    for t in range(X.shape[0]):
        logits, state = model.step(X[t], state)
        stepped.append(logits)
    np.testing.assert_allclose(np.stack(stepped), model.logits(X), rtol=0, atol=1e-12)
    logp = log_softmax(np.stack(stepped))
    picked = np.take_along_axis(logp, Y[..., None], axis=-1)[..., 0]
    assert -(picked * mask).sum() == pytest.approx(model.loss(X, Y, mask), rel=1e-12)


@pytest.mark.parametrize("cell", sorted(MODELS))
@pytest.mark.parametrize("layers", [1, 2])
def test_batched_models_start_from_the_reference_init(cell, layers):
    model = MODELS[cell].create(8, 6, np.random.default_rng(3), np.float32, layers=layers)
    want = reference.init_params(cell, 8, 6, layers, np.random.default_rng(3))
    assert list(model.params) == list(want)
    for k, v in want.items():
        assert model.params[k].dtype == np.float32
        np.testing.assert_array_equal(model.params[k], v.astype(np.float32), err_msg=k)


# -- checkpoints from before the shared names ---------------------------------------------------
def test_checkpoints_with_the_former_rnn_names_load_and_resume_exactly(tmp_path):
    names = ["ada", "bob", "cyrus", "dan", "eve", "finnegan", "gus", "hal", "ivy", "jo"]
    config = TrainConfig.for_preset("default", hidden=8, batch_size=3, val_fraction=0.2,
                                    sample_every=5, samples=2)
    straight = Trainer(corpus_from_names(names), config)
    straight.run(12)
    first = Trainer(corpus_from_names(names), config)
    first.run(6)
    path = checkpoint.save(first, tmp_path / "now.npz")
    former = {"W_x": "W_xh", "W_h": "W_hh", "b": "b_h"}
    meta, now = as_version_1(*read(path))  # the .npz layout the former names were saved in
    arrays = {}
    for k, v in now.items():  # param/W_x -> param/W_xh, opt/m/W_x -> opt/m/W_xh, best/b -> best/b_h
        head, _, last = k.rpartition("/")
        old = f"{head}/{former[last]}" if head and last in former else k
        arrays[old] = v
    assert "param/W_xh" in arrays and "opt/v/b_h" in arrays and "best/W_hh" in arrays
    write_npz(tmp_path / "old.npz", meta, arrays)
    resumed = checkpoint.load(tmp_path / "old.npz")
    assert list(resumed.params) == ["W_x", "W_h", "b", "W_hy", "b_y"]
    resumed.run(6)
    for k in straight.params:
        assert np.array_equal(resumed.params[k], straight.params[k]), k
    assert current_name("opt/m/W_hh") == "opt/m/W_h" and current_name("W_xh") == "W_x"
    assert current_name("l0/W_x") == "l0/W_x" and current_name("hist/loss") == "hist/loss"
