"""Learning-rate schedules, weight decay and the held-out check's cadence, against hand
computations: exact rates at given steps, one decayed step written out, resumed runs
bit for bit, and checks placed by epochs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dinogui.core import checkpoint
from dinogui.core.config import TrainConfig
from dinogui.core.corpus import corpus_from_names
from dinogui.core.optim import Optimizer
from dinogui.core.packing import ParamPack
from dinogui.core.schedule import rate
from dinogui.core.settings import AUTO_VAL_MAX
from dinogui.core.trainer import Trainer

NAMES = ["anna", "bob", "carla", "dora", "emil", "fritz", "gina", "hugo", "ida", "jan",
         "karl", "lena"] * 3


def cfg(**kw) -> TrainConfig:
    return TrainConfig.for_preset("default", **kw)


# -- the rate of each step ------------------------------------------------------------
@pytest.mark.parametrize(("schedule", "step", "want"), [
    ("constant", 0, 0.1), ("constant", 99, 0.1),
    # 10 warm-up steps: lr * (i + 1) / 10
    ("cosine", 0, 0.01), ("cosine", 4, 0.05), ("cosine", 9, 0.1),
    # then 90 steps of cosine: progress (i - 10) / 90
    ("cosine", 10, 0.1), ("cosine", 55, 0.05), ("cosine", 100, 0.0), ("cosine", 500, 0.0),
    ("cosine", 25, 0.1 * 0.5 * (1 + math.cos(math.pi * 15 / 90))),
    ("linear", 0, 0.01), ("linear", 10, 0.1), ("linear", 55, 0.05), ("linear", 91, 0.01),
    ("linear", 100, 0.0),
])
def test_each_schedule_gives_the_rate_written_out_by_hand(schedule, step, want):
    c = cfg(lr=0.1, lr_schedule=schedule, warmup=10 if schedule != "constant" else 0,
            schedule_iterations=100)
    assert rate(c, step) == pytest.approx(want, rel=1e-12, abs=1e-15)


def test_the_constant_rate_is_the_setting_itself():
    """Bit for bit: runs from before schedules (and classic) keep their numbers."""
    c = TrainConfig(lr=0.0123)
    assert all(rate(c, i) is c.lr for i in (0, 1, 10**6))


@pytest.mark.parametrize(("kw", "why"), [
    (dict(lr_schedule="cosine"), "needs the run's number of iterations"),
    (dict(lr_schedule="linear", warmup=11, schedule_iterations=10), "longer than the run"),
    (dict(weight_decay=2.0), "weight decay must be between 0 and 1"),
])
def test_a_schedule_that_cannot_run_is_refused(kw, why):
    with pytest.raises(ValueError, match=why):
        cfg(**kw)


def test_the_trainer_steps_at_the_scheduled_rate():
    t = Trainer(corpus_from_names(NAMES), cfg(lr=0.02, lr_schedule="linear", warmup=3,
                                             schedule_iterations=12, samples=0, batch_size=4))
    rates = [t.step().lr for _ in range(12)]
    want = [0.02 / 3, 0.04 / 3, 0.02] + [0.02 * (1 - k / 9) for k in range(9)]
    np.testing.assert_allclose(rates, want, rtol=1e-12)


@pytest.mark.parametrize("schedule", ["cosine", "linear"])
def test_a_run_resumed_mid_schedule_is_the_straight_run_bit_for_bit(schedule, tmp_path):
    c = cfg(lr=0.05, lr_schedule=schedule, warmup=4, schedule_iterations=30, batch_size=5,
            weight_decay=0.01, samples=0, sample_every=7)
    straight = Trainer(corpus_from_names(NAMES), c)
    straight.run(30)
    half = Trainer(corpus_from_names(NAMES), c)
    half.run(13)
    back = checkpoint.load(checkpoint.save(half, tmp_path / "half.safetensors"))
    assert back.config == c
    back.run(17)
    for k, v in straight.params.items():
        np.testing.assert_array_equal(back.params[k], v, err_msg=k)


# -- weight decay: one step by hand ------------------------------------------------------
W0 = np.array([[1.0, -2.0], [0.5, 3.0]])
G = np.array([[0.3, -0.1], [2.0, -0.5]])


def one_step(kind: str, lr: float, decay: float) -> np.ndarray:
    pack = ParamPack({"W": W0.copy()})
    pack.gather({"W": G.copy()})
    Optimizer(kind).update_packed(pack, lr, decay)
    return pack.params["W"]


def test_adam_decays_the_weights_apart_from_the_gradient():
    """AdamW: w - lr * (m_hat / (sqrt(v_hat) + eps)) - lr * decay * w (first step)."""
    lr, wd, b1, b2, eps = 0.01, 0.1, 0.9, 0.999, 1e-8
    m, v = (1 - b1) * G, (1 - b2) * G**2
    step = lr * np.sqrt(1 - b2) / (1 - b1)  # the bias correction, folded as the code does
    want = W0 - step * m / (np.sqrt(v) + eps) - lr * wd * W0
    np.testing.assert_allclose(one_step("adam", lr, wd), want, rtol=1e-14)
    # and the decay is not in the gradient: Adam's step alone is the same as without it
    np.testing.assert_allclose(one_step("adam", lr, wd) + lr * wd * W0,
                               one_step("adam", lr, 0.0), rtol=1e-14)


def test_sgd_and_adagrad_add_l2_to_the_gradient():
    lr, wd = 0.1, 0.05
    g = G + wd * W0
    np.testing.assert_allclose(one_step("sgd", lr, wd), W0 - lr * g, rtol=1e-14)
    np.testing.assert_allclose(one_step("adagrad", lr, wd),
                               W0 - lr * g / np.sqrt(g * g + 1e-8), rtol=1e-14)


def test_weight_decay_reaches_the_trainer_step():
    """The same run with decay: every weight moved by exactly lr * decay * w more (adam)."""
    plain = Trainer(corpus_from_names(NAMES), cfg(dtype="float64", batch_size=4, samples=0))
    decayed = Trainer(corpus_from_names(NAMES), cfg(dtype="float64", batch_size=4, samples=0,
                                                    weight_decay=0.3))
    before = {k: v.copy() for k, v in plain.params.items()}
    plain.step()
    decayed.step()
    for k, w in before.items():
        np.testing.assert_allclose(decayed.params[k], plain.params[k] - 0.01 * 0.3 * w,
                                   rtol=1e-12, atol=1e-15, err_msg=k)


# -- held-out checks by epochs ----------------------------------------------------------
def test_auto_checks_a_300_name_list_four_times_an_epoch():
    names = [f"n{'abcdefghij'[i % 10]}{'klmnopqrst'[i // 10 % 10]}{'uvwxyz'[i // 100]}"
             for i in range(300)]
    t = Trainer(corpus_from_names(names), cfg(samples=0, sample_every=10**6))
    assert t.config.val_every == 0  # the default preset: auto
    # 270 training names, 48 a step: 6 steps an epoch; 6 // 4 = every step
    assert (len(t.train_rows), t.val_interval) == (270, 1)
    t.run(7)
    assert t.state.val_iterations == list(range(7))
    assert t.state.val_iterations[0] < t.val_interval * 6  # checked before seen twice
    small = Trainer(corpus_from_names(names), cfg(batch_size=8, samples=0,
                                                  sample_every=10**6))
    # 34 steps an epoch (270 / 8, rounded up): a check every 8 steps
    assert small.val_interval == 8
    small.run(34)
    assert small.state.val_iterations == [0, 8, 16, 24, 32]


def test_auto_checks_a_huge_list_at_most_every_500_iterations():
    names = [f"{a}{b}{c}{d}" for a in "abcdefghij" for b in "abcdefghij" for c in "abcdefghij"
             for d in "abcdefghijklmnopqrst"]  # 20,000 names
    t = Trainer(corpus_from_names(names), cfg(batch_size=4))
    assert t.val_interval == AUTO_VAL_MAX  # 4,500 steps an epoch: every 1,125 would be rarer
    assert Trainer(corpus_from_names(names), cfg(batch_size=4, val_every=7)).val_interval == 7
