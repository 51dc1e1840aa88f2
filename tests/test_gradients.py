"""Every model's gradients against central finite differences, and fast paths
against the plain transcription of the seed."""

import numpy as np
import pytest

from dinogui.core import rnn
from dinogui.core.models import MODELS
from dinogui.bench import reference as ref


def numeric_grad(f, param: np.ndarray, eps: float = 1e-5) -> np.ndarray:
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


def classic_case(seed=0, V=7, n_a=5, T=6):
    rng = np.random.RandomState(seed)
    params = rnn.init_params(n_a, V, rng)
    for k in params:  # larger weights than the init, so every term matters
        params[k] = rng.randn(*params[k].shape) * 0.5
    xs = np.concatenate(([-1], rng.randint(1, V, T - 1)))
    ys = np.concatenate((xs[1:], [0]))
    a_prev = rng.randn(n_a, 1) * 0.5
    return params, xs, ys, a_prev


def test_classic_gradients_match_finite_differences():
    params, xs, ys, a_prev = classic_case()
    _, grads, _ = rnn.loss_and_grads(params, xs, ys, a_prev)
    for k in rnn.PARAM_NAMES:
        num = numeric_grad(lambda: rnn.loss_and_grads(params, xs, ys, a_prev)[0], params[k])
        np.testing.assert_allclose(grads[k], num, rtol=1e-6, atol=1e-8, err_msg=k)


def test_classic_fast_path_equals_the_seed_transcription():
    params, xs, ys, a_prev = classic_case(seed=3, V=9, n_a=8, T=12)
    loss, grads, a_last = rnn.loss_and_grads(params, xs, ys, a_prev)
    X = [None] + [int(i) for i in xs[1:]]
    Y = [int(i) for i in ys]
    ref_loss, cache = ref.rnn_forward(X, Y, a_prev, params, vocab_size=9)
    ref_grads, a = ref.rnn_backward(X, Y, params, cache)
    assert loss == pytest.approx(ref_loss, rel=1e-12)
    for k in rnn.PARAM_NAMES:
        np.testing.assert_allclose(grads[k], ref_grads["d" + k], rtol=0, atol=1e-10, err_msg=k)
    np.testing.assert_allclose(a_last, a[len(X) - 1], atol=1e-12)


def batch_case(cell, seed=0, V=6, H=4, T=5, B=3):
    rng = np.random.default_rng(seed)
    model = MODELS[cell].create(V, H, rng, np.float64)
    for k, v in model.params.items():
        model.params[k] = rng.standard_normal(v.shape) * 0.5
    X = rng.integers(1, V, (T, B))
    X[0] = -1
    Y = np.roll(X, -1, axis=0)
    Y[-1] = 0
    mask = np.ones((T, B))
    mask[3:, 1] = 0  # a shorter name in the batch
    Y[3:, 1] = 0
    return model, X, Y, mask


@pytest.mark.parametrize("cell", sorted(MODELS))
def test_batched_gradients_match_finite_differences(cell):
    model, X, Y, mask = batch_case(cell)
    n = mask.sum()
    _, grads = model.loss_and_grads(X, Y, mask)
    for k, p in model.params.items():
        num = numeric_grad(lambda: model.loss_and_grads(X, Y, mask)[0] / n, p)
        np.testing.assert_allclose(grads[k], num, rtol=1e-5, atol=1e-8, err_msg=f"{cell} {k}")


def test_batched_rnn_equals_per_name_seed_math():
    """A batch of names = the seed's per-name gradients summed (zero start state)."""
    model, X, Y, mask = batch_case("rnn", seed=5, V=8, H=6, T=7, B=4)
    p = model.params
    classic = {"Wax": p["W_xh"].T.copy(), "Waa": p["W_hh"].T.copy(), "Wya": p["W_hy"].T.copy(),
               "b": p["b_h"][:, None].copy(), "by": p["b_y"][:, None].copy()}
    loss, grads = model.loss_and_grads(X, Y, mask)
    total_loss, total = 0.0, {k: 0.0 for k in classic}
    for b in range(X.shape[1]):
        T_b = int(mask[:, b].sum())
        Xb = [None] + [int(i) for i in X[1:T_b, b]]
        Yb = [int(i) for i in Y[:T_b, b]]
        name_loss, cache = ref.rnn_forward(Xb, Yb, np.zeros((6, 1)), classic, vocab_size=8)
        g, _ = ref.rnn_backward(Xb, Yb, classic, cache)
        total_loss += name_loss
        for k in classic:
            total[k] = total[k] + g["d" + k]
    n = mask.sum()
    assert loss == pytest.approx(total_loss, rel=1e-12)
    pairs = {"W_xh": total["Wax"].T, "W_hh": total["Waa"].T, "W_hy": total["Wya"].T,
             "b_h": total["b"][:, 0], "b_y": total["by"][:, 0]}
    for k, want in pairs.items():
        np.testing.assert_allclose(grads[k], want / n, rtol=0, atol=1e-10, err_msg=k)
