"""Labelled models (names by kind): the label embedding in the reference and the batched paths.

The reference's label_emb gradient is checked against finite differences, every cell; the
batched paths against the reference (loss, every gradient, stepping, blends).
"""

import numpy as np
import pytest

from dinogui.core.models import MODELS, reference
from dinogui.core.models.batched import Conditioned
from tests.test_models import STACKS, batch, numeric_grad

LABELS = np.array([0, 2, 1])  # one label per name of batch()


def labelled_params(cell, layers, seed=0, V=6, H=4, L=3, scale=0.5):
    rng = np.random.default_rng(seed)
    p = reference.init_params(cell, V, H, layers, rng, labels=L)
    return {k: rng.standard_normal(v.shape) * scale for k, v in p.items()}


@pytest.mark.parametrize(("cell", "layers"), [("rnn", 1), ("gru", 1), ("lstm", 1),
                                              ("gru", 2), ("lstm", 2)])
def test_reference_label_gradients_match_finite_differences(cell, layers):
    params = labelled_params(cell, layers)
    X, Y, mask = batch()
    _, grads, _ = reference.loss_and_grads(cell, params, X, Y, mask, labels=LABELS)
    assert grads.keys() == params.keys()
    assert np.abs(grads["label_emb"]).min(axis=1).max() > 0  # every label used: all rows move
    for k, p in params.items():
        num = numeric_grad(
            lambda: reference.loss_and_grads(cell, params, X, Y, mask, labels=LABELS)[0], p)
        np.testing.assert_allclose(grads[k], num, rtol=1e-6, atol=1e-8, err_msg=f"{cell} {k}")


def test_reference_blend_weights_gradient_matches_finite_differences():
    params = labelled_params("gru", 1, seed=5)
    X, Y, mask = batch(seed=5)
    w = np.array([[0.7, 0.3, 0.0], [0.2, 0.2, 0.6], [0.0, 0.0, 1.0]])
    _, grads, _ = reference.loss_and_grads("gru", params, X, Y, mask, labels=w)
    num = numeric_grad(
        lambda: reference.loss_and_grads("gru", params, X, Y, mask, labels=w)[0],
        params["label_emb"])
    np.testing.assert_allclose(grads["label_emb"], num, rtol=1e-6, atol=1e-8)


def test_the_label_changes_the_loss_and_an_unlabelled_model_has_no_embedding():
    params = labelled_params("lstm", 1, seed=1)
    X, Y, mask = batch(seed=1)
    a = reference.loss_and_grads("lstm", params, X, Y, mask, labels=np.array([0, 0, 0]))[0]
    b = reference.loss_and_grads("lstm", params, X, Y, mask, labels=np.array([1, 1, 1]))[0]
    assert a != pytest.approx(b, rel=1e-6)
    plain = reference.init_params("lstm", 6, 4, 1, np.random.default_rng(0))
    assert "label_emb" not in plain
    with pytest.raises(ValueError, match="label"):
        reference.loss_and_grads("lstm", params, X, Y, mask)


def test_labels_are_drawn_after_every_other_parameter():
    """An unlabelled model's init is unchanged; a labelled one adds label_emb at the end."""
    plain = reference.init_params("gru", 7, 5, 2, np.random.default_rng(4))
    labelled = reference.init_params("gru", 7, 5, 2, np.random.default_rng(4), labels=3)
    assert list(labelled) == [*plain, "label_emb"]
    assert labelled["label_emb"].shape == (3, 15)
    for k, v in plain.items():
        np.testing.assert_array_equal(labelled[k], v)


@pytest.mark.parametrize(("cell", "layers"), STACKS)
def test_batched_labelled_loss_and_gradients_equal_the_reference(cell, layers):
    params = labelled_params(cell, layers, seed=2)
    model = MODELS[cell]({k: v.copy() for k, v in params.items()})
    X, Y, mask = batch(seed=2)
    want, want_grads, _ = reference.loss_and_grads(cell, params, X, Y, mask, labels=LABELS)
    n = mask.sum()
    for _ in range(2):  # the second call runs on reused work arrays
        loss, grads = model.loss_and_grads(X, Y, mask, labels=LABELS)
        assert loss == pytest.approx(want, rel=1e-12)
        assert grads.keys() == params.keys()
        for k, g in want_grads.items():
            np.testing.assert_allclose(grads[k] * n, g, rtol=0, atol=1e-11, err_msg=k)
    assert model.loss(X, Y, mask, LABELS) == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize(("cell", "layers"), [("rnn", 1), ("gru", 2), ("lstm", 1)])
def test_batched_blend_equals_the_reference_blend(cell, layers):
    params = labelled_params(cell, layers, seed=6)
    model = MODELS[cell]({k: v.copy() for k, v in params.items()})
    X, Y, mask = batch(seed=6)
    blend = np.array([0.5, 0.25, 0.25])
    want, want_grads, _ = reference.loss_and_grads(cell, params, X, Y, mask,
                                                   labels=np.tile(blend, (3, 1)))
    loss, grads = model.loss_and_grads(X, Y, mask, labels=np.tile(blend, (3, 1)))
    assert loss == pytest.approx(want, rel=1e-12)
    np.testing.assert_allclose(grads["label_emb"] * mask.sum(), want_grads["label_emb"],
                               rtol=0, atol=1e-11)
    assert Conditioned(model, blend).loss(X, Y, mask) == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize(("cell", "layers"), [("rnn", 1), ("gru", 1), ("lstm", 2)])
def test_conditioned_stepping_gives_the_full_forward_pass(cell, layers):
    model = MODELS[cell](labelled_params(cell, layers, seed=4, V=7, H=5))
    X, _, _ = batch(seed=4, V=7, T=7, B=4)
    for weights in (np.array([0.0, 1.0, 0.0]), np.array([0.6, 0.0, 0.4])):
        bound = Conditioned(model, weights)
        state = bound.start_state(X.shape[1])
        stepped = []
        for t in range(X.shape[0]):
            logits, state = bound.step(X[t], state)
            stepped.append(logits)
        np.testing.assert_allclose(np.stack(stepped), bound.logits(X), rtol=0, atol=1e-12)
        np.testing.assert_allclose(
            bound.logits(X), model.logits(X, np.tile(weights, (4, 1))), rtol=0, atol=1e-12)
    one = Conditioned(model, np.array([0.0, 1.0, 0.0])).logits(X)
    np.testing.assert_allclose(one, model.logits(X, np.ones(4, dtype=np.int64)), atol=1e-12)


def test_a_plain_model_refuses_labels_and_a_labelled_one_needs_them():
    X, Y, mask = batch()
    plain = MODELS["gru"](reference.init_params("gru", 6, 4, 1, np.random.default_rng(0)))
    with pytest.raises(ValueError, match="no labels"):
        plain.loss(X, Y, mask, LABELS)
    labelled = MODELS["gru"](labelled_params("gru", 1))
    with pytest.raises(ValueError, match="needs a label"):
        labelled.loss(X, Y, mask)
