"""Does the model invent or copy? Corpus membership and the nearest corpus name.

The nearest name is by Levenshtein distance (insertions, deletions and
substitutions each cost 1), ties going to the name that comes first in the
corpus. rapidfuzz computes the distances (C++, several candidates per SIMD
lane); `python -m dinogui.bench.sampling` compares it with a vectorised NumPy
dynamic programme and prints both.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

QUERY_BLOCK = 32  # queries per distance matrix: bounds its memory (32 x corpus x 4 bytes)


def novelty_rate(names: Sequence[str], known: frozenset[str] | set[str]) -> float:
    """Fraction of `names` that are not in the corpus (NaN for no names)."""
    if not names:
        return float("nan")
    return sum(n not in known for n in names) / len(names)


@dataclass(frozen=True)
class Nearest:
    name: str  # the closest corpus name
    distance: int  # its Levenshtein distance from the query (0: a copy)


class NearestNames:
    """A corpus prepared for nearest-name queries."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = list(dict.fromkeys(names))  # first occurrences, in corpus order
        if not self.names:
            raise ValueError("there are no corpus names to compare with")
        self._index = {n: i for i, n in enumerate(self.names)}

    def __len__(self) -> int:
        return len(self.names)

    def nearest(self, name: str) -> Nearest:
        """The corpus name at the smallest edit distance; the earliest one on a tie."""
        return self.nearest_many([name])[0]

    def nearest_many(self, names: Iterable[str]) -> list[Nearest]:
        names = list(names)
        out = [Nearest(n, 0) if n in self._index else None for n in names]
        todo = [i for i, hit in enumerate(out) if hit is None]
        for start in range(0, len(todo), QUERY_BLOCK):
            rows = todo[start : start + QUERY_BLOCK]
            D = process.cdist([names[i] for i in rows], self.names,
                              scorer=Levenshtein.distance, dtype=np.int32, workers=1)
            best = D.argmin(axis=1)  # the first minimum: the earliest in corpus order
            for r, i, j in zip(rows, best, range(len(rows)), strict=True):
                out[r] = Nearest(self.names[i], int(D[j, i]))
        return out
