"""Interpolated Kneser-Ney written out with dicts and loops: what core.models.ngram must equal.

Slow and plain on purpose: every count is a dict entry, every probability a
loop down the orders. Symbols 0..V-1 are the vocabulary (0 the end of a name),
V is the start marker.
"""

from __future__ import annotations

from collections import Counter, defaultdict


class ReferenceKN:
    def __init__(self, names: list[list[int]], vocab_size: int, order: int,
                 discounts: list[float]):
        self.V, self.order, self.discounts = vocab_size, order, discounts
        S = vocab_size
        top = Counter()
        for name in names:
            seq = [S] * (order - 1) + list(name) + [0]
            for i in range(order - 1, len(seq)):
                top[tuple(seq[i - order + 1 : i + 1])] += 1
        self.counts = {order: dict(top)}  # order k -> {k-gram: a_k}
        raw = dict(top)
        for k in range(order - 1, 0, -1):
            raw_k: dict[tuple, int] = defaultdict(int)
            before: dict[tuple, set] = defaultdict(set)
            for gram, c in raw.items():
                raw_k[gram[1:]] += c
                before[gram[1:]].add(gram[0])
            # continuation counts, except k-grams that begin at the start: their raw count
            self.counts[k] = {g: raw_k[g] if g[0] == S else len(before[g]) for g in raw_k}
            raw = dict(raw_k)

    def prob(self, w: int, history: tuple[int, ...]) -> float:
        """P(w | the last order - 1 symbols of history)."""
        p = 1.0 / self.V
        for k in range(1, self.order + 1):
            context = tuple(history[len(history) - (k - 1):]) if k > 1 else ()
            table = self.counts[k]
            total = sum(c for g, c in table.items() if g[:-1] == context)
            if total == 0:
                continue  # an unseen context: the lower order's estimate as it is
            types = sum(1 for g in table if g[:-1] == context)
            d = self.discounts[k - 1]
            p = (max(table.get(context + (w,), 0) - d, 0.0) + d * types * p) / total
        return p
