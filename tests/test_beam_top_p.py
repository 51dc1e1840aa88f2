"""Nucleus (top-p) shaping on hand-made distributions, and beam search against an exhaustive
enumeration of every name a tiny model can write (tests/plain_rnn.py scores them)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from dinogui.core.config import TrainConfig
from dinogui.core.corpus import corpus_from_names
from dinogui.core.sample_spec import ConstraintError, ConstraintsUnmet, SampleSpec
from dinogui.core.sampling import nucleus, shaped_probs
from dinogui.core.trainer import Trainer
from tests import plain_rnn as plain

# index 0 is the end symbol; sorted most likely first: 1 (0.4), 2 and 3 (0.2, a tie), 0 and 4
P = np.array([0.1, 0.4, 0.2, 0.2, 0.1])


@pytest.mark.parametrize(("top_p", "support"), [
    (0.01, {1}),  # the minimum: greedy
    (0.3, {1}),  # below the most likely character's probability: greedy
    (0.4, {1}),  # exactly the first cumulative total
    (0.5, {1, 2}),
    (0.6, {1, 2}),  # exactly 0.4 + 0.2 (which rounds to 0.6000000000000001)
    (0.61, {1, 2, 3}),  # the tie 2/3 goes to the lower index first
    (0.9, {0, 1, 2, 3}),  # exactly at a boundary; the tie 0/4 goes to the end (index 0)
    (0.95, {0, 1, 2, 3, 4}),
    (1.0, {0, 1, 2, 3, 4}),  # off
])
def test_top_p_keeps_the_smallest_set_that_reaches_p(top_p, support):
    got = shaped_probs(np.log(P)[None, :], SampleSpec(top_p=top_p), position=3)[0]
    assert set(np.flatnonzero(got > 0)) == support
    kept = sorted(support)
    np.testing.assert_allclose(got[kept], P[kept] / P[kept].sum(), rtol=1e-12)
    if top_p < 1:
        assert set(np.flatnonzero(nucleus(P[None, :], top_p)[0])) == support


def test_top_p_applies_after_temperature_top_k_and_the_held_back_end():
    z = np.log(P)[None, :]
    # top-k 3 first: 0.5, 0.25, 0.25 over {1, 2, 3}; 0.5 reaches the nucleus at once
    assert set(np.flatnonzero(shaped_probs(z, SampleSpec(top_k=3, top_p=0.5), 3)[0])) == {1}
    assert set(np.flatnonzero(shaped_probs(z, SampleSpec(top_p=0.5), 3)[0])) == {1, 2}
    # the end held back (position 1 < min_len 2): 4/9, 2/9, 2/9, 1/9 over {1, 2, 3, 4}
    held = shaped_probs(z, SampleSpec(top_p=0.85, min_len=2), 1)[0]
    assert set(np.flatnonzero(held)) == {1, 2, 3}  # 8/9 = 0.889 reaches 0.85
    assert held[0] == 0
    # from position 2 on the end takes part again: 0.4 + 0.2 + 0.2 = 0.8 falls short
    assert set(np.flatnonzero(shaped_probs(z, SampleSpec(top_p=0.85, min_len=2), 2)[0])) \
        == {0, 1, 2, 3}
    # temperature 2 flattens: sqrt-probabilities 0.6325 : 0.4472 : 0.4472 : 0.3162 : 0.3162
    hot = shaped_probs(z, SampleSpec(temperature=2.0, top_p=0.5), 3)[0]
    assert set(np.flatnonzero(hot)) == {1, 2}  # 0.2936 + 0.2076 = 0.5012 reaches 0.5
    cold = shaped_probs(z, SampleSpec(temperature=2.0, top_p=0.52), 3)[0]
    assert set(np.flatnonzero(cold)) == {1, 2, 3}


def test_each_row_gets_its_own_nucleus():
    rows = np.log(np.array([P, P[::-1]]))
    got = shaped_probs(rows, SampleSpec(top_p=0.5), 0)
    assert set(np.flatnonzero(got[0])) == {1, 2}
    assert set(np.flatnonzero(got[1])) == {3, 1}  # reversed: 0.4 at 3, then 0.2 at 1 (lower)


@pytest.mark.parametrize("bad", [0.0, 0.005, 1.5, -0.2])
def test_top_p_outside_its_range_is_refused(bad):
    with pytest.raises(ConstraintError, match="top-p must be between 0.01 and 1"):
        SampleSpec(top_p=bad)


# -- beam search --------------------------------------------------------------------------

TINY = ["ab", "ba", "abc", "cab", "a", "bca", "cc", "acb"]  # vocabulary: end, a, b, c
MAX_LEN = 4
EVERY_NAME = [list(s) for n in range(1, MAX_LEN + 1)
              for s in itertools.product([1, 2, 3], repeat=n)]  # 3 + 9 + 27 + 81 = 120


@pytest.fixture(scope="module")
def tiny() -> dict[str, Trainer]:
    out = {}
    for preset, extra in (("classic", {}), ("default", dict(hidden=6, batch_size=4,
                                                            val_fraction=0.0))):
        t = Trainer(corpus_from_names(TINY), TrainConfig(preset=preset, samples=0, **extra))
        t.run(40)  # a little trained: its names are far from equally likely
        out[preset] = t
    return out


def exhaustive(t: Trainer, spec: SampleSpec, known=frozenset()) -> list[tuple[float, str]]:
    """Every name meeting `spec`, scored by the plain RNN, most likely first."""
    prefix = t.vocab.encode(spec.prefix)
    scored = []
    for name in EVERY_NAME:
        text = t.vocab.decode(name)
        if (name[:len(prefix)] != prefix or not spec.min_len <= len(name) <= spec.max_len
                or not text.endswith(spec.suffix) or (spec.new_only and text in known)):
            continue
        lp = plain.log_prob(t.params, name, spec.temperature, spec.top_k, spec.min_len,
                            spec.top_p, len(prefix))
        if lp > -np.inf:
            scored.append((lp, text))
    return sorted(scored, key=lambda s: -s[0])


SPECS = [
    SampleSpec(max_len=MAX_LEN),
    SampleSpec(max_len=MAX_LEN, temperature=0.6),
    SampleSpec(max_len=MAX_LEN, temperature=1.7, min_len=2),
    SampleSpec(max_len=MAX_LEN, top_k=2),
    SampleSpec(max_len=MAX_LEN, top_p=0.8),
    SampleSpec(max_len=MAX_LEN, prefix="b", suffix="a"),
    SampleSpec(max_len=3, suffix="c", min_len=2, new_only=True),
]


@pytest.mark.parametrize("preset", ["classic", "default"])
@pytest.mark.parametrize("spec", SPECS, ids=lambda s: repr(s)[11:60])
def test_a_wide_beam_finds_exactly_the_most_likely_names(tiny, preset, spec):
    t = tiny[preset]
    known = frozenset(t.corpus.names)
    want = exhaustive(t, spec, known)
    sampler = t.sampler()
    assert len(want) >= 5
    for count in sorted({1, 5, min(17, len(want)), len(want)}):
        got = sampler.beam(count, spec, known=known, width=max(81, count))  # 3**4: none pruned
        assert got.names == [name for _, name in want[:count]]
        np.testing.assert_allclose(got.logprobs, [lp for lp, _ in want[:count]], rtol=1e-5)
    with pytest.raises(ConstraintsUnmet) as unmet:  # more than there are: all, and it says so
        sampler.beam(len(want) + 1, spec, known=known, width=200)
    assert unmet.value.found == [name for _, name in want]
    assert f"found only {len(want)} of {len(want) + 1}" in str(unmet.value)


@pytest.mark.parametrize("preset", ["classic", "default"])
def test_a_narrow_beam_is_deterministic_ordered_and_scores_what_it_returns(tiny, preset):
    t = tiny[preset]
    spec = SampleSpec(max_len=MAX_LEN, temperature=0.8)
    scores = {name: lp for lp, name in exhaustive(t, spec)}
    a = t.sampler().beam(6, spec, width=6)
    assert a.names == t.sampler().beam(6, spec, width=6).names
    assert a.logprobs == sorted(a.logprobs, reverse=True)
    np.testing.assert_allclose(a.logprobs, [scores[n] for n in a.names], rtol=1e-5)
    assert len(set(a.names)) == 6


def test_new_only_never_gives_a_corpus_name_and_counts_the_dropped(tiny):
    t = tiny["default"]
    known = frozenset(t.corpus.names)
    plainly = t.sampler().beam(60, SampleSpec(max_len=MAX_LEN), width=81)
    assert set(plainly.names[:20]) & known  # the model's favourites include corpus names
    new = t.sampler().beam(20, SampleSpec(max_len=MAX_LEN, new_only=True), known=known,
                           width=81)
    assert not set(new.names) & known
    assert new.not_new >= len(set(plainly.names[:20]) & known)
    assert new.names == [n for n in plainly.names if n not in known][:20]


def test_beam_scores_are_the_models_likelihood_given_a_nonempty_name(tiny):
    """At temperature 1 a beam's score is the scorer's total, less log(1 - P(empty name)),
    the same for every name: the beam ranks names as the model does (any cell)."""
    for cfg in (dict(cell="gru", layers=2), dict(cell="lstm")):
        t = Trainer(corpus_from_names(TINY), TrainConfig(preset="default", hidden=8,
                                                         batch_size=4, samples=0,
                                                         val_fraction=0.0, **cfg))
        t.run(30)
        s = t.sampler()
        b = s.beam(12, SampleSpec(max_len=MAX_LEN), width=40)
        total = s.loglik_per_char(b.names) * [len(n) + 1 for n in b.names]
        shift = np.asarray(b.logprobs) - total
        np.testing.assert_allclose(shift, shift[0], atol=1e-5)
        assert shift[0] >= 0


def test_impossible_beams_are_refused_before_searching(tiny):
    s = tiny["classic"].sampler()
    with pytest.raises(ConstraintError, match="at least the number of names"):
        s.beam(5, width=4)
    with pytest.raises(ConstraintError, match="never uses"):
        s.beam(5, SampleSpec(prefix="z"))
    with pytest.raises(ConstraintError, match="corpus names"):
        s.beam(5, SampleSpec(new_only=True))
