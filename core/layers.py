"""Building blocks shared by the mini-batched models.

A batch is a (T, B) block of names, padded at the end. Inputs use -1 for the
zero vector the seed feeds at t = 0; padding positions carry mask 0. Padding
sits after each name's end, so it never reaches a real position's hidden state
and contributes nothing to the loss or the gradients.

Two kinds of helpers: plain ones that return new arrays (embed_rows,
scatter_rows, output_grads, softmax_last), and the in-place ones the fast paths
use (Scratch, softmax_xent_), which write into preallocated buffers: a
training step that allocates its (T, B, H) temporaries afresh makes glibc hand
memory back and fault it in again every step, which cost up to 40%.
"""

from __future__ import annotations

import numpy as np


def softmax_last(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def embed_rows(W_in: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Rows of W_in (V, H) for each index in X, zeros where X is -1."""
    out = W_in[np.maximum(X, 0)]
    out[X < 0] = 0.0
    return out


def scatter_rows(dW_in: np.ndarray, X: np.ndarray, dZ: np.ndarray) -> None:
    """The transpose of embed_rows: add dZ[t, b] into dW_in[X[t, b]]."""
    keep = X >= 0
    np.add.at(dW_in, X[keep], dZ[keep])


def output_grads(P: np.ndarray, Y: np.ndarray, mask: np.ndarray, scale: float):
    """Cross-entropy: (loss summed over real positions, dlogits (T, B, V))."""
    T, B = Y.shape
    t_idx, b_idx = np.indices((T, B))
    picked = P[t_idx, b_idx, Y]
    loss = -(np.log(picked) * mask).sum()
    dlogits = P
    dlogits[t_idx, b_idx, Y] -= 1.0
    dlogits *= (mask * scale)[..., None]
    return float(loss), dlogits


class Scratch:
    """Named work buffers reused from call to call, grown only when a batch outgrows them.

    get(name, shape, dtype) returns a C-contiguous array of that shape whose
    contents are left over from earlier calls: callers fill what they read.
    """

    def __init__(self) -> None:
        self._flat: dict[str, np.ndarray] = {}
        self._views: dict[tuple, np.ndarray] = {}
        self._rows: dict[tuple, list] = {}

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
        return view, rows

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
    """In place: logits (V, N), one column per position, become dloss/dlogits.

    targets (N,) ints; mask (N,) 0/1. Returns sum(mask * -log softmax[target])
    and leaves (softmax - onehot(target)) * mask * scale in `logits`. Columns,
    not rows: NumPy reduces over the leading axis of a (V, N) array several
    times faster than over the 27-wide rows of an (N, V) one.
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
