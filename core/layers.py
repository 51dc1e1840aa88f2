"""Building blocks shared by the mini-batched models.

A batch is a (T, B) block of names, padded at the end. Inputs use -1 for the
zero vector the seed feeds at t = 0; padding positions carry mask 0. Padding
sits after each name's end, so it never reaches a real position's hidden state
and contributes nothing to the loss or the gradients.
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
