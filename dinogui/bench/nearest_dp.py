"""The nearest corpus name by a vectorised NumPy dynamic programme: the contender
core.novelty (rapidfuzz) is measured against in dinogui.bench.sampling.

The nearest name is by Levenshtein distance (insertions, deletions and
substitutions each cost 1), ties going to the name that comes first in the
corpus. A brute-force search costs one dynamic programme per corpus name; here
one query runs a single DP over many candidates at once, as NumPy rows:

  D[c, j]  distance between the query's first i letters and candidate c's first j
  row i:   tmp[c, j] = min(D[c, j] + 1,                      delete q_i
                           D[c, j-1] + (q_i != cand[c, j-1]))  substitute or match
           D'[c, j]  = min over k <= j of tmp[c, k] + (j - k)  insertions, as a
                       running minimum of tmp - j (np.minimum.accumulate) plus j

so each query letter is a handful of whole-array operations. Candidates are
grouped by length: |len(q) - len(c)| is a lower bound on the distance, so the
search visits lengths outward from the query's own and stops once that bound
exceeds the best distance found; inside a group, candidates whose DP row has
gone past the best are dropped as the rows proceed (a row's minimum never falls).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from dinogui.core.novelty import Nearest

PAD = -1  # code of the padding after a short candidate; never equals a query letter
UNKNOWN = -2  # code of a query letter that no corpus name contains


def levenshtein_many(query: np.ndarray, cands: np.ndarray, lengths: np.ndarray,
                     bound: int | None = None) -> np.ndarray:
    """Distances from one query to many candidates in one vectorised DP.

    query: (m,) letter codes; cands: (N, L) codes padded with PAD after each
    candidate's `lengths` (N,) letters. Padding columns never feed back into
    the columns a candidate's distance is read from.
    bound: candidates whose distance certainly exceeds it may be reported as
    bound + 1 instead of their distance (rows whose minimum passes the bound
    are dropped early). Returns (N,) int distances.
    """
    N, L = cands.shape
    out = lengths.astype(np.int64).copy()  # distance to the empty query
    if N == 0 or len(query) == 0:
        return out
    cols = np.arange(L + 1)
    D = np.broadcast_to(cols, (N, L + 1)).copy()  # row 0: j insertions
    alive = np.arange(N)
    C = cands
    tmp = np.empty_like(D)
    for i, q in enumerate(query, 1):
        tmp[:, 0] = i
        np.minimum(D[:, 1:] + 1, D[:, :-1] + (C != q), out=tmp[:, 1:])
        tmp -= cols
        np.minimum.accumulate(tmp, axis=1, out=D)
        D += cols
        if bound is not None:
            keep = D.min(axis=1) <= bound
            if not keep.all():
                out[alive[~keep]] = bound + 1
                alive, D, C = alive[keep], D[keep], C[keep]
                tmp = np.empty_like(D)
                if not len(alive):
                    return out
    out[alive] = D[np.arange(len(alive)), lengths[alive]]
    return out


class NumpyNearestNames:
    """A corpus prepared for nearest-name queries: codes grouped by name length."""

    def __init__(self, names: Iterable[str]) -> None:
        unique = list(dict.fromkeys(names))  # first occurrences, in corpus order
        if not unique:
            raise ValueError("there are no corpus names to compare with")
        self.names = unique
        self._index = {n: i for i, n in enumerate(unique)}
        self._codes = {ch: k for k, ch in enumerate(sorted(set("".join(unique))))}
        lengths = np.fromiter(map(len, unique), dtype=np.int64, count=len(unique))
        # per length: (corpus indices ascending, codes (n_len, length))
        self._groups: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._counts: dict[int, np.ndarray] = {}  # per length: letter counts (n_len, A)
        for n in np.unique(lengths):
            idx = np.flatnonzero(lengths == n)
            codes = np.array([[self._codes[ch] for ch in unique[i]] for i in idx],
                             dtype=np.int32).reshape(len(idx), int(n))
            self._groups[int(n)] = (idx, codes)
            self._counts[int(n)] = _letter_counts(codes, len(self._codes))
        self._lengths = sorted(self._groups)

    def __len__(self) -> int:
        return len(self.names)

    def encode(self, name: str) -> np.ndarray:
        return np.array([self._codes.get(ch, UNKNOWN) for ch in name], dtype=np.int32)

    def nearest(self, name: str) -> Nearest:
        """The corpus name at the smallest edit distance; the earliest one on a tie."""
        hit = self._index.get(name)
        if hit is not None:
            return Nearest(name, 0)
        q, m = self.encode(name), len(name)
        q_counts = _letter_counts(q[None, :], len(self._codes))[0]
        # best (distance, corpus index) so far; `bound` >= the final distance
        best_d, best_i = None, -1
        bound = m + max(self._lengths)
        same = self._groups.get(m)
        if same is not None:  # among equal lengths, Hamming distance >= edit distance
            bound = int((same[1] != q).sum(axis=1).min())
        # lengths outward from m: every name of length n is at least |m - n| away
        for n in sorted(self._lengths, key=lambda n: (abs(n - m), n)):
            if abs(n - m) > bound:
                break
            idx, codes = self._groups[n]
            # the bag distance is a lower bound too: letters one has and the other lacks
            diff = self._counts[n] - q_counts  # (n_len, A)
            lower = np.maximum(np.maximum(diff, 0).sum(axis=1), np.maximum(-diff, 0).sum(axis=1))
            near = np.flatnonzero(lower <= bound)
            if not len(near):
                continue
            d = levenshtein_many(q, codes[near], np.full(len(near), n), bound)
            k = int(np.argmin(d))  # the first minimum: the earliest in corpus order
            dk, ik = int(d[k]), int(idx[near[k]])
            if dk <= bound and (best_d is None or (dk, ik) < (best_d, best_i)):
                best_d, best_i, bound = dk, ik, dk
        return Nearest(self.names[best_i], best_d)

    def nearest_many(self, names: Iterable[str]) -> list[Nearest]:
        return [self.nearest(n) for n in names]


def _letter_counts(codes: np.ndarray, alphabet: int) -> np.ndarray:
    """(N, alphabet + 1) int16 letter counts per row; the last column counts UNKNOWN letters."""
    N = codes.shape[0]
    out = np.zeros((N, alphabet + 1), dtype=np.int16)
    rows = np.repeat(np.arange(N), codes.shape[1])
    cols = codes.reshape(-1)
    cols = np.where(cols == UNKNOWN, alphabet, cols)
    np.add.at(out, (rows, cols), 1)
    return out
