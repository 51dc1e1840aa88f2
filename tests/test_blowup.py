"""The blow-up watch (core/blowup.py): its rule on made-up losses, that it changes no number
it watches, going back to the good weights, and the real case on towns-302."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from dinogui import cli
from dinogui.core import checkpoint
from dinogui.core.blowup import LAG, RATE, BlowupWatch
from dinogui.core.config import TrainConfig
from dinogui.core.corpus import bundled_corpus_path, load_corpus
from dinogui.core.trainer import StepResult, Trainer
from tests.conftest import REPO, shared_file


def tiny_trainer(tiny_corpus, **config) -> Trainer:
    return Trainer(load_corpus(tiny_corpus), TrainConfig.for_preset("classic", **config))


def fed(watch: BlowupWatch, per_char) -> int | None:
    """Feed made-up steps of these losses per character (10 characters each); the 0-based
    iteration the watch fired at, or None."""
    for j, x in enumerate(per_char):
        r = StepResult(j, float(x) * 10, 10, 1, 0.0, float(x))
        if watch.observe(r) is not None:
            return j
    return None


def test_a_jump_is_seen_at_the_step_the_rule_says(tiny_corpus):
    watch = BlowupWatch(tiny_trainer(tiny_corpus))
    guess = math.log(watch.trainer.vocab.size)
    flat, high = 0.5, 0.9 * guess  # learned well, then nearly back to guessing
    losses = np.r_[np.full(3000, flat), np.full(1000, high)]
    fired = fed(watch, losses)
    low = watch.low
    threshold = max(1.5 * low, low + 0.5 * (guess - low))
    # fast after n high steps: high - (high - low) * (1 - RATE)**n; fires at the first n above
    n = math.ceil(math.log((high - threshold) / (high - low)) / math.log(1 - RATE))
    assert abs(low - flat) < 1e-9
    assert fired == 3000 + n - 1
    assert watch.fired.iteration == 0  # steps taken by the (unstepped) trainer it watches
    assert fed(watch, losses) is None  # once only


@pytest.mark.parametrize("shape", ["falling", "noisy", "creeping"])
def test_healthy_losses_never_fire(tiny_corpus, shape):
    watch = BlowupWatch(tiny_trainer(tiny_corpus))
    guess = math.log(watch.trainer.vocab.size)
    rng = np.random.default_rng(0)
    j = np.arange(40_000)
    curve = 0.4 + (guess - 0.4) * np.exp(-j / 3000)  # learning
    if shape == "noisy":  # one name a step: each step's loss anywhere from 0.4x to 1.6x
        curve = curve * rng.uniform(0.4, 1.6, len(j))
    if shape == "creeping":  # rising by a third over 10,000 steps: not a blow-up
        curve = np.where(j < 20_000, curve, curve * (1 + (j - 20_000) / 30_000))
    assert fed(watch, curve) is None


def test_a_loss_a_third_above_its_lowest_does_not_fire_but_halfway_to_guessing_does(tiny_corpus):
    watch = BlowupWatch(tiny_trainer(tiny_corpus))
    guess = math.log(watch.trainer.vocab.size)
    low = 0.5
    halfway = low + 0.5 * (guess - low)
    assert fed(watch, np.r_[np.full(3000, low), np.full(3000, halfway * 0.97)]) is None
    watch = BlowupWatch(tiny_trainer(tiny_corpus))
    assert fed(watch, np.r_[np.full(3000, low), np.full(3000, halfway * 1.03)]) is not None


@pytest.mark.parametrize("preset", ["classic", "default"])
def test_watching_changes_no_number_of_the_run(preset):
    corpus = load_corpus(bundled_corpus_path())
    config = TrainConfig.for_preset(preset, sample_every=250)
    watched, plain = Trainer(corpus, config), Trainer(corpus, config)
    watch = BlowupWatch(watched)
    for _ in range(2500 if preset == "classic" else 1200):
        a, b = watched.step(), plain.step()
        assert watch.observe(a) is None
        assert (a.loss, a.smooth, a.samples, a.val_loss) == (b.loss, b.smooth, b.samples,
                                                             b.val_loss)
    assert watch.copies >= 2  # the copies were taken along the way
    for k, v in plain.params.items():
        np.testing.assert_array_equal(watched.params[k], v, err_msg=k)
    for k, v in plain.history.to_arrays().items():
        np.testing.assert_array_equal(watched.history.to_arrays()[k], v, err_msg=k)


def blown_up(tiny_corpus):
    """1,000 good steps at the seed's rate, then a rate of 1.0 until the watch fires."""
    trainer = tiny_trainer(tiny_corpus, sample_every=100)
    watch = BlowupWatch(trainer)
    trainer.run(1000, on_step=lambda r: watch.observe(r))
    trainer.set_live(lr=1.0)
    for _ in range(1000):
        blowup = watch.observe(trainer.step())
        if blowup is not None:
            return trainer, watch, blowup
    raise AssertionError("no blow-up at a learning rate of 1.0")


def test_going_back_gives_the_run_as_it_was_at_the_good_point(tiny_corpus):
    trainer, watch, blowup = blown_up(tiny_corpus)
    assert watch.every == 500 and watch.good.iteration == 1000
    # seen under LAG steps after the copy at 1,000: that copy may be spoiled, 500 is offered
    assert blowup.iteration - 1000 < LAG and blowup.good.iteration == 500
    back = blowup.good.trainer(trainer)
    assert back.iteration == 500 and back.config.lr == 1.0  # the settings stay the current
    straight = tiny_trainer(tiny_corpus, sample_every=100)
    straight.run(500)
    for k, v in straight.params.items():
        np.testing.assert_array_equal(back.params[k], v, err_msg=k)
    for k, v in straight.history.to_arrays().items():
        np.testing.assert_array_equal(back.history.to_arrays()[k], v, err_msg=k)
    back.set_live(lr=0.01)  # and it trains on as the straight run does
    back.run(200)
    straight.run(200)
    for k, v in straight.params.items():
        np.testing.assert_array_equal(back.params[k], v, err_msg=k)
    assert blowup.good.trainer(trainer).iteration == 500  # the good point stays intact


def test_train_warns_once_on_stderr_and_the_printed_numbers_stay_the_seeds(tiny_corpus,
                                                                           capsys, tmp_path):
    args = ["train", "--preset", "classic", "--corpus", str(tiny_corpus), "--lr", "0.3",
            "--iterations", "400",
            "--sample-every", "50"]
    assert cli.main(args) == 0
    out, err = capsys.readouterr()
    trainer = tiny_trainer(tiny_corpus, lr=0.3, sample_every=50)
    watch = BlowupWatch(trainer)
    fired = [b for b in (watch.observe(trainer.step()) for _ in range(400)) if b is not None]
    assert len(fired) == 1 and err.count("dinogui: warning:") == 1
    assert err.startswith(f"dinogui: warning: the loss blew up at iteration "
                          f"{fired[0].iteration:,} (")
    assert "--stop-on-blowup" in err
    reported = [float(line.split("Loss: ")[1].split()[0]) for line in out.splitlines()
                if line.startswith("Iteration: ")]
    smooth = trainer.history.column("smooth")
    assert reported == [float(f"{smooth[j]:f}") for j in range(0, 400, 50)]

    save = tmp_path / "good.safetensors"
    assert cli.main(args + ["--stop-on-blowup", "--save", str(save)]) == 0
    out, err = capsys.readouterr()
    assert "going back to them and stopping" in err and "stopped: blowup" in out
    kept = checkpoint.load(save)
    assert kept.iteration == fired[0].good.iteration
    for k, v in fired[0].good.params.items():
        np.testing.assert_array_equal(kept.params[k], v, err_msg=k)


def test_towns_302_blows_up_and_is_seen_near_the_jump(tmp_path):
    """The issue's case (45,000 classic steps, ~4 s). Training this long is chaotic: whether
    it blows up depends on the BLAS kernel's last bits (Haswell's does, near 38,200), so
    the test asks for that kernel and checks the warning against the smoothed losses either
    way: a warning exactly when the smoothed loss doubled from its lowest, before it did."""
    towns = shared_file("towns-302.txt")
    log = tmp_path / "log.jsonl"
    env = {**os.environ, "OPENBLAS_CORETYPE": "Haswell", "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-m", "dinogui.cli", "train", "--preset", "classic", "--corpus",
         str(towns), "--iterations", "45000", "--sample-every", "100", "--samples", "0",
         "--quiet", "--log-jsonl", str(log)],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in log.read_text().splitlines()][:-1]
    smooth = np.array([r["smoothed_loss"] for r in rows])
    its = np.array([r["iteration"] for r in rows])
    low = np.minimum.accumulate(smooth)
    doubled = np.flatnonzero(smooth > 2 * low)
    warnings = [line for line in done.stderr.splitlines() if "warning" in line]
    if not len(doubled):
        assert warnings == []
        pytest.skip("this BLAS kernel trains towns-302 without a blow-up")
    assert len(warnings) == 1
    seen = int(warnings[0].split("at iteration ")[1].split()[0].replace(",", ""))
    lowest = its[np.argmin(smooth[: doubled[0]])]
    assert lowest < seen < its[doubled[0]]
    good = int(warnings[0].split("weights from iteration ")[1].split()[0].replace(",", ""))
    assert seen - 2500 < good <= lowest + 100  # the last copy before the jump
