"""A held-out split of the names and the per-character loss on it.

The split is fixed by the run's seed, so a resumed run holds out the same names.
Validation always starts each name from a zero hidden state, as sampling does,
so classic and batched models are measured alike.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .batching import EncodedNames

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


def split_rows(names: list[str], held_out: list[str], fraction: float,
               seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train, validation) rows of `names + held_out`: with names held out apart (a
    `--val-file`), those are the validation rows and every name of `names` not among them
    trains; without, split_indices' draw. Both at once are refused: one split per run."""
    if not held_out:
        return split_indices(len(names), fraction, seed)
    if fraction > 0:
        raise ValueError("held-out names from a file and a validation fraction: give one or "
                         "the other (the file's names are the held-out names)")
    apart = set(held_out)
    train = np.array([i for i, name in enumerate(names) if name not in apart], dtype=np.int64)
    if not len(train):
        raise ValueError("every name is held out: no name is left to train on")
    return train, np.arange(len(names), len(names) + len(held_out), dtype=np.int64)


@dataclass
class Evaluator:
    """Pre-padded validation batches, so each evaluation is forward passes only."""

    batches: list[tuple[np.ndarray, np.ndarray, np.ndarray]]
    n_chars: int

    @classmethod
    def for_names(cls, encoded: list[np.ndarray]) -> Evaluator | None:
        if not encoded:
            return None
        names = EncodedNames.from_arrays(encoded)
        order = np.argsort(names.lengths, kind="stable")  # similar lengths: little padding
        batches = [names.pad_batch(order[i : i + EVAL_BATCH], np.float64)
                   for i in range(0, len(order), EVAL_BATCH)]
        return cls(batches, int((names.lengths + 1).sum()))

    def loss_per_char(self, model) -> float:
        """The model's (core.models) loss per character over the held-out names."""
        total = sum(model.loss(X, Y, mask) for X, Y, mask in self.batches)
        value = total / self.n_chars
        return value if math.isfinite(value) else float("inf")
