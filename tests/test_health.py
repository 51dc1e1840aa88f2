"""core/health.py: the Health tab's figures against hand computations on tiny models, the
watched iterations, and training untouched by the probe."""

import numpy as np
import pytest

from dinogui.core.batching import EncodedNames
from dinogui.core.config import TrainConfig
from dinogui.core.corpus import load_corpus
from dinogui.core.health import (
    HealthProbe,
    batched_saturation,
    due,
    saturated,
    saturation,
    weight_label,
)
from dinogui.core.models import MODELS, classic, reference
from dinogui.core.trainer import Trainer


def trainer_for(corpus_path, **overrides) -> Trainer:
    preset = overrides.pop("preset", "default")
    return Trainer(load_corpus(corpus_path), TrainConfig.for_preset(preset, **overrides))


def watch(trainer: Trainer, probe: HealthProbe):
    probe.before_step()
    r = trainer.step()
    return probe.after_step(r.iteration)


def set_layer(trainer: Trainer, layer: int, b: list[float], b_hn: list[float] | None = None):
    """Zero a layer's matrices and set its bias: every unit then takes a known value."""
    L = trainer.config.layers
    key = (lambda k: k) if L == 1 else (lambda k: f"l{layer}/{k}")
    trainer.params[key("W_x")][...] = 0.0
    trainer.params[key("W_h")][...] = 0.0
    trainer.params[key("b")][...] = b
    if b_hn is not None:
        trainer.params[key("b_hn")][...] = b_hn


def test_thresholds_are_097_for_tanh_and_the_same_slope_for_sigmoids():
    assert saturated(np.array([0.9701, -0.9701, 0.97, -0.5]), "tanh").tolist() == [
        True, True, False, False]
    assert saturated(np.array([0.986, 0.014, 0.984, 0.016, 0.5]), "sigmoid").tolist() == [
        True, True, False, False, False]


@pytest.mark.parametrize(("cell", "layers", "biases", "expected"), [
    # rnn, h = tanh(b): layer 1 tanh([5, 0, 0]) -> 1 of 3; layer 2 tanh([5, -5, 1]) -> 2 of 3
    ("rnn", 2, [([5, 0, 0], None), ([5, -5, 1], None)], [1 / 3, 2 / 3]),
    # gru [r | z | n], n = tanh(b_n + r * b_hn): r (2 sat), z (1 of 2), n (2 of 2) -> 5/6
    ("gru", 1, [([5, 5, 5, 0, 5, -5], [0, 0])], [5 / 6]),
    # lstm [i | f | o | g]: i 2, f 0, o 1, g 2 -> 5/8
    ("lstm", 1, [([5, 5, 0, 0, -5, 0, 5, 5], None)], [5 / 8]),
])
def test_saturation_shares_are_exact_on_hand_set_weights(tiny_corpus, cell, layers, biases,
                                                         expected):
    hidden = len(biases[0][0]) // reference.GATES[cell]
    t = trainer_for(tiny_corpus, cell=cell, layers=layers, hidden=hidden, batch_size=4)
    for layer, (b, b_hn) in enumerate(biases):
        set_layer(t, layer, b, b_hn)
    s = watch(t, HealthProbe(t))
    assert s.layers == tuple(f"layer {i + 1}" for i in range(layers))
    np.testing.assert_array_equal(s.saturation, expected)


def test_the_fast_saturation_agrees_with_the_plain_one(tiny_corpus):
    corpus = load_corpus(tiny_corpus)
    enc = EncodedNames.encode(corpus.vocab, corpus.names)
    X, _, mask = enc.pad_batch(np.arange(len(corpus.names)), np.float64)
    rng = np.random.default_rng(3)
    for cell in ("rnn", "gru", "lstm"):
        p = reference.init_params(cell, corpus.vocab.size, 6, 2, rng)
        p = {k: v * 4 for k, v in p.items()}  # large weights: a good share saturates
        plain = saturation(cell, p, X, mask)
        fast = batched_saturation(MODELS[cell]({k: v.copy() for k, v in p.items()}), X, mask)
        assert 0.05 < plain.max() and plain.min() < 0.95, plain  # neither trivial
        np.testing.assert_array_equal(fast, plain, err_msg=cell)


def test_grad_norm_and_update_ratio_match_a_hand_computation(tiny_corpus):
    # every name in one batch, plain SGD in float64: the update is -lr * the clipped
    # gradient of the mean loss per character, computed here by the reference model
    lr, clip = 0.05, 0.003  # a clip that bites, so it must be the clipped gradient
    t = trainer_for(tiny_corpus, hidden=5, batch_size=8, val_fraction=0, optimizer="sgd",
                    lr=lr, clip=clip, dtype="float64", layers=2, cell="gru")
    before = {k: v.copy() for k, v in t.params.items()}
    s = watch(t, HealthProbe(t))
    corpus = t.corpus
    X, Y, mask = EncodedNames.encode(corpus.vocab, corpus.names).pad_batch(np.arange(8),
                                                                           np.float64)
    _, grads, _ = reference.loss_and_grads("gru", before, X, Y, mask)
    names = ["l0/W_x", "l0/W_h", "l1/W_x", "l1/W_h", "W_hy"]
    assert s.weights == ("W_x layer 1", "W_h layer 1", "W_x layer 2", "W_h layer 2",
                         "W_hy (head)")
    g = {k: np.clip(grads[k] / mask.sum(), -clip, clip) for k in names}
    assert any((np.abs(v) == clip).any() for v in g.values())  # the clip did bite
    np.testing.assert_allclose(s.grad_norm, [np.sqrt((g[k] ** 2).sum()) for k in names],
                               rtol=1e-9)
    ratio = [np.log10(np.std(lr * g[k]) / np.std(before[k])) for k in names]
    np.testing.assert_allclose(s.update_ratio, ratio, rtol=1e-9)
    assert s.iteration == 0


def test_classic_figures_match_the_seed_layout_by_hand(tiny_corpus):
    t = trainer_for(tiny_corpus, preset="classic", hidden=7)
    t.run(5)  # a carried hidden state that is not zero
    probe = HealthProbe(t)
    st = t.state
    row = st.order[st.iteration % len(st.order)]
    a_prev = st.a_prev.copy()
    before = {k: v.copy() for k, v in t.params.items()}
    s = watch(t, probe)
    assert s.iteration == 5 and s.weights == ("Wax layer 1", "Waa layer 1", "Wya (head)")
    X, Y, mask = EncodedNames.encode(t.vocab, [t.corpus.names[row]]).pad_batch([0], np.float64)
    ref = classic.to_reference(before)
    _, grads, _ = reference.loss_and_grads("rnn", ref, X, Y, mask, start=[(a_prev.T,)])
    g = {k: np.clip(grads[k], -5, 5) for k in ("W_x", "W_h", "W_hy")}  # summed, clipped at 5
    np.testing.assert_allclose(s.grad_norm, [np.linalg.norm(g[k]) for k in g], rtol=1e-9)
    ratio = [np.log10(np.std(0.01 * g[k]) / np.std(ref[k])) for k in g]
    np.testing.assert_allclose(s.update_ratio, ratio, rtol=1e-9)
    # saturation: the step's hidden states, from the carried state, |h| > 0.97
    h, hs = a_prev.T, []
    for x in X[:, 0]:
        inp = np.zeros((1, t.vocab.size)) if x < 0 else np.eye(t.vocab.size)[[x]]
        h = np.tanh(inp @ ref["W_x"] + h @ ref["W_h"] + ref["b"])
        hs.append(h)
    assert s.saturation.tolist() == [float(np.mean(np.abs(np.array(hs)) > 0.97))]


def test_only_every_kth_iteration_is_watched():
    assert [j for j in range(35) if due(j, 10)] == [0, 10, 20, 30]
    assert [j for j in range(4) if due(j, 1)] == [0, 1, 2, 3]
    assert not any(due(j, 0) for j in range(5))  # 0: off


def test_weight_labels_name_the_parameters():
    assert [weight_label(k) for k in ("W_x", "l2/W_h", "W_hy", "Waa", "Wya")] == [
        "W_x layer 1", "W_h layer 3", "W_hy (head)", "Waa layer 1", "Wya (head)"]


@pytest.mark.parametrize("overrides", [
    {"preset": "classic"},
    {"cell": "gru", "layers": 2, "dropout": 0.2, "batch_size": 3},  # epochs roll over
])
def test_training_is_bit_for_bit_the_same_with_the_probe(tiny_corpus, overrides):
    plain = trainer_for(tiny_corpus, **dict(overrides))
    watched = trainer_for(tiny_corpus, **dict(overrides))
    probe = HealthProbe(watched)
    plain.run(40)
    samples = [watch(watched, probe) for _ in range(40)]
    assert [s.iteration for s in samples] == list(range(40))
    for k, v in plain.params.items():
        np.testing.assert_array_equal(watched.params[k], v, err_msg=k)
    for k, col in plain.history.to_arrays().items():
        np.testing.assert_array_equal(watched.history.to_arrays()[k], col, err_msg=k)


def test_after_step_without_before_step_is_refused(tiny_corpus):
    t = trainer_for(tiny_corpus)
    t.step()
    with pytest.raises(ValueError, match="before_step"):
        HealthProbe(t).after_step(0)


@pytest.mark.parametrize("overrides", [{"preset": "classic"}, {"batch_size": 3}])
def test_the_probe_measures_the_names_the_step_trained_on(tiny_corpus, overrides):
    # the step's own loss, recomputed on the probe's names from the weights it copied: they
    # are the step's batch (and, for classic, its carried hidden state), epochs rolling over
    t = trainer_for(tiny_corpus, **dict(overrides))
    probe = HealthProbe(t)
    for _ in range(12):
        probe.before_step()
        names, carried = probe._batch
        params = dict(probe._before)
        r = t.step()
        probe.after_step(r.iteration)
        X, Y, mask = EncodedNames.encode(t.vocab, names).pad_batch(np.arange(len(names)),
                                                                   np.float64)
        if carried is not None:
            params, start = classic.to_reference(params), [(carried.T,)]
        else:
            start = None
        loss, _, _ = reference.loss_and_grads("rnn", params, X, Y, mask, start=start)
        assert loss == pytest.approx(r.loss, rel=1e-5)
