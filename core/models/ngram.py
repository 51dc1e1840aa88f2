"""The count model: an interpolated Kneser-Ney character n-gram (Chen & Goodman 1998).

A name is read as the recurrent models read it: each letter and then the end
symbol (index 0) is predicted from the characters before it. Contexts reaching
back before the first letter are padded with a start marker S, the symbol V
(one past the vocabulary), so an order-N model sees S^(N-1) a b ... and the
zero input (-1) of the recurrent models becomes S.

Order k of the model (k = 1..N, a context of k - 1 symbols) interpolates
down to order k - 1, and order 0 is the uniform 1/V:

  P_k(w | h) = (max(a_k(h w) - D_k, 0) + D_k * T_k(h) * P_{k-1}(w | h')) / A_k(h)
  A_k(h) = sum_w a_k(h w),  T_k(h) = #{w : a_k(h w) > 0},  h' = h without its oldest symbol

and P_k(w | h) = P_{k-1}(w | h') for a context never seen (A_k(h) = 0). The
counts a_k are raw counts at the top order N. Below it they are continuation
counts, the number of distinct symbols u seen before the k-gram (u h w): a
character that follows many contexts gets more weight in the back-off than one
that is frequent after a single one. k-grams that begin with S keep their raw
count, since nothing can precede the start (KenLM does the same).

One discount per order: the modified-KN three discounts (for counts 1, 2, 3+)
would triple the search for a few hundredths of a nat on text; characters of
names have few rare n-grams at low orders, where most of the mass sits.
Discounts start at the Chen & Goodman estimate n1 / (n1 + 2 n2) and `tune`
adjusts them on held-out names by a 1-D search per order.

Every count table is sorted int64 keys (a context's symbols as base-(V+1) digits,
oldest first, then the next symbol), looked up with np.searchsorted: fitting
100,000 names takes well under a second, with no Python loop over n-grams.

The model offers the recurrent models' protocol (core.models.batched), with
log-probabilities as its "logits" (their softmax is the distribution itself):
start_state(B), step(x, state), logits(X), loss(X, Y, mask).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..batching import EncodedNames

MAX_ORDER = 6
MIN_DISCOUNT = 1e-4  # 0 would give characters unseen in training no probability
MAX_KEY = 2**62  # base ** order must stay below this: keys are int64
TUNE_SWEEPS = 4  # passes of the 1-D searches over all orders
GOLDEN_STEPS = 40  # golden-section steps per search: the bracket shrinks to ~1e-8


@dataclass(frozen=True)
class Level:
    """The counts order k predicts from: k-grams (a context of k - 1 symbols, then the next)."""

    grams: np.ndarray  # (M,) sorted int64 keys: context * base + next symbol
    counts: np.ndarray  # (M,) float64 a_k: raw counts at the top order, continuation below
    contexts: np.ndarray  # (C,) sorted context keys
    totals: np.ndarray  # (C,) A_k(h): the counts summed per context
    types: np.ndarray  # (C,) T_k(h): the distinct next symbols per context


@dataclass(frozen=True)
class Lookup:
    """One order's counts for some (context, next symbol) pairs; all arrays broadcast alike."""

    count: np.ndarray  # a_k(h w), 0 when never seen
    total: np.ndarray  # A_k(h), 1 where the context was never seen (unused there)
    types: np.ndarray  # T_k(h)
    seen: np.ndarray  # bool: the context was seen


def check_order(order: int) -> int:
    if isinstance(order, bool) or not isinstance(order, int | np.integer) \
            or not 1 <= order <= MAX_ORDER:
        raise ValueError(f"the n-gram order must be 1 to {MAX_ORDER}, not {order!r}")
    return int(order)


def check_base(vocab_size: int, order: int) -> None:
    if vocab_size < 1:
        raise ValueError("a count model needs at least one symbol (the end of a name)")
    if (vocab_size + 1) ** order >= MAX_KEY:
        base = int(MAX_KEY ** (1 / order)) + 1
        while base**order >= MAX_KEY:
            base -= 1
        most = base - 1  # the largest vocabulary whose keys fit
        raise ValueError(f"an order-{order} count model takes at most {most:,} characters; "
                         f"this vocabulary has {vocab_size:,}")


def windows(names: EncodedNames, order: int, start: int) -> tuple[np.ndarray, np.ndarray]:
    """(contexts (P, order - 1), next symbols (P,)) for every predicted position of every name.

    Position t of a name (0..len) predicts its letter t, or the end at t = len,
    from the order - 1 symbols before it, S (= start) before the first letter.
    """
    per_name = names.lengths + 1
    name = np.repeat(np.arange(len(names)), per_name)  # (P,)
    first = np.cumsum(per_name) - per_name  # each name's first position
    t = np.arange(int(per_name.sum())) - first[name]  # (P,) position within its name
    pos = names.starts[name] + t
    nexts = names.codes[pos].astype(np.int64)
    contexts = np.full((len(pos), order - 1), start, dtype=np.int64)
    for back in range(1, order):  # column order - 1 - back holds the symbol `back` places back
        has = t >= back
        contexts[has, order - 1 - back] = names.codes[pos[has] - back]
    return contexts, nexts


def fold(symbols: np.ndarray, base: int) -> np.ndarray:
    """Base-`base` keys of symbol rows (..., k), the first (oldest) symbol most significant."""
    key = np.zeros(symbols.shape[:-1], dtype=np.int64)
    for j in range(symbols.shape[-1]):
        key = key * base + symbols[..., j]
    return key


def unfold(keys: np.ndarray, base: int, k: int) -> np.ndarray:
    """The symbol rows (..., k) of base-`base` keys: fold's inverse."""
    digits = np.empty((*keys.shape, k), dtype=np.int64)
    rest = keys
    for j in range(k - 1, -1, -1):
        digits[..., j], rest = rest % base, rest // base
    return digits


def build_levels(top_keys: np.ndarray, top_counts: np.ndarray, base: int,
                 order: int) -> list[Level]:
    """Levels 1..order from the top order's sorted unique keys and raw counts."""
    start = base - 1
    raw, keys = top_counts.astype(np.float64), top_keys
    adjusted = [raw]
    all_keys = [keys]
    for k in range(order - 1, 0, -1):  # k-grams from the (k+1)-grams: drop the oldest symbol
        shorter = keys % base**k
        keys, inverse, distinct = np.unique(shorter, return_inverse=True, return_counts=True)
        raw = np.bincount(inverse.reshape(-1), weights=raw, minlength=len(keys))
        from_start = keys // base ** (k - 1) == start  # nothing precedes S: keep raw counts
        adjusted.append(np.where(from_start, raw, distinct.astype(np.float64)))
        all_keys.append(keys)
    levels = []
    for keys, counts in zip(reversed(all_keys), reversed(adjusted), strict=True):
        contexts, inverse = np.unique(keys // base, return_inverse=True)
        inverse = inverse.reshape(-1)
        levels.append(Level(keys, counts, contexts,
                            np.bincount(inverse, weights=counts, minlength=len(contexts)),
                            np.bincount(inverse, minlength=len(contexts)).astype(np.float64)))
    return levels


def estimate_discount(counts: np.ndarray) -> float:
    """Chen & Goodman's n1 / (n1 + 2 n2), n_r the k-grams with count r; 0.5 without any."""
    n1, n2 = np.count_nonzero(counts == 1), np.count_nonzero(counts == 2)
    if n1 == 0:
        return 0.5
    return float(np.clip(n1 / (n1 + 2 * n2), MIN_DISCOUNT, 1.0))


def lookup(level: Level, context_keys: np.ndarray, nexts: np.ndarray, base: int) -> Lookup:
    """a_k, A_k and T_k for each (context, next) pair (context_keys and nexts broadcast)."""
    c = np.searchsorted(level.contexts, context_keys)
    c = np.minimum(c, len(level.contexts) - 1)
    seen = level.contexts[c] == context_keys
    grams = context_keys * base + nexts
    g = np.minimum(np.searchsorted(level.grams, grams), len(level.grams) - 1)
    count = np.where(level.grams[g] == grams, level.counts[g], 0.0)
    return Lookup(count, np.where(seen, level.totals[c], 1.0), level.types[c], seen)


def interpolate(lookups: list[Lookup], discounts: Sequence[float], vocab_size: int) -> np.ndarray:
    """P_N(w | h) from each order's lookup, lowest order first (the formula above)."""
    p = np.full(lookups[0].count.shape, 1.0 / vocab_size)
    for lk, d in zip(lookups, discounts, strict=True):
        mixed = (np.maximum(lk.count - d, 0.0) + d * lk.types * p) / lk.total
        p = np.where(lk.seen, mixed, p)
    return p


class KneserNey:
    """An interpolated Kneser-Ney model of order 1..6 over a vocabulary of V symbols.

    Built from its top-order n-grams (grams (M, order) of symbols, V the start
    marker; counts (M,)); `fit` counts them from names, `tune` sets the discounts.
    """

    def __init__(self, grams: np.ndarray, counts: np.ndarray, vocab_size: int,
                 discounts: Sequence[float] | None = None):
        self.order = check_order(grams.shape[1])
        self.vocab_size = int(vocab_size)
        check_base(self.vocab_size, self.order)
        self.base = self.vocab_size + 1
        self.start = self.vocab_size  # the start marker's symbol
        keys = fold(grams.astype(np.int64), self.base)
        by_key = np.argsort(keys, kind="stable")
        self._keys, self._counts = keys[by_key], counts.astype(np.int64)[by_key]
        self.levels = build_levels(self._keys, self._counts, self.base, self.order)
        if discounts is None:
            discounts = [estimate_discount(lv.counts) for lv in self.levels]
        self.discounts = [float(d) for d in discounts]

    # -- building --------------------------------------------------------------
    @classmethod
    def fit(cls, names: EncodedNames | Sequence[np.ndarray], vocab_size: int,
            order: int) -> KneserNey:
        """Count the order-N n-grams of encoded names (index 0, the end, never inside a name)."""
        order = check_order(order)
        check_base(vocab_size, order)
        names = _encoded(names)
        if len(names) == 0:
            raise ValueError("a count model needs at least one name to count")
        if names.codes.size and not 0 <= names.codes.min() <= names.codes.max() < vocab_size:
            raise ValueError(f"a name holds a symbol outside the vocabulary of {vocab_size}")
        contexts, nexts = windows(names, order, start=vocab_size)
        grams = np.concatenate([contexts, nexts[:, None]], axis=1)
        keys, first, counts = np.unique(fold(grams, vocab_size + 1), return_index=True,
                                        return_counts=True)
        return cls(grams[first], counts, vocab_size)

    def held_out_loss(self, names: EncodedNames | Sequence[np.ndarray]) -> float:
        """Loss per character (nats) on names: -mean log P over their letters and ends."""
        return _chain_loss(self._target_lookups(_encoded(names)), self.discounts, self.vocab_size)

    def tune(self, names: EncodedNames | Sequence[np.ndarray],
             sweeps: int = TUNE_SWEEPS) -> float:
        """Set the discounts that minimise the loss per character on held-out names; return it.

        Coordinate descent: a golden-section search over (0, 1] for one order's
        discount, the others fixed, order after order, `sweeps` times. A search's
        result is kept only when it lowers the loss, so tuning never raises it.
        """
        lookups = self._target_lookups(_encoded(names))
        d = list(self.discounts)
        best = _chain_loss(lookups, d, self.vocab_size)
        for _ in range(sweeps):
            before = best
            for k in range(self.order):
                def loss_at(x: float, k: int = k) -> float:
                    return _chain_loss(lookups, [*d[:k], x, *d[k + 1:]], self.vocab_size)

                x, value = golden_min(loss_at, MIN_DISCOUNT, 1.0)
                if value < best:
                    d[k], best = float(x), value
            if before - best < 1e-10:
                break
        self.discounts = d
        return best

    def _target_lookups(self, names: EncodedNames) -> list[Lookup]:
        contexts, nexts = windows(names, self.order, self.start)
        return self._lookups(contexts, nexts)

    def _lookups(self, contexts: np.ndarray, nexts: np.ndarray,
                 every_next: bool = False) -> list[Lookup]:
        """Each order's Lookup for contexts (..., order - 1) and their next symbols (...).

        every_next: nexts is (V,), every symbol after each context: lookups (..., V).
        """
        key = np.zeros(contexts.shape[:-1], dtype=np.int64)
        out = []
        for k in range(1, self.order + 1):
            if k > 1:  # order k's context: one symbol older than order k - 1's
                key = key + contexts[..., self.order - k] * self.base ** (k - 2)
            out.append(lookup(self.levels[k - 1], key[..., None] if every_next else key, nexts,
                              self.base))
        return out

    # -- probabilities ---------------------------------------------------------
    def probs(self, contexts: np.ndarray) -> np.ndarray:
        """Next-symbol distributions (B, V) after contexts (B, order - 1), oldest first."""
        lookups = self._lookups(np.asarray(contexts, dtype=np.int64),
                                np.arange(self.vocab_size), every_next=True)
        return interpolate(lookups, self.discounts, self.vocab_size)

    def start_state(self, batch: int) -> np.ndarray:
        """(B, order - 1) symbols of context, all start markers."""
        return np.full((batch, self.order - 1), self.start, dtype=np.int64)

    def step(self, x: np.ndarray, state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """x (B,) the last symbol (-1: the start) -> (log-probabilities (B, V), next state)."""
        x = np.where(np.asarray(x) < 0, self.start, x).astype(np.int64)
        if self.order > 1:  # forget the oldest symbol, remember x
            state = np.concatenate([state[:, 1:], x[:, None]], axis=1)
        return np.log(self.probs(state)), state

    def contexts_of(self, X: np.ndarray) -> np.ndarray:
        """(T, B, order - 1) contexts of inputs X (T, B) as pad_batch lays them out (X[0] = -1)."""
        X = np.where(X < 0, self.start, X).astype(np.int64)
        T = X.shape[0]
        C = np.full((*X.shape, self.order - 1), self.start, dtype=np.int64)
        for back in range(min(self.order - 1, T)):  # column order - 2 - back: X[t - back]
            C[back:, :, self.order - 2 - back] = X[: T - back]
        return C

    def logits(self, X: np.ndarray) -> np.ndarray:
        """Next-symbol log-probabilities (T, B, V) for inputs X (T, B)."""
        C = self.contexts_of(X)
        return np.log(self.probs(C.reshape(X.size, self.order - 1))).reshape(*X.shape, -1)

    def loss(self, X: np.ndarray, Y: np.ndarray, mask: np.ndarray) -> float:
        """Cross-entropy summed over real positions (what core.validation.Evaluator sums)."""
        p = interpolate(self._lookups(self.contexts_of(X), Y.astype(np.int64)), self.discounts,
                        self.vocab_size)
        return float(-(np.log(p) * mask).sum())

    # -- saving ----------------------------------------------------------------
    def to_arrays(self) -> dict[str, np.ndarray]:
        """Plain numeric arrays (as a safetensors checkpoint stores them); from_arrays inverts.

        grams (M, order) int32: the top order's n-grams, symbol V the start marker;
        counts (M,) int64; discounts (order,) float64; vocab_size (1,) int64.
        """
        digits = unfold(self._keys, self.base, self.order)
        return {"grams": digits.astype(np.int32), "counts": self._counts.copy(),
                "discounts": np.array(self.discounts, dtype=np.float64),
                "vocab_size": np.array([self.vocab_size], dtype=np.int64)}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> KneserNey:
        """The model to_arrays saved; ValueError (one line) for arrays it could not have written."""
        check_arrays(arrays)
        return cls(arrays["grams"], arrays["counts"], int(arrays["vocab_size"][0]),
                   [float(d) for d in arrays["discounts"]])


def check_arrays(arrays: dict[str, np.ndarray]) -> None:
    """Refuse count-model arrays of the wrong kind, shape or range, with one line saying which."""
    bad = "the count model's arrays are damaged:"
    for name, kinds in (("grams", "iu"), ("counts", "iu"), ("discounts", "f"),
                        ("vocab_size", "iu")):
        if name not in arrays:
            raise ValueError(f"{bad} {name!r} is missing")
        a = arrays[name]
        if not isinstance(a, np.ndarray) or a.dtype.kind not in kinds:
            raise ValueError(f"{bad} {name!r} is not an array of "
                             f"{'floats' if kinds == 'f' else 'integers'}")
    grams, counts, discounts, vocab = (arrays[k] for k in ("grams", "counts", "discounts",
                                                           "vocab_size"))
    if discounts.ndim != 1 or not 1 <= len(discounts) <= MAX_ORDER:
        raise ValueError(f"{bad} 'discounts' must hold 1 to {MAX_ORDER} numbers, one per order")
    order = len(discounts)
    if not (np.isfinite(discounts).all() and (discounts > 0).all() and (discounts <= 1).all()):
        raise ValueError(f"{bad} each discount must be above 0 and at most 1")
    if vocab.shape != (1,) or vocab[0] < 1:
        raise ValueError(f"{bad} 'vocab_size' must be one positive number")
    V = int(vocab[0])
    check_base(V, order)
    if grams.ndim != 2 or grams.shape[1] != order or len(grams) == 0:
        raise ValueError(f"{bad} 'grams' must be (n-grams, {order}) for {order} discounts")
    if counts.shape != (len(grams),) or (counts < 1).any():
        raise ValueError(f"{bad} 'counts' must hold one positive count per n-gram")
    if (grams < 0).any() or (grams > V).any() or (grams[:, -1] >= V).any():
        raise ValueError(f"{bad} an n-gram holds a symbol outside the vocabulary of {V}")
    is_start = grams == V
    if (is_start[:, 1:] & ~is_start[:, :-1]).any():
        raise ValueError(f"{bad} a start marker follows a character in an n-gram")
    keys = fold(grams.astype(np.int64), V + 1)
    if len(np.unique(keys)) != len(keys):
        raise ValueError(f"{bad} an n-gram is listed twice")


def _encoded(names: EncodedNames | Sequence[np.ndarray]) -> EncodedNames:
    return names if isinstance(names, EncodedNames) else EncodedNames.from_arrays(list(names))


def _chain_loss(lookups: list[Lookup], discounts: Sequence[float], vocab_size: int) -> float:
    n = lookups[0].count.size
    if n == 0:
        raise ValueError("no held-out names to measure the count model on")
    return float(-np.log(interpolate(lookups, discounts, vocab_size)).sum() / n)


def golden_min(f, lo: float, hi: float, steps: int = GOLDEN_STEPS) -> tuple[float, float]:
    """(x, f(x)) for the lowest f found by golden-section search on [lo, hi], ends included."""
    r = (np.sqrt(5.0) - 1.0) / 2.0
    a, b = lo, hi
    c, d = b - r * (b - a), a + r * (b - a)
    fc, fd = f(c), f(d)
    best = min((f(lo), lo), (f(hi), hi), (fc, c), (fd, d))
    for _ in range(steps):
        if fc < fd:
            b, d, fd = d, c, fc
            c = b - r * (b - a)
            fc = f(c)
            best = min(best, (fc, c))
        else:
            a, c, fc = c, d, fd
            d = a + r * (b - a)
            fd = f(d)
            best = min(best, (fd, d))
    return best[1], best[0]
