"""Names as one flat array of character indices, and the mini-batches cut from it.

EncodedNames keeps every name's indices in one int array with its starts and
lengths, so a 100,000-name corpus is three arrays instead of 100,000 small
ones, a name is a view, and padding a batch takes a handful of vectorised calls.

bucketed_order arranges an epoch so that each batch holds names of similar
length, so that little of a batch is padding: the names are shuffled, sorted
by length within pools of POOL_BATCHES batches, cut into batches, and the
batches shuffled. Which names share a batch, and the batches' order, still
change every epoch. All randomness comes from the
caller's np.random.Generator, so a run resumed from its saved generator state
continues with the same batches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .corpus import Vocab

POOL_BATCHES = 64  # batches whose names are sorted by length together


@dataclass(frozen=True)
class EncodedNames:
    codes: np.ndarray  # int32: each name's indices followed by 0, the newline
    starts: np.ndarray  # (N,) where each name begins in codes
    lengths: np.ndarray  # (N,) letters per name, the newline not counted

    @classmethod
    def encode(cls, vocab: Vocab, names: Sequence[str]) -> EncodedNames:
        """Every name's indices (ValueError for a character not in the vocabulary)."""
        lengths = np.fromiter(map(len, names), dtype=np.int64, count=len(names))
        starts = np.zeros(len(names), dtype=np.int64)
        np.cumsum(lengths[:-1] + 1, out=starts[1:])
        text = np.frombuffer(("\n".join(names) + "\n").encode("utf-32-le"), dtype=np.uint32)
        points = np.array([ord(ch) for ch in vocab.chars], dtype=np.uint32)
        by_point = np.argsort(points)
        found = by_point[np.minimum(np.searchsorted(points[by_point], text), len(points) - 1)]
        unknown = points[found] != text
        if unknown.any():
            ch = chr(int(text[np.argmax(unknown)]))
            raise ValueError(f"character {ch!r} is not in the vocabulary")
        return cls(found.astype(np.int32), starts, lengths)  # int32: half the memory

    @classmethod
    def from_arrays(cls, encoded: Sequence[np.ndarray]) -> EncodedNames:
        """Names already encoded, one index array each."""
        lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
        starts = np.zeros(len(encoded), dtype=np.int64)
        np.cumsum(lengths[:-1] + 1, out=starts[1:])
        codes = np.zeros(int(lengths.sum()) + len(encoded), dtype=np.int32)
        for s, e in zip(starts, encoded, strict=True):
            codes[s : s + len(e)] = e
        return cls(codes, starts, lengths)

    def __len__(self) -> int:
        return len(self.starts)

    def __getitem__(self, i: int) -> np.ndarray:
        """Name i's indices (a view)."""
        s = self.starts[i]
        return self.codes[s : s + self.lengths[i]]

    def targets(self, i: int) -> np.ndarray:
        """Name i's indices followed by the newline: what the model predicts (a view)."""
        s = self.starts[i]
        return self.codes[s : s + self.lengths[i] + 1]

    def pad_batch(self, rows: np.ndarray, dtype=np.float32):
        """(X, Y, mask), each (T, B), for these names, padded at the end.

        X[0] = -1 (the seed's zero input), X[t] = letter t - 1, Y[t] = letter t
        and then the newline; padding positions hold 0 with mask 0.
        """
        starts, lengths = self.starts[rows], self.lengths[rows]
        T = int(lengths.max()) + 1
        t = np.arange(T)[:, None]  # (T, 1)
        Y = self.codes.take(starts + t, mode="clip")  # (T, B), past a name's end: others' letters
        real = t <= lengths  # (T, B)
        Y *= real
        X = np.empty_like(Y)
        X[0] = -1
        X[1:] = Y[:-1]
        return X, Y, real.astype(dtype)


def bucketed_order(rows: np.ndarray, lengths: np.ndarray, batch_size: int,
                   rng: np.random.Generator, pool_batches: int = POOL_BATCHES) -> np.ndarray:
    """An epoch's order of `rows` whose consecutive batch_size slices are its batches.

    lengths: every name's length (indexed by row). A last, shorter batch (when
    batch_size does not divide the rows) stays at the end so slices stay aligned.
    """
    order = rng.permutation(rows)
    if batch_size == 1:
        return order
    pool = batch_size * pool_batches
    for i in range(0, len(order), pool):
        chunk = order[i : i + pool]
        chunk[...] = chunk[np.argsort(lengths[chunk], kind="stable")]
    n_full = len(order) // batch_size
    full = order[: n_full * batch_size].reshape(n_full, batch_size)
    full[...] = full[rng.permutation(n_full)]
    return order


def padding_fraction(order: np.ndarray, lengths: np.ndarray, batch_size: int) -> float:
    """Share of a padded epoch's positions that are padding (for reports and tests)."""
    padded = real = 0
    for i in range(0, len(order), batch_size):
        L = lengths[order[i : i + batch_size]] + 1
        padded += L.max() * len(L)
        real += L.sum()
    return 1.0 - real / padded
