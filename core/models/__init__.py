"""The character models, and the registry the trainer, checkpoints and CLI pick them from.

  reference.py   rnn, gru and lstm written out plainly in float64: the definition
  classic.py     the seed's rnn, one name at a time (the `classic` preset)
  batched.py     mini-batched, stacked rnn, gru and lstm layers (the `default` preset)
  ops.py         softmax, cross-entropy and the other primitives, once each
  ngram.py       the count model: interpolated Kneser-Ney over characters (no gradients)
  mixture.py     a network mixed with the count model, the weight fitted on held-out names

Every batched model offers the same small interface:
  MODELS[cell].create(vocab_size, hidden, rng, dtype, layers)   a fresh model
  MODELS[cell](params)          a model around saved parameters (layers read from the names)
  params                        dict of named arrays (checkpointed)
  loss_and_grads(X, Y, mask)    (loss summed over real positions, gradients of the mean)
  start_state(B), step(x, state)   one step at a time, for sampling and scoring

The count model and the mixture offer start_state, step, logits and loss too
(log-probabilities as logits), so sampling, scoring and validation take them as they are.
"""

from __future__ import annotations

import numpy as np

from . import classic
from .batched import GRU, LSTM, RNN, StackedModel
from .mixture import Mixture
from .ngram import KneserNey
from .reference import MAX_LAYERS

__all__ = ["CELLS", "MAX_LAYERS", "MIX", "MODELS", "as_batched", "current_name", "split_mix"]

MODELS: dict[str, type[StackedModel]] = {"rnn": RNN, "gru": GRU, "lstm": LSTM}
NGRAM = "ngram"  # the count model: no gradients, fitted in one step (core.trainer)
CELLS = (*MODELS, NGRAM)
MIX = "mix/"  # a hybrid's count model and weight, beside the network's parameters

# one-layer rnn checkpoints written before the models shared the reference's names
LEGACY_NAMES = {"W_xh": "W_x", "W_hh": "W_h", "b_h": "b"}


def current_name(key: str) -> str:
    """A stored array's key ("param/W_xh", "opt/m/W_hh", ...) under today's parameter names."""
    head, _, last = key.rpartition("/")
    new = LEGACY_NAMES.get(last)
    return key if new is None else f"{head}/{new}" if head else new


def split_mix(params: dict[str, np.ndarray]) -> tuple[dict, dict | None]:
    """(the network's parameters, the hybrid's count arrays and weight or None)."""
    mix = {k[len(MIX):]: v for k, v in params.items() if k.startswith(MIX)}
    net = {k: v for k, v in params.items() if not k.startswith(MIX)}
    return net, mix or None


def as_batched(preset: str, cell: str, params: dict[str, np.ndarray]):
    """The model in batched form; a classic rnn becomes the same math in the row layout.

    cell ngram: the count model its arrays describe. Parameters with mix/ arrays
    (mix/weight and a count model's) make the hybrid, core.models.mixture.Mixture.
    """
    if cell == NGRAM:
        return KneserNey.from_arrays(params)
    params, mix = split_mix(params)
    net = RNN(classic.to_reference(params)) if preset == "classic" else MODELS[cell](params)
    if mix is None:
        return net
    return Mixture(net, KneserNey.from_arrays(mix), float(mix["weight"][0]))
