"""Properties of training and sampling that hold for any setting, checked from outside.

Gradients are seen through the weights: with SGD a step moves each weight by
lr * (clipped gradient), so the largest move is exactly lr * clip whenever the
clip is active. Sampling is checked against tests/plain_rnn.py, the documented
schemes written out in float64.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dinogui.core import checkpoint
from dinogui.core.config import TrainConfig
from dinogui.core.corpus import bundled_corpus_path, corpus_from_names, load_corpus
from dinogui.core.sampling import SampleSpec
from dinogui.core.trainer import Trainer
from tests import plain_rnn as plain
from tests.conftest import REPO, SHARED_DATA

FEW = settings(max_examples=12, deadline=None)
NAMES = ["ada", "bob", "cyrus", "dan", "eve", "finnegan", "gus", "hal", "ivy", "jo",
         "kim", "lou", "max", "ned", "otto", "pia", "quinn", "rex", "sal", "tom"]


@pytest.fixture(scope="module")
def dinos():
    return load_corpus(bundled_corpus_path())


@pytest.fixture(scope="module")
def trained(dinos):
    """A classic and a default-preset model after 300 steps on the bundled corpus."""
    out = {}
    for preset in ("classic", "default"):
        t = Trainer(dinos, TrainConfig.for_preset(preset, samples=0))
        t.run(300)
        out[preset] = t
    return out


def sgd_trainer(corpus, preset: str, clip: float, lr: float, seed: int = 0) -> Trainer:
    """A small model whose steps show the clipped gradient: SGD moves weights by lr * g."""
    extra = {"optimizer": "sgd", "batch_size": 4} if preset == "default" else {}
    return Trainer(corpus, TrainConfig.for_preset(preset, hidden=8, clip=clip, lr=lr,
                                                  seed=seed, samples=0, **extra))


def largest_move(trainer: Trainer) -> tuple[float, float]:
    """Take one step; (the largest |weight change|, the rounding a weight change can carry)."""
    before = {k: v.astype(np.float64) for k, v in trainer.params.items()}
    trainer.step()
    move = max(float(np.abs(trainer.params[k] - before[k]).max()) for k in before)
    biggest = max(np.abs(v).max() for v in trainer.params.values())  # in the weights' dtype
    return move, 2 * float(np.spacing(biggest))


# -- clipping ------------------------------------------------------------------------------
@FEW
@given(preset=st.sampled_from(["classic", "default"]), clip=st.floats(1e-4, 0.05),
       lr=st.sampled_from([0.25, 1.0]), seed=st.integers(0, 50))
def test_every_clipped_gradient_is_within_the_clip(dinos, preset, clip, lr, seed):
    t = sgd_trainer(dinos, preset, clip, lr, seed)
    for _ in range(3):
        move, rounding = largest_move(t)
        assert move <= lr * clip + rounding  # no element beyond the clip
        assert move >= lr * clip - rounding  # and the clip is the one asked for (it binds here)


@FEW
@given(preset=st.sampled_from(["classic", "default"]),
       clips=st.lists(st.floats(1e-4, 0.05), min_size=2, max_size=4),
       lrs=st.lists(st.sampled_from([0.1, 0.5, 2.0]), min_size=4, max_size=4))
def test_the_live_clip_and_learning_rate_take_effect_at_the_next_step(dinos, preset, clips,
                                                                      lrs):
    t = sgd_trainer(dinos, preset, clips[0], lrs[0])
    for clip, lr in zip(clips, lrs, strict=False):
        t.set_live(clip=clip, lr=lr)
        move, rounding = largest_move(t)
        assert abs(move - lr * clip) <= rounding, (clip, lr)


# -- smoothing -----------------------------------------------------------------------------
def documented_smoothing() -> tuple[float, float]:
    """The seed's constants as README states them: `0.999 * s + 0.001 * loss`."""
    m = re.search(r"`(0\.\d+) \* s \+ (0\.\d+) \* loss`", (REPO / "README.md").read_text())
    assert m, "README no longer states the smoothing formula"
    return float(m[1]), float(m[2])


@pytest.mark.parametrize(("preset", "keep", "take"), [
    ("classic", *documented_smoothing()),
    ("default", 0.99, 0.01),  # ~35x fewer steps per epoch than classic: a shorter memory
])
def test_smoothed_losses_follow_the_moving_average_by_hand(dinos, preset, keep, take):
    t = Trainer(dinos, TrainConfig.for_preset(preset, samples=0, batch_size=8))
    V = dinos.vocab.size
    assert (t.state.smooth, t.state.smooth_char) == (-math.log(1 / V) * 7, math.log(V))
    t.run(40)
    h = {k: t.history.column(k) for k in ("loss", "chars", "names", "smooth", "smooth_char")}
    s, sc = -math.log(1 / V) * 7, math.log(V)
    for i in range(40):
        s = keep * s + take * (h["loss"][i] / h["names"][i])
        sc = keep * sc + take * (h["loss"][i] / h["chars"][i])
        assert h["smooth"][i] == pytest.approx(s, rel=1e-13, abs=0)
        assert h["smooth_char"][i] == pytest.approx(sc, rel=1e-13, abs=0)
    assert (t.state.smooth, t.state.smooth_char) == (h["smooth"][-1], h["smooth_char"][-1])


def test_the_seed_documents_the_same_smoothing_as_the_readme():
    doc = SHARED_DATA.parent / "docs" / "seed-algorithm.md"
    if not doc.is_file():
        pytest.skip(f"needs the seed's description at {doc}, which is not here")
    assert "smooth = {} * smooth + {} * loss".format(*documented_smoothing()) in doc.read_text()


# -- sampling: temperature -----------------------------------------------------------------
def first_letter_probs(trainer: Trainer, temperature: float) -> np.ndarray:
    z = plain.PlainRNN(trainer.params).logits_along([])[0]
    return plain.softmax(z / temperature)


def chi_square(counts: np.ndarray, p: np.ndarray) -> float:
    expected = counts.sum() * p
    return float(((counts - expected) ** 2 / expected).sum())


@pytest.mark.parametrize("preset", ["classic", "default"])
@pytest.mark.parametrize("temperature", [0.5, 2.5])
def test_first_letter_frequencies_follow_softmax_of_logits_over_t(trained, preset, temperature):
    """N draws of a first letter agree with softmax(z / T) within bounds set by N, and not
    with softmax(z): each letter's share within 5 binomial sigmas, and Pearson's statistic
    below its mean + 7 sd (26 degrees of freedom: 76) for T, far above it for T = 1."""
    t = trained[preset]
    N = 4000
    names = t.sampler().sample(N, seed=11, temperature=temperature, max_len=1)
    counts = np.bincount([t.vocab.stoi[n[0]] if n else 0 for n in names],
                         minlength=t.vocab.size)
    p = first_letter_probs(t, temperature)
    assert np.all(np.abs(counts / N - p) <= 5 * np.sqrt(p * (1 - p) / N) + 1 / N)
    df = t.vocab.size - 1
    bound = df + 7 * math.sqrt(2 * df)
    assert chi_square(counts, p) < bound
    assert chi_square(counts, first_letter_probs(t, 1.0)) > 3 * bound


@pytest.mark.parametrize("temperature", [0.6, 1.0, 1.7])
def test_every_drawn_letter_comes_from_softmax_of_logits_over_t(trained, temperature):
    """The unconstrained schemes, replayed letter by letter from the plain float64 model."""
    classic, default = trained["classic"], trained["default"]
    decode = classic.vocab.decode
    got = classic.sampler().sample(30, seed=4, temperature=temperature)
    assert got == [decode(n) for n in plain.seed_scheme(classic.params, 4, 30, temperature)]
    got = default.sampler().sample(30, seed=4, temperature=temperature)
    assert got == [decode(n) for n in plain.batched_scheme(default.params, 4, 30, temperature)]


@pytest.mark.parametrize("preset", ["classic", "default"])
def test_constrained_draws_follow_the_documented_block_scheme(trained, preset):
    t = trained[preset]
    spec = SampleSpec(temperature=0.8, top_k=6, min_len=3, max_len=9, prefix="s")
    got = t.sampler().draw(70, seed=9, spec=spec).names  # 70: two blocks of candidates
    want = plain.block_scheme(t.params, 9, 70, 0.8, max_len=9, top_k=6, min_len=3,
                              prefix=t.vocab.encode("s"))
    assert got == [t.vocab.decode(n) for n in want]


# -- sampling: lengths ---------------------------------------------------------------------
@pytest.mark.parametrize(("preset", "lo", "hi"), [
    ("classic", 1, 4), ("classic", 3, 6), ("classic", 7, 7), ("classic", 9, 13),
    # the default model rarely ends a name before 8 letters: bounds where it often does
    ("default", 7, 7), ("default", 8, 12), ("default", 9, 13),
])
def test_min_and_max_len_are_exact(trained, preset, lo, hi):
    """Names of exactly lo and hi letters occur, none outside [lo, hi]."""
    spec = SampleSpec(min_len=lo, max_len=hi, temperature=1.5)
    lengths = {len(n) for n in trained[preset].sampler().draw(400, 1, spec).names}
    assert min(lengths) == lo and max(lengths) == hi


def test_without_a_minimum_no_drawn_name_is_empty(trained):
    """min_len 0 is no minimum, yet a drawn name always has a letter (empty ones are
    drawn again); the seed's own scheme, which the reports use, does give empty ones."""
    t = trained["classic"]
    assert min(len(n) for n in t.sampler().draw(400, 1, SampleSpec(max_len=4)).names) == 1
    assert min(len(n) for n in t.sampler().sample(400, 1, max_len=4)) == 0


# -- dropout -------------------------------------------------------------------------------
def frozen_losses(seed: int, dropout: float, like: Trainer | None = None, steps: int = 5):
    """Training losses of one fixed batch with weights that cannot move (lr 1e-30):
    what changes from step to step is the dropout mask, nothing else."""
    corpus = corpus_from_names(["tyrannosaurus"] * 6)
    t = Trainer(corpus, TrainConfig.for_preset(
        "default", cell="gru", hidden=16, dropout=dropout, seed=seed, lr=1e-30,
        optimizer="sgd", batch_size=6, val_fraction=0.0, samples=0))
    if like is not None:
        for k in t.params:
            t.params[k][...] = like.params[k]
    t.run(steps)
    return t, t.history.column("loss").copy()


def test_without_dropout_the_frozen_losses_are_constant():
    """The yardstick for the two tests below: only the mask can make them differ."""
    _, losses = frozen_losses(1, 0.0)
    assert np.all(losses == losses[0])


@pytest.mark.parametrize("dropout", [0.2, 0.5])
def test_dropout_masks_differ_by_step_and_follow_the_seed(dropout):
    a, la = frozen_losses(1, dropout)
    assert len(np.unique(la)) == len(la)  # a fresh mask every step
    _, again = frozen_losses(1, dropout)
    np.testing.assert_array_equal(la, again)  # the same masks from the same seed
    _, other = frozen_losses(2, dropout, like=a)  # other seed, the same weights
    assert not np.any(np.isclose(other, la, rtol=1e-6, atol=0))


def test_dropout_masks_resume_exactly(tmp_path):
    _, straight = frozen_losses(3, 0.4, steps=6)
    half, _ = frozen_losses(3, 0.4, steps=3)
    resumed = checkpoint.load(checkpoint.save(half, tmp_path / "d.ckpt"))
    resumed.run(3)
    np.testing.assert_array_equal(resumed.history.column("loss"), straight)


# -- the best parameters -------------------------------------------------------------------
def test_best_weights_are_a_copy_taken_at_the_best_iteration():
    corpus = corpus_from_names(NAMES)
    t = Trainer(corpus, TrainConfig.for_preset("default", batch_size=4, val_fraction=0.25,
                                               val_every=3, lr=0.05, hidden=16, samples=0,
                                               sample_every=1000))
    snapshots = {}
    for _ in range(90):
        t.step()
        snapshots[t.iteration - 1] = {k: v.copy() for k, v in t.params.items()}
    st = t.state
    assert st.best_val == min(st.val_losses)
    assert st.best_iteration == st.val_iterations[int(np.argmin(st.val_losses))]
    assert st.best_iteration < st.val_iterations[-1]  # the held-out loss rose after it
    for k, v in t.best_params.items():
        assert not np.shares_memory(v, t.params[k])
        np.testing.assert_array_equal(v, snapshots[st.best_iteration][k])
    assert any(not np.array_equal(t.best_params[k], t.params[k]) for k in t.params)
    # the best weights score the held-out names at the best loss, measured independently
    held_out = [corpus.vocab.encode(corpus.names[i]) for i in t.val_rows]
    assert plain.PlainRNN(t.best_params).loss_per_char(held_out) == pytest.approx(
        st.best_val, rel=1e-5)
    # and the sampler's best=True draws from them, not from the latest
    best, latest = t.sampler(best=True), t.sampler()
    assert best.sample(20, seed=2) == [corpus.vocab.decode(n) for n in
                                       plain.batched_scheme(t.best_params, 2, 20)]
    assert best.sample(20, seed=2) != latest.sample(20, seed=2)


def test_a_batch_larger_than_the_corpus_is_the_whole_corpus_each_step():
    """Names per step beyond the training names: every name, weighted as a full batch (the
    gradient's scale once counted the names asked for, not those there are)."""
    corpus = corpus_from_names(["ada", "bob", "cyrus", "dan", "eve", "finnegan", "gus"])
    runs = []
    for batch in (7, 10_000):
        t = Trainer(corpus, TrainConfig.for_preset("default", batch_size=batch, hidden=8,
                                                    val_fraction=0.0, samples=0))
        t.run(5)
        runs.append((t.history.column("loss").copy(), t.params["W_hy"].copy()))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    np.testing.assert_array_equal(runs[0][1], runs[1][1])
