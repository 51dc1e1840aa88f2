"""A held-out split of the names and the per-character loss on it.

The split is fixed by the run's seed, so a resumed run holds out the same names.
Validation always starts each name from a zero hidden state, as sampling does,
so classic and batched models are measured alike.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .models import VanillaRNN

EVAL_BATCH = 512  # names per forward pass; bounds memory on large corpora


def split_indices(n_names: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train, validation) indices into the corpus, the held-out part drawn by `seed`.

    The draw uses its own stream so that changing the fraction never changes
    the initial weights or the training order's random numbers.
    """
    if fraction <= 0:
        return np.arange(n_names), np.zeros(0, dtype=np.int64)
    n_val = min(max(1, round(fraction * n_names)), n_names - 1)
    if n_val < 1:
        raise ValueError("a validation split needs at least two names")
    perm = np.random.default_rng([seed, 0x5EED]).permutation(n_names)
    return np.sort(perm[n_val:]), np.sort(perm[:n_val])


def pad_names(encoded: list[np.ndarray], dtype=np.float64):
    """(X, Y, mask), each (T, B), for names given as index arrays, padded at the end."""
    T = max(len(s) for s in encoded) + 1
    B = len(encoded)
    X = np.zeros((T, B), dtype=np.int64)
    Y = np.zeros((T, B), dtype=np.int64)
    mask = np.zeros((T, B), dtype=dtype)
    X[0] = -1  # the seed's zero input
    for b, s in enumerate(encoded):
        L = len(s)
        X[1 : L + 1, b] = s
        Y[:L, b] = s
        mask[: L + 1, b] = 1.0
    return X, Y, mask


def as_batched(preset: str, cell: str, params: dict[str, np.ndarray], models: dict):
    """The model in batched form; a classic RNN becomes the same math, row-major."""
    if preset == "classic":
        return VanillaRNN({"W_xh": params["Wax"].T, "W_hh": params["Waa"].T,
                           "W_hy": params["Wya"].T, "b_h": params["b"][:, 0],
                           "b_y": params["by"][:, 0]})
    return models[cell](params)


@dataclass
class Evaluator:
    """Pre-padded validation batches, so each evaluation is forward passes only."""

    batches: list[tuple[np.ndarray, np.ndarray, np.ndarray]]
    n_chars: int

    @classmethod
    def for_names(cls, encoded: list[np.ndarray]) -> Evaluator | None:
        if not encoded:
            return None
        # sorting by length keeps padding small
        encoded = sorted(encoded, key=len)
        batches = [pad_names(encoded[i : i + EVAL_BATCH])
                   for i in range(0, len(encoded), EVAL_BATCH)]
        return cls(batches, int(sum(len(s) + 1 for s in encoded)))

    def loss_per_char(self, model) -> float:
        total = 0.0
        for X, Y, mask in self.batches:
            loss_fn = getattr(model, "loss", None)
            if loss_fn is not None:
                total += loss_fn(X, Y, mask)
            else:
                total += model.loss_and_grads(X, Y, mask)[0]
        value = total / self.n_chars
        return value if math.isfinite(value) else float("inf")
