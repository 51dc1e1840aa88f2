"""The numerical primitives every model shares, each written once.

Plain functions return new arrays (softmax, log_softmax, sigmoid, one_hot);
the in-place ones (Scratch, softmax_xent_, clip_) write into buffers that
live from step to step, because a training step that allocates its (T, B, H)
temporaries afresh makes the allocator return memory to the system and fault
it in again on every step.
"""

from __future__ import annotations

import math

import numpy as np


def softmax(z: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, shifted by the maximum so exp never overflows."""
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def tempered(logits: np.ndarray, temperature: float) -> np.ndarray:
    """logits / temperature in float64: the one place sampling's temperature is applied.

    Temperature 1 returns the logits' values unchanged (x / 1.0 == x exactly), so the
    original exercise's draws are untouched.
    """
    return np.asarray(logits, dtype=np.float64) / temperature


def log_softmax(z: np.ndarray) -> np.ndarray:
    """log softmax over the last axis (no log(0) where a probability underflows)."""
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function via tanh: no overflow warnings for large |x| in float32."""
    return 0.5 * np.tanh(0.5 * x) + 0.5


def one_hot(X: np.ndarray, size: int, dtype) -> np.ndarray:
    """(..., size) rows: 1 at each index of X, all zeros where X is -1 (the start input)."""
    out = np.zeros((*X.shape, size), dtype=dtype)
    np.put_along_axis(out, np.maximum(X, 0)[..., None], 1.0, axis=-1)
    out[X < 0] = 0.0
    return out


def all_finite(a: np.ndarray) -> bool:
    """Whether every entry is finite."""
    # a finite sum means every entry is finite; only an overflowing sum needs the full scan
    return math.isfinite(float(a.sum())) or bool(np.isfinite(a).all())


def clip_(a: np.ndarray, max_value: float) -> None:
    """Clip by value, in place: every entry into [-max_value, max_value] (the seed's clip)."""
    # np.clip's values (min(max(a, lo), hi)) by two ufunc calls: np.clip's Python wrapper
    # costs more than both on a small model's step
    np.maximum(a, -max_value, out=a)
    np.minimum(a, max_value, out=a)


class Scratch:
    """Named work buffers reused from call to call, grown only when a batch outgrows them.

    get(name, shape, dtype) returns a C-contiguous array of that shape whose
    contents are left over from earlier calls: callers fill what they read.
    """

    def __init__(self) -> None:
        self._flat: dict[str, np.ndarray] = {}
        self._views: dict[tuple, np.ndarray] = {}
        self._rows: dict[tuple, list] = {}
        self._by_id: dict[int, tuple[str, np.ndarray, list]] = {}  # for rows_of

    def get(self, name: str, shape: tuple[int, ...], dtype, zeros: bool = False) -> np.ndarray:
        """zeros: allocate it zeroed (for buffers the caller keeps zero between calls)."""
        key = (name, shape, np.dtype(dtype))
        view = self._views.get(key)
        if view is None:
            size = int(np.prod(shape))
            flat = self._flat.get(name)
            if flat is None or flat.dtype != key[2] or flat.size < size:
                grown = max(size, 2 * flat.size) if flat is not None and flat.dtype == key[2] \
                    else size
                flat = self._flat[name] = (np.zeros if zeros else np.empty)(grown, dtype=dtype)
                self._views = {k: v for k, v in self._views.items() if k[0] != name}
                self._rows = {k: v for k, v in self._rows.items() if k[0] != name}
                self._by_id = {k: v for k, v in self._by_id.items() if v[0] != name}
            view = self._views[key] = flat[:size].reshape(shape)
        return view

    def rows(self, name: str, shape: tuple[int, ...], dtype) -> tuple[np.ndarray, list]:
        """get(), plus the array's slices along its first axis as a cached list.

        Per-step loops index the list: a list item costs a few times less than
        slicing an array anew, and a step does several.
        """
        view = self.get(name, shape, dtype)
        key = (name, shape, np.dtype(dtype), "rows")
        rows = self._rows.get(key)
        if rows is None or rows[0].base is not view.base:
            rows = self._rows[key] = list(view)
            self._by_id[id(view)] = (name, view, rows)  # holding view keeps its id unique
        return view, rows

    def rows_of(self, a: np.ndarray) -> list:
        """a's slices along its first axis: cached when a is a view rows() returned, else new."""
        entry = self._by_id.get(id(a))
        return entry[2] if entry is not None and entry[1] is a else list(a)

    def ones(self, n: int, dtype) -> np.ndarray:
        """(n,) ones, filled once."""
        key = ("ones", n, np.dtype(dtype))
        a = self._views.get(key)
        if a is None:
            a = self._views[key] = np.ones(n, dtype=dtype)
        return a

    def arange(self, n: int) -> np.ndarray:
        key = ("arange", n, np.dtype(np.intp))
        a = self._views.get(key)
        if a is None:
            a = self._views[key] = np.arange(n)
        return a

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in self._flat.values())


def softmax_xent_(logits: np.ndarray, targets: np.ndarray, mask: np.ndarray, scale: float,
                  scratch: Scratch) -> float:
    """Softmax cross-entropy in place: logits (V, N), one column per position, become dloss/dlogits.

    targets (N,) ints; mask (N,) 0/1. Returns sum(mask * -log softmax[target])
    and leaves (softmax - onehot(target)) * mask * scale in `logits`. Columns,
    not rows: NumPy reduces over the leading axis of a (V, N) array several
    times faster than over the short rows of an (N, V) one.
    """
    V, N = logits.shape
    dt = logits.dtype
    col = scratch.get("xent.col", (N,), dt)
    np.maximum.reduce(logits, axis=0, out=col)
    logits -= col  # shifted: each column's max is 0
    flat = logits.reshape(-1)
    at = scratch.get("xent.at", (N,), np.intp)
    np.multiply(targets, N, out=at)
    at += scratch.arange(N)  # flat positions of the targets
    log_p = flat[at]  # shifted target logits, then their log-probabilities
    np.exp(logits, out=logits)
    np.dot(scratch.ones(V, dt), logits, out=col)  # column sums
    weight = scratch.get("xent.weight", (N,), dt)
    np.multiply(mask, scale, out=weight)
    per_col = scratch.get("xent.per_col", (N,), dt)
    np.divide(weight, col, out=per_col)
    logits *= per_col  # softmax * weight, in one pass
    flat[at] -= weight  # minus onehot(target) * weight
    np.log(col, out=col)
    log_p -= col  # log softmax, with no underflow to log(0)
    return -float(np.dot(log_p, mask))
