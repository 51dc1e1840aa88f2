"""SGD, Adagrad and Adam against their formulas written out by hand, and their
state surviving a checkpoint so that a resumed run continues exactly."""

import numpy as np
import pytest

from dinogui.core import checkpoint
from dinogui.core.config import TrainConfig
from dinogui.core.corpus import corpus_from_names
from dinogui.core.optim import Optimizer
from dinogui.core.packing import ParamPack
from dinogui.core.trainer import Trainer
from tests.checkpoint_files import read

GRADS = [np.array([[0.5, -1.0], [2.0, 0.0]]), np.array([[-0.25, 0.5], [1.0, 3.0]]),
         np.array([[0.1, 0.1], [-2.0, 1e-3]])]
START = np.array([[1.0, 2.0], [-1.0, 0.5]])


def run(kind, lr, **kw):
    """Three updates of two named arrays packed in one flat buffer."""
    opt = Optimizer(kind, **kw)
    pack = ParamPack({"W": START.copy(), "b": START[0].copy()})
    for g in GRADS:
        pack.gather({"W": g.copy(), "b": g[1].copy()})
        opt.update_packed(pack, lr)
    return pack.params, opt


def test_sgd_is_a_plain_step_down_the_gradient():
    params, opt = run("sgd", 0.1)
    np.testing.assert_allclose(params["W"], START - 0.1 * sum(GRADS), rtol=0, atol=1e-15)
    np.testing.assert_allclose(params["b"], START[0] - 0.1 * sum(g[1] for g in GRADS),
                               rtol=0, atol=1e-15)
    assert opt.t == 3
    assert not any(k.startswith(("m/", "v/", "mem/")) for k in opt.state)  # SGD keeps none


def test_adagrad_divides_by_the_root_of_summed_squares():
    params, opt = run("adagrad", 0.1, eps=1e-8)
    W, mem = START.copy(), np.zeros_like(START)
    for g in GRADS:  # min-char-rnn: mem += g*g; p -= lr * g / sqrt(mem + 1e-8)
        mem = mem + g**2
        W = W - 0.1 * g / np.sqrt(mem + 1e-8)
    np.testing.assert_allclose(params["W"], W, rtol=1e-14, atol=0)
    np.testing.assert_allclose(opt.state["mem/W"], mem, rtol=1e-15)
    # the untouched entry (grad 0 in the first two steps) moved only at the third
    assert params["W"][1, 1] != START[1, 1]


def test_adam_follows_kingma_and_ba_algorithm_1():
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    params, opt = run("adam", lr, beta1=b1, beta2=b2, eps=eps)
    W, m, v = START.copy(), np.zeros_like(START), np.zeros_like(START)
    for t, g in enumerate(GRADS, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        # the paper's efficient form of the bias correction (end of its section 2)
        alpha_t = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
        W = W - alpha_t * m / (np.sqrt(v) + eps)
    np.testing.assert_allclose(params["W"], W, rtol=1e-14, atol=1e-16)
    np.testing.assert_allclose(opt.state["m/W"], m, rtol=1e-14)
    np.testing.assert_allclose(opt.state["v/W"], v, rtol=1e-14)
    assert opt.t == 3


def test_adam_first_step_moves_every_weight_by_about_lr():
    """Bias correction: the first step is lr * sign(g), whatever the gradient's size."""
    pack = ParamPack({"W": np.zeros(4)})
    pack.gather({"W": np.array([1e-3, -5.0, 200.0, -0.1])})
    Optimizer("adam").update_packed(pack, 0.01)
    np.testing.assert_allclose(pack.params["W"], [-0.01, 0.01, -0.01, 0.01], rtol=1e-3)


def test_updates_are_in_place_and_keep_the_dtype():
    for kind in Optimizer.KINDS:
        pack = ParamPack({"W": np.ones((2, 3), dtype=np.float32)})
        W = pack.params["W"]
        pack.gather({"W": np.full((2, 3), 0.5, dtype=np.float32)})
        Optimizer(kind).update_packed(pack, 0.1)
        assert pack.params["W"] is W and W.dtype == np.float32 and (W < 1).all(), kind


def test_unknown_optimizer_is_refused():
    with pytest.raises(ValueError, match="unknown optimizer 'rmsprop'"):
        Optimizer("rmsprop")


# -- through checkpoints -----------------------------------------------------------
NAMES = ["ada", "bob", "cyrus", "dan", "eve", "finnegan", "gus", "hal", "ivy", "jo"]


def make(kind, cell, layers=1):
    lr = {"sgd": 0.5, "adagrad": 0.1, "adam": 0.01}[kind]
    config = TrainConfig.for_preset("default", optimizer=kind, cell=cell, layers=layers,
                                    lr=lr, hidden=12, batch_size=3, samples=0,
                                    val_fraction=0.0)
    return Trainer(corpus_from_names(NAMES), config)


@pytest.mark.parametrize("kind", Optimizer.KINDS)
@pytest.mark.parametrize(("cell", "layers"), [("rnn", 1), ("gru", 1), ("lstm", 2)])
def test_resume_is_exact_for_every_optimizer(tmp_path, kind, cell, layers):
    straight = make(kind, cell, layers)
    straight.run(40)

    first = make(kind, cell, layers)
    first.run(20)
    path = checkpoint.save(first, tmp_path / "c.npz")
    slots = {k[len("opt/"):] for k in read(path)[1] if k.startswith("opt/")}
    assert slots == set(first.optimizer.state)
    if kind != "sgd":
        assert len(slots) == len(first.params) * (2 if kind == "adam" else 1)
    resumed = checkpoint.load(path)
    assert (resumed.optimizer.kind, resumed.optimizer.t) == (kind, 20)
    resumed.run(20)

    for k in straight.params:
        assert np.array_equal(straight.params[k], resumed.params[k]), (kind, k)
    for k in straight.optimizer.state:
        assert np.array_equal(straight.optimizer.state[k], resumed.optimizer.state[k]), k


@pytest.mark.parametrize("kind", ["adagrad", "adam"])
def test_a_resume_without_the_optimizer_state_would_differ(tmp_path, kind):
    """What the exact-resume test guards against: the state matters for the result."""
    straight = make(kind, "gru")
    straight.run(40)
    first = make(kind, "gru")
    first.run(20)
    resumed = checkpoint.load(checkpoint.save(first, tmp_path / "c.npz"))
    resumed.optimizer.state.clear()
    resumed.optimizer.t = 0
    resumed.run(20)
    assert not all(np.array_equal(straight.params[k], resumed.params[k])
                   for k in straight.params)
