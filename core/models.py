"""Mini-batched character models for the `default` preset, and their registry.

Every model offers the same small interface:
  create(vocab_size, hidden, rng, dtype)   a fresh model
  params                                   dict of named arrays (checkpointed), read
                                           afresh on every call: the trainer swaps in
                                           views of one flat buffer (core.packing)
  loss_and_grads(X, Y, mask)               (loss summed over real positions,
                                            gradients of the mean per character)
  start_state(B), step(x, state)           one step at a time, for sampling
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .layers import Scratch, embed_rows, softmax_last, softmax_xent_

Params = dict[str, np.ndarray]

__all__ = ["MODELS", "VanillaRNN", "softmax_last"]


@dataclass
class VanillaRNN:
    """tanh RNN, h_t = tanh(W_xh[x_t] + h_{t-1} W_hh + b_h), logits = h_t W_hy + b_y.

    Weights are stored row-major for batch-first products: W_xh (V, H),
    W_hh (H, H), W_hy (H, V). `params` is read afresh on every call, so
    callers may replace or edit its arrays.

    The batched path keeps its (T, B, .) work arrays in a Scratch between
    calls, runs the output layer as one product over all time steps, looks
    W_xh rows up instead of multiplying one-hot inputs, and steps only the
    recurrence: three NumPy calls per time step forward, three backward.
    """

    params: Params
    scratch: Scratch = field(default_factory=Scratch, init=False, repr=False, compare=False)

    cell = "rnn"

    @classmethod
    def create(cls, vocab_size: int, hidden: int, rng: np.random.Generator,
               dtype=np.float32) -> VanillaRNN:
        V, H = vocab_size, hidden
        # scales chosen by held-out loss on dinos.txt (3 seeds each): a small head and
        # a contractive W_hh start closer to the best point than the textbook 1/sqrt(H)
        p = {
            "W_xh": rng.standard_normal((V, H)) * 0.3,
            "W_hh": rng.standard_normal((H, H)) / np.sqrt(H) * 0.5,
            "b_h": np.zeros(H),
            "W_hy": rng.standard_normal((H, V)) / np.sqrt(H) * 0.3,
            "b_y": np.zeros(V),
        }
        return cls({k: v.astype(dtype) for k, v in p.items()})

    @property
    def hidden(self) -> int:
        return self.params["W_hh"].shape[0]

    def _forward(self, X: np.ndarray) -> np.ndarray:
        """Hidden states Hs (T + 1, B, H), Hs[0] = 0, in the scratch."""
        p, s = self.params, self.scratch
        T, B = X.shape
        H, dt = self.hidden, p["W_hh"].dtype
        Zx = s.get("Zx", (T, B, H), dt)  # input part of each step's pre-activation
        np.take(p["W_xh"], X, axis=0, out=Zx, mode="clip")
        start = X < 0  # the seed's zero input
        if start.any():
            Zx[start] = 0.0
        Zx += p["b_h"]
        Hs, h = s.rows("Hs", (T + 1, B, H), dt)  # h[t + 1] = h_t (B, H), h[0] = 0
        h[0][...] = 0.0
        W_hh = np.ascontiguousarray(p["W_hh"])
        zx = s.rows("Zx", (T, B, H), dt)[1]
        dot, tanh = np.dot, np.tanh
        for t in range(T):
            h_t = h[t + 1]
            dot(h[t], W_hh, out=h_t)
            h_t += zx[t]
            tanh(h_t, out=h_t)
        return Hs

    def _logits(self, Hs: np.ndarray) -> np.ndarray:
        """Logits for all steps at once, transposed: (V, T * B), in the scratch."""
        p = self.params
        T1, B, H = Hs.shape
        V = p["b_y"].shape[0]
        LT = self.scratch.get("logits", (V, (T1 - 1) * B), Hs.dtype)
        np.dot(p["W_hy"].T, Hs[1:].reshape(-1, H).T, out=LT)
        LT += p["b_y"][:, None]
        return LT

    def loss(self, X: np.ndarray, Y: np.ndarray, mask: np.ndarray) -> float:
        """Cross-entropy summed over real positions, forward only (for validation)."""
        LT = self._logits(self._forward(X))
        return softmax_xent_(LT, Y.reshape(-1), mask.reshape(-1).astype(LT.dtype, copy=False),
                             0.0, self.scratch)

    def loss_and_grads(self, X: np.ndarray, Y: np.ndarray, mask: np.ndarray):
        """X, Y: (T, B) ints; mask: (T, B) 0/1. Gradients are of the mean per character."""
        p, s = self.params, self.scratch
        T, B = X.shape
        H, TB = self.hidden, X.size
        Hs = self._forward(X)
        dlT = self._logits(Hs)  # becomes dloss/dlogits, (V, T * B)
        dt = dlT.dtype
        mask = mask.reshape(-1).astype(dt, copy=False)
        loss = softmax_xent_(dlT, Y.reshape(-1), mask, 1.0 / mask.sum(), s)
        ones = s.ones(TB, dt)

        Hout = Hs[1:].reshape(TB, H)
        g = {"W_hy": Hout.T @ dlT.T, "b_y": dlT @ ones}
        dZ, dz = s.rows("dZ", (T, B, H), dt)  # dL/dH from the output layer, then dL/dZ in place
        np.dot(dlT.T, p["W_hy"].T, out=dZ.reshape(TB, H))
        D, d = s.rows("D", (T, B, H), dt)
        np.multiply(Hs[1:], Hs[1:], out=D)
        np.subtract(1.0, D, out=D)  # tanh' = 1 - h^2
        W_hhT = p["W_hh"].T
        dh = s.get("dh", (B, H), dt)  # from step t + 1 back into h_t
        dot = np.dot
        dz[T - 1] *= d[T - 1]
        for t in range(T - 2, -1, -1):
            dot(dz[t + 1], W_hhT, out=dh)
            dz_t = dz[t]
            dz_t += dh
            dz_t *= d[t]
        dZ = dZ.reshape(TB, H)
        g["W_hh"] = Hs[:-1].reshape(TB, H).T @ dZ
        g["b_h"] = ones @ dZ
        g["W_xh"] = _input_grad(X, dZ, p["W_xh"].shape[0], s)
        return loss, g

    def start_state(self, batch: int) -> np.ndarray:
        return np.zeros((batch, self.hidden), dtype=self.params["W_hh"].dtype)

    def step(self, x: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One step for sampling or scoring: x (B,) ints -> (logits (B, V), h)."""
        p = self.params
        h = np.tanh(embed_rows(p["W_xh"], x) + p["b_h"] + h @ p["W_hh"])
        return h @ p["W_hy"] + p["b_y"], h


def _input_grad(X: np.ndarray, dZ: np.ndarray, V: int, scratch: Scratch) -> np.ndarray:
    """dW_xh (V, H): each row of dZ (T * B, H) added into its input's row.

    A one-hot (T * B, V) matrix, kept all zeros between calls, turns the
    scatter into one product: ~10x faster than np.add.at.
    """
    TB = X.size
    onehot = scratch.get("onehot", (TB, V), dZ.dtype, zeros=True)
    x = X.reshape(-1)
    hot = scratch.arange(TB) * V + x
    hot = hot[x >= 0]
    flat = onehot.reshape(-1)
    flat[hot] = 1.0
    try:
        return onehot.T @ dZ
    finally:
        flat[hot] = 0.0


# imported here, below VanillaRNN: the other cells build on core.stacked, which
# never imports this module
from .gru import GRU  # noqa: E402
from .lstm import LSTM  # noqa: E402
from .stacked import Stackable, StackedRNN  # noqa: E402

# each entry: .create(vocab_size, hidden, rng, dtype, layers=1) and (params) -> model
MODELS = {"rnn": Stackable(VanillaRNN, StackedRNN), "gru": GRU, "lstm": LSTM}
