"""The count model (interpolated Kneser-Ney) and the hybrid mixing it with a network."""

from __future__ import annotations

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from dinogui.core.batching import EncodedNames
from dinogui.core.corpus import Vocab, load_corpus
from dinogui.core.models import RNN
from dinogui.core.models.mixture import Mixture, fit_weight, target_probs
from dinogui.core.models.ngram import MAX_ORDER, KneserNey
from dinogui.core.sample_spec import SampleSpec
from dinogui.core.sampling import draw_constrained, sample_names_batched
from dinogui.core.scoring import log_likelihoods
from dinogui.core.validation import Evaluator, split_indices
from tests.conftest import shared_file
from tests.ngram_reference import ReferenceKN

ORDERS = range(1, MAX_ORDER + 1)
NAMES = ["ada", "bob", "cyrus", "dan", "eve", "finnegan", "gus", "hal", "ivy", "jasper",
         "kai", "leonidas", "mae", "nikolaus", "oda", "pia", "quinn", "rufus", "saurus",
         "anna", "bobby", "danae", "evan", "gustav", "hanna", "ivan", "kaia", "maeve"]
VOCAB = Vocab.from_names(NAMES)


def encode(names: list[str], vocab: Vocab = VOCAB) -> list[np.ndarray]:
    return [np.array(vocab.encode(n)) for n in names]


def random_corpus(rng: np.random.Generator, n: int, V: int) -> list[np.ndarray]:
    """n names of 1..7 letters over symbols 1..V-2 (V-1 never appears: an unseen character)."""
    return [rng.integers(1, V - 1, size=rng.integers(1, 8)) for _ in range(n)]


def all_contexts(model: KneserNey, names: list[np.ndarray], rng, extra: int = 40) -> np.ndarray:
    """Every context the names hold, and `extra` random ones (mostly never seen)."""
    X = [np.concatenate([[-1], n]) for n in names]
    seen = np.concatenate([model.contexts_of(x[:, None])[:, 0] for x in X])
    k = model.order - 1
    unseen = rng.integers(0, model.vocab_size, size=(extra, k))
    cut = rng.integers(0, k + 1, size=extra)  # a run of start markers, then symbols
    unseen[np.arange(k)[None, :] < cut[:, None]] = model.start
    return np.concatenate([seen, unseen])


# -- the distribution ----------------------------------------------------------

@pytest.mark.parametrize("order", ORDERS)
def test_probabilities_sum_to_one_for_seen_and_unseen_contexts(order):
    rng = np.random.default_rng(order)
    names = encode(NAMES)
    model = KneserNey.fit(names, VOCAB.size, order)
    model.discounts = list(rng.uniform(0.05, 1.0, size=order))
    C = all_contexts(model, names, rng)
    P = model.probs(C)
    assert P.shape == (len(C), VOCAB.size)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=0, atol=1e-13)
    assert (P > 0).all()


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("discount", [1e-4, 0.5, 1.0])
def test_a_character_seen_in_training_is_never_impossible(order, discount):
    rng = np.random.default_rng(7)
    names = encode(NAMES[:5])  # few names: most contexts and characters unseen
    model = KneserNey.fit(names, VOCAB.size, order)
    model.discounts = [discount] * order
    seen = np.unique(np.concatenate([*names, [0]]))
    P = model.probs(all_contexts(model, names, rng, extra=200))
    assert (P[:, seen] > 0).all()


def test_bigram_values_worked_by_hand():
    """names "ab" and "b" over (end, a, b, c): c never seen. Order 2, D1 = 0.5, D2 = 0.75.

    Bigrams (S = start): S a, a b, b end, S b, b end.
    Order 1 continuation counts (distinct symbols before): a {S} 1, b {a, S} 2, end {b} 1, c 0;
    total 4, 3 types: P1(w) = (max(N(.w) - D1, 0) + D1 * 3 * 1/4) / 4.
    """
    vocab = Vocab(("\n", "a", "b", "c"))
    model = KneserNey.fit(encode(["ab", "b"], vocab), 4, 2)
    D1, D2 = 0.5, 0.75
    model.discounts = [D1, D2]
    P1 = {"end": (1 - D1 + D1 * 3 / 4) / 4, "a": (1 - D1 + D1 * 3 / 4) / 4,
          "b": (2 - D1 + D1 * 3 / 4) / 4, "c": (0 + D1 * 3 / 4) / 4}
    assert P1["c"] == 0.09375 and sum(P1.values()) == 1.0
    # context S: S a 1, S b 1 (total 2, 2 types)
    after_start = [(D2 * 2 * P1["end"]) / 2, (1 - D2 + D2 * 2 * P1["a"]) / 2,
                   (1 - D2 + D2 * 2 * P1["b"]) / 2, (D2 * 2 * P1["c"]) / 2]
    # context b: b end 2 (total 2, 1 type)
    after_b = [(2 - D2 + D2 * 1 * P1["end"]) / 2, D2 * P1["a"] / 2, D2 * P1["b"] / 2,
               D2 * P1["c"] / 2]
    # context c, never seen: order 1 as it is
    after_c = [P1["end"], P1["a"], P1["b"], P1["c"]]
    got = model.probs(np.array([[4], [2], [3]]))
    np.testing.assert_allclose(got, [after_start, after_b, after_c], rtol=1e-15)
    assert after_start[1] == pytest.approx(0.2890625)


def test_trigram_values_worked_by_hand_keep_raw_counts_after_the_start():
    """names "ab", "ab", "b"; order 3; D = (0.5, 0.6, 0.7).

    Trigrams: S S a 2, S a b 2, a b end 2, S S b 1, S b end 1.
    Order 2: S a keeps its raw count 2 (nothing can precede S; a continuation
    count would be 1); a b is preceded only by S: 1; b end by a and S: 2; S b raw 1.
    Order 1: a {S} 1, b {a, S} 2, end {b} 1: total 4, 3 types, V = 4.
    """
    vocab = Vocab(("\n", "a", "b", "c"))
    model = KneserNey.fit(encode(["ab", "ab", "b"], vocab), 4, 3)
    D1, D2, D3 = 0.5, 0.6, 0.7
    model.discounts = [D1, D2, D3]
    P1_a = (1 - D1 + D1 * 3 / 4) / 4
    P1_b = (2 - D1 + D1 * 3 / 4) / 4
    P2_a_after_S = (2 - D2 + D2 * 2 * P1_a) / 3  # S a 2, S b 1
    P3_a_after_SS = (2 - D3 + D3 * 2 * P2_a_after_S) / 3  # S S a 2, S S b 1
    P2_b_after_a = (1 - D2 + D2 * 1 * P1_b) / 1  # a b 1
    P3_b_after_Sa = (2 - D3 + D3 * 1 * P2_b_after_a) / 2  # S a b 2
    got = model.probs(np.array([[4, 4], [4, 1]]))
    assert got[0, 1] == pytest.approx(P3_a_after_SS, rel=1e-15)
    assert got[1, 2] == pytest.approx(P3_b_after_Sa, rel=1e-15)


@pytest.mark.parametrize("order", ORDERS)
def test_the_vectorised_model_equals_the_plain_reference(order):
    rng = np.random.default_rng(100 + order)
    V = 6
    names = random_corpus(rng, 25, V)
    discounts = list(rng.uniform(0.05, 1.0, size=order))
    model = KneserNey.fit(names, V, order)
    model.discounts = discounts
    ref = ReferenceKN([list(n) for n in names], V, order, discounts)
    C = all_contexts(model, names, rng)
    want = np.array([[ref.prob(w, tuple(c)) for w in range(V)] for c in C])
    np.testing.assert_allclose(model.probs(C), want, rtol=1e-12, atol=0)
    # and along names read by the batch protocol: logits(X) and loss(X, Y, mask)
    held_out = EncodedNames.from_arrays(random_corpus(rng, 6, V))
    X, Y, mask = held_out.pad_batch(np.arange(6), np.float64)
    logp = model.logits(X)
    total = 0.0
    for b in range(6):
        name = list(held_out.targets(b))
        history = (V,) * (order - 1)
        for t, w in enumerate(name):
            p = ref.prob(w, history)
            assert logp[t, b, w] == pytest.approx(np.log(p), rel=1e-12)
            total -= np.log(p)
            history = (*history, w)[len(history) + 1 - (order - 1):] if order > 1 else ()
    assert model.loss(X, Y, mask) == pytest.approx(total, rel=1e-12)


@pytest.mark.parametrize("order", [1, 3, 5])
def test_stepping_gives_the_full_forward_pass(order):
    names = encode(NAMES[:9])
    model = KneserNey.fit(encode(NAMES), VOCAB.size, order)
    X, _, _ = EncodedNames.from_arrays(names).pad_batch(np.arange(9))
    full = model.logits(X)
    state = model.start_state(9)
    assert state.shape == (9, order - 1)
    for t in range(X.shape[0]):
        logits, state = model.step(X[t], state)
        np.testing.assert_array_equal(logits, full[t])


@pytest.mark.parametrize("order", [0, 99, -1, 7])
def test_orders_outside_1_to_6_are_refused(order):
    with pytest.raises(ValueError, match=f"order must be 1 to 6, not {order}$"):
        KneserNey.fit(encode(NAMES), VOCAB.size, order)


def test_bad_names_are_refused_with_one_line():
    with pytest.raises(ValueError, match="outside the vocabulary of 3"):
        KneserNey.fit([np.array([1, 5])], 3, 2)
    with pytest.raises(ValueError, match="at least one name"):
        KneserNey.fit([], 3, 2)
    with pytest.raises(ValueError, match="at most 1,289 characters"):
        KneserNey.fit([np.array([1])], 5000, 6)


# -- tuning and the held-out loss ------------------------------------------------

def split(names: list[str], vocab: Vocab, fraction: float = 0.1):
    enc = encode(names, vocab)
    train, val = split_indices(len(names), fraction, seed=0)
    return [enc[i] for i in train], [enc[i] for i in val]


@pytest.mark.parametrize("order", ORDERS)
def test_tuning_never_raises_the_held_out_loss_and_is_the_evaluators_loss(order):
    train, val = split(NAMES, VOCAB, 0.3)
    for start in (None, 0.01, 1.0):  # the estimate, a poor start, the largest discount
        model = KneserNey.fit(train, VOCAB.size, order)
        if start is not None:
            model.discounts = [start] * order
        before = model.held_out_loss(val)
        after = model.tune(val)
        assert after <= before
        assert all(0 < d <= 1 for d in model.discounts)
        assert all(type(d) is float for d in model.discounts)
        assert model.held_out_loss(val) == after
        assert Evaluator.for_names(val).loss_per_char(model) == pytest.approx(after, rel=1e-12)
        if start == 0.01 and order > 1:
            assert after < before - 1e-3  # a poor start really moves


def test_tuning_on_the_dinosaurs_beats_the_estimate_and_a_bigram():
    corpus = load_corpus(shared_file("dinos.txt"))
    train, val = split(corpus.names, corpus.vocab)
    losses = {}
    for order in (2, 4):
        model = KneserNey.fit(train, corpus.vocab.size, order)
        estimate = model.held_out_loss(val)
        losses[order] = model.tune(val)
        assert losses[order] < estimate
    assert losses[4] < losses[2] < np.log(corpus.vocab.size)
    # the discount is fitted: moving it either way raises the loss
    d = model.discounts[-1]
    for moved in (d * 0.9, min(1.0, d * 1.1)):
        if moved != d:
            model.discounts[-1] = moved
            assert model.held_out_loss(val) > losses[4]


def test_scores_are_minus_the_held_out_loss():
    """core.scoring reads names through logits(X): the same log-likelihoods as the loss."""
    train, val = split(NAMES, VOCAB, 0.3)
    model = KneserNey.fit(train, VOCAB.size, 3)
    names = [VOCAB.decode(v) for v in val]
    ll = log_likelihoods(model, VOCAB, names)
    chars = sum(len(n) + 1 for n in names)
    assert -ll.sum() / chars == pytest.approx(model.held_out_loss(val), rel=1e-12)


# -- sampling --------------------------------------------------------------------

@pytest.mark.parametrize("order", [1, 2, 4, 6])
def test_names_drawn_by_core_sampling_use_the_vocabulary(order):
    model = KneserNey.fit(encode(NAMES), VOCAB.size, order)
    spec = SampleSpec(prefix="a", max_len=12).checked(VOCAB, 50)
    names = [n for block in draw_constrained(model, VOCAB, 100, seed=3, spec=spec) for n in block]
    assert len(names) == 100 and all(n.startswith("a") and len(n) <= 12 for n in names)
    assert set("".join(names)) <= set(VOCAB.chars[1:])
    again = [n for b in draw_constrained(model, VOCAB, 100, seed=3, spec=spec) for n in b]
    assert again == names
    plain = sample_names_batched(model, VOCAB, 50, seed=1)
    assert set("".join(plain)) <= set(VOCAB.chars[1:])
    if order == 6:  # long contexts from 28 names: mostly the corpus again
        assert sum(n in NAMES for n in plain) > 25


def test_drawn_first_letters_follow_the_counts():
    """With one discount tiny, order 2 draws first letters as the corpus starts its names."""
    model = KneserNey.fit(encode(NAMES), VOCAB.size, 2)
    model.discounts = [1e-4, 1e-4]
    names = sample_names_batched(model, VOCAB, 4000, seed=0, max_len=1)
    share = np.mean([n[0] == "a" for n in names])
    assert share == pytest.approx(sum(n[0] == "a" for n in NAMES) / len(NAMES), abs=0.03)


# -- saving ------------------------------------------------------------------------

@pytest.mark.parametrize("order", ORDERS)
def test_arrays_round_trip_exactly_through_safetensors(order, tmp_path):
    train, val = split(NAMES, VOCAB, 0.3)
    model = KneserNey.fit(train, VOCAB.size, order)
    model.tune(val)
    arrays = model.to_arrays()
    assert {k: v.dtype.kind for k, v in arrays.items()} == {
        "grams": "i", "counts": "i", "discounts": "f", "vocab_size": "i"}
    save_file(arrays, str(tmp_path / "m.safetensors"))
    back = KneserNey.from_arrays(load_file(str(tmp_path / "m.safetensors")))
    assert back.order == order and back.discounts == model.discounts
    for k, v in back.to_arrays().items():
        np.testing.assert_array_equal(v, arrays[k])
        assert v.dtype == arrays[k].dtype
    X, _, _ = EncodedNames.from_arrays(val).pad_batch(np.arange(len(val)))
    np.testing.assert_array_equal(back.logits(X), model.logits(X))


def damaged(change):
    arrays = KneserNey.fit(encode(NAMES), VOCAB.size, 3).to_arrays()
    change(arrays)
    return arrays


def _set(key, value):
    return lambda a: a.__setitem__(key, value)


def _poke(key, index, value):
    return lambda a: a[key].__setitem__(index, value)


BAD = {
    "no grams": (lambda a: a.pop("grams"), "'grams' is missing"),
    "float counts": (lambda a: a.__setitem__("counts", a["counts"] * 1.0), "not an array of int"),
    "int discounts": (_set("discounts", np.array([1, 1, 1])), "not an array of floats"),
    "no discounts": (_set("discounts", np.zeros(0)), "1 to 6 numbers"),
    "seven discounts": (_set("discounts", np.full(7, 0.5)), "1 to 6 numbers"),
    "zero discount": (_poke("discounts", 1, 0.0), "above 0 and at most 1"),
    "nan discount": (_poke("discounts", 0, np.nan), "above 0 and at most 1"),
    "discount over 1": (_poke("discounts", 2, 1.5), "above 0 and at most 1"),
    "vocab of 0": (_set("vocab_size", np.array([0])), "one positive number"),
    "vocab scalar": (_set("vocab_size", np.array(5)), "one positive number"),
    "order mismatch": (_set("discounts", np.full(2, 0.5)), "must be \\(n-grams, 2\\)"),
    "grams 1-d": (lambda a: a.__setitem__("grams", a["grams"][:, 0]), "must be \\(n-grams"),
    "counts short": (lambda a: a.__setitem__("counts", a["counts"][1:]), "one positive count"),
    "zero count": (_poke("counts", 0, 0), "one positive count"),
    "symbol too big": (_poke("grams", (0, 0), 99), "outside the vocabulary"),
    "negative symbol": (_poke("grams", (0, 0), -1), "outside the vocabulary"),
    "start predicted": (_poke("grams", (0, 2), VOCAB.size), "outside the vocabulary"),
    "start after a letter": (lambda a: a["grams"].__setitem__(
        (0, slice(None)), [1, VOCAB.size, 2]), "start marker follows a character"),
    "twice": (lambda a: a["grams"].__setitem__(1, a["grams"][0]), "listed twice"),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_arrays_are_refused_with_one_line(case):
    change, message = BAD[case]
    with pytest.raises(ValueError, match=message) as e:
        KneserNey.from_arrays(damaged(change))
    assert "\n" not in str(e.value) and str(e.value).startswith("the count model's arrays")


# -- the hybrid ------------------------------------------------------------------------

def tiny_network(vocab_size: int, names: list[np.ndarray], steps: int) -> RNN:
    """An RNN of 16 units, trained `steps` plain SGD steps on all the names (0: random)."""
    net = RNN.create(vocab_size, 16, np.random.default_rng(0), np.float64)
    X, Y, mask = EncodedNames.from_arrays(names).pad_batch(np.arange(len(names)), np.float64)
    for _ in range(steps):
        _, grads = net.loss_and_grads(X, Y, mask)
        for k, g in grads.items():
            net.params[k] -= 0.5 * np.clip(g, -5, 5)
    return net


def held_out(model, val) -> float:
    return Evaluator.for_names(val).loss_per_char(model)


@pytest.mark.parametrize("steps", [0, 300])
@pytest.mark.parametrize("order", [1, 2, 4])
def test_the_mixture_is_never_worse_than_either_part_on_held_out_names(steps, order):
    train, val = split(NAMES, VOCAB, 0.3)
    count = KneserNey.fit(train, VOCAB.size, order)
    count.tune(val)
    net = tiny_network(VOCAB.size, train, steps)
    mix = Mixture.fitted(net, count, val)
    loss = held_out(mix, val)
    assert 0.0 <= mix.weight <= 1.0
    assert loss <= min(held_out(net, val), held_out(count, val)) + 1e-12
    if steps == 0:  # a random network knows nothing the counts do not
        assert mix.weight < 0.5


def test_two_count_models_mix_inside_0_and_1_and_beat_both():
    train, val = split(NAMES, VOCAB, 0.3)
    low, high = (KneserNey.fit(train, VOCAB.size, n) for n in (1, 4))
    high.discounts = [0.01] * 4  # overconfident on purpose: it needs the smoother one
    mix = Mixture.fitted(high, low, val)
    assert 0.0 < mix.weight < 1.0
    assert held_out(mix, val) < min(held_out(high, val), held_out(low, val)) - 1e-3


def test_the_mixing_weight_is_the_minimum_of_the_loss():
    rng = np.random.default_rng(5)
    a, b = rng.uniform(0.01, 1, 500), rng.uniform(0.01, 1, 500)
    lam = fit_weight(a, b)
    grid = np.linspace(0, 1, 10001)
    losses = [-np.log(g * a + (1 - g) * b).sum() for g in grid]
    assert lam == pytest.approx(grid[np.argmin(losses)], abs=2e-4)
    here = -np.log(lam * a + (1 - lam) * b).sum()
    assert here <= min(losses) + 1e-9
    assert fit_weight(a, a * 0.5) == 1.0 and fit_weight(a * 0.5, a) == 0.0
    with pytest.raises(ValueError, match="same positions"):
        fit_weight(a, b[:3])


def test_weight_0_is_the_count_model_and_1_the_network_exactly():
    train, val = split(NAMES, VOCAB, 0.3)
    count = KneserNey.fit(train, VOCAB.size, 3)
    net = tiny_network(VOCAB.size, train, 20)
    X, _, _ = EncodedNames.from_arrays(val).pad_batch(np.arange(len(val)))
    np.testing.assert_array_equal(Mixture(net, count, 0.0).logits(X), count.logits(X))
    np.testing.assert_array_equal(Mixture(net, count, 1.0).logits(X), net.logits(X))
    assert held_out(Mixture(net, count, 0.0), val) == pytest.approx(held_out(count, val),
                                                                    rel=1e-14)
    with pytest.raises(ValueError, match="weight must be 0 to 1"):
        Mixture(net, count, 1.5)


def test_the_mixture_steps_as_it_reads_and_samples_through_core_sampling():
    train, val = split(NAMES, VOCAB, 0.3)
    count = KneserNey.fit(train, VOCAB.size, 3)
    net = tiny_network(VOCAB.size, train, 50)
    mix = Mixture(net, count, 0.4)
    X, _, _ = EncodedNames.from_arrays(val).pad_batch(np.arange(len(val)))
    full, state = mix.logits(X), mix.start_state(len(val))
    for t in range(X.shape[0]):
        logits, state = mix.step(X[t], state)
        np.testing.assert_allclose(logits, full[t], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(np.exp(full).sum(axis=2), 1.0, atol=1e-12)
    # the mixed probability of each character that came: the parts' probabilities mixed
    want = 0.4 * target_probs(net, val) + 0.6 * target_probs(count, val)
    np.testing.assert_allclose(target_probs(mix, val), want, rtol=1e-12)
    spec = SampleSpec(suffix="a", max_len=10).checked(VOCAB, 50)
    names = [n for b in draw_constrained(mix, VOCAB, 20, seed=9, spec=spec) for n in b]
    assert len(names) == 20 and all(n.endswith("a") for n in names)
    assert set("".join(names)) <= set(VOCAB.chars[1:])


# -- the benchmark ---------------------------------------------------------------------

def test_the_benchmark_prints_a_row_per_order_and_skips_missing_files(tmp_path, monkeypatch,
                                                                      capsys):
    from dinogui.bench import ngram as bench

    (tmp_path / "dinos.txt").write_text("\n".join(NAMES * 3) + "\n", encoding="utf-8")
    monkeypatch.setattr(bench, "SHARED_DATA", tmp_path)
    assert bench.main() == 0
    out = capsys.readouterr()
    assert "skipped towns-302.txt" in out.err and "skipped names.txt" in out.err
    rows = [line.split() for line in out.out.splitlines() if line.startswith("dinos.txt ")]
    assert [int(r[2]) for r in rows] == [2, 3, 4, 5, 6]
    assert all(len(r) == 6 + int(r[2]) and float(r[4]) <= float(r[3]) for r in rows)
