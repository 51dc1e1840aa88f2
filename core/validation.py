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


def split_indices(n_names: int, fraction: float, seed: int,
                  labels: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(train, validation) indices into the corpus, the held-out part drawn by `seed`.

    The draw uses its own stream so that changing the fraction never changes
    the initial weights or the training order's random numbers.

    labels: each name's label index, for a labelled corpus: the split is stratified, each
    label holding out round(fraction * its names) (at least one, and never all, of a label
    with two or more names), so that a short kind is measured too; when every label has a
    single name, the plain draw.
    """
    if labels is not None and fraction > 0:
        return _stratified(np.asarray(labels), fraction, seed)
    if fraction <= 0:
        return np.arange(n_names), np.zeros(0, dtype=np.int64)
    n_val = min(max(1, round(fraction * n_names)), n_names - 1)
    if n_val < 1:
        raise ValueError("a validation split needs at least two names")
    perm = np.random.default_rng([seed, 0x5EED]).permutation(n_names)
    return np.sort(perm[n_val:]), np.sort(perm[:n_val])


def split_rows(names: list[str], held_out: list[str], fraction: float, seed: int,
               labels: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(train, validation) rows of `names + held_out`: with names held out apart (a
    `--val-file`), those are the validation rows and every name of `names` not among them
    trains; without, split_indices' draw. Both at once are refused: one split per run."""
    if not held_out:
        return split_indices(len(names), fraction, seed, labels)
    if labels is not None:
        raise ValueError("names by kind take no held-out file: their held-out names are "
                         "drawn from each kind (give --val-fraction)")
    if fraction > 0:
        raise ValueError("held-out names from a file and a validation fraction: give one or "
                         "the other (the file's names are the held-out names)")
    apart = set(held_out)
    train = np.array([i for i, name in enumerate(names) if name not in apart], dtype=np.int64)
    if not len(train):
        raise ValueError("every name is held out: no name is left to train on")
    return train, np.arange(len(names), len(names) + len(held_out), dtype=np.int64)


def _stratified(labels: np.ndarray, fraction: float, seed: int):
    val = []
    for k in range(int(labels.max()) + 1 if len(labels) else 0):
        rows = np.flatnonzero(labels == k)
        if len(rows) < 2:
            continue  # a single name trains
        n_val = min(max(1, round(fraction * len(rows))), len(rows) - 1)
        perm = np.random.default_rng([seed, 0x5EED, k]).permutation(len(rows))
        val.append(rows[perm[:n_val]])
    if not val:  # every kind a single name: nothing to stratify, the plain draw
        return split_indices(len(labels), fraction, seed)
    held = np.sort(np.concatenate(val))
    return np.setdiff1d(np.arange(len(labels)), held), held


@dataclass
class Evaluator:
    """Pre-padded validation batches, so each evaluation is forward passes only."""

    batches: list[tuple[np.ndarray, np.ndarray, np.ndarray]]
    n_chars: int
    labels: list[np.ndarray] | None = None  # a labelled corpus: each batch's label indices
    n_labels: int = 0

    @classmethod
    def for_names(cls, encoded: list[np.ndarray], labels: np.ndarray | None = None,
                  n_labels: int = 0) -> Evaluator | None:
        """labels: each held-out name's label index (a labelled model reads them)."""
        if not encoded:
            return None
        names = EncodedNames.from_arrays(encoded)
        order = np.argsort(names.lengths, kind="stable")  # similar lengths: little padding
        cuts = [order[i : i + EVAL_BATCH] for i in range(0, len(order), EVAL_BATCH)]
        batches = [names.pad_batch(rows, np.float64) for rows in cuts]
        by_batch = None if labels is None else [np.asarray(labels)[rows] for rows in cuts]
        return cls(batches, int((names.lengths + 1).sum()), by_batch, n_labels)

    def loss_per_char(self, model) -> float:
        """The model's (core.models) loss per character over the held-out names."""
        if self.labels is None:
            total = sum(model.loss(X, Y, mask) for X, Y, mask in self.batches)
        else:
            total = sum(model.loss(X, Y, mask, lab)
                        for (X, Y, mask), lab in zip(self.batches, self.labels, strict=True))
        value = total / self.n_chars
        return value if math.isfinite(value) else float("inf")

    def loss_per_label(self, model) -> list[float]:
        """A labelled model's held-out loss per character for each label's names (nan for a
        label with none held out)."""
        return self.losses_by_label(model)[1]

    def losses_by_label(self, model) -> tuple[float, list[float]]:
        """(loss_per_char, loss_per_label) from one pass over the held-out names."""
        total, chars = np.zeros(self.n_labels), np.zeros(self.n_labels)
        for (X, Y, mask), lab in zip(self.batches, self.labels or [], strict=True):
            for k in np.unique(lab):
                cols = lab == k
                total[k] += model.loss(X[:, cols], Y[:, cols], mask[:, cols], lab[cols])
                chars[k] += mask[:, cols].sum()
        overall = total.sum() / self.n_chars
        with np.errstate(invalid="ignore", divide="ignore"):
            per = [float(v) if math.isfinite(v) else float("nan") for v in total / chars]
        return (float(overall) if math.isfinite(overall) else float("inf")), per
