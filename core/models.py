"""Mini-batched character models for the `default` preset, and their registry.

Every model offers the same small interface:
  create(vocab_size, hidden, rng, dtype)   a fresh model
  params                                   dict of named arrays (checkpointed)
  loss_and_grads(X, Y, mask)               (loss summed over real positions,
                                            gradients of the mean per character)
  start_state(B), step(x, state)           one step at a time, for sampling
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.layers import embed_rows, output_grads, scatter_rows, softmax_last

Params = dict[str, np.ndarray]

__all__ = ["MODELS", "VanillaRNN", "softmax_last"]


@dataclass
class VanillaRNN:
    """tanh RNN, h_t = tanh(W_xh[x_t] + h_{t-1} W_hh + b_h), logits = h_t W_hy + b_y.

    Weights are stored row-major for batch-first products: W_xh (V, H),
    W_hh (H, H), W_hy (H, V).
    """

    params: Params

    cell = "rnn"

    @classmethod
    def create(cls, vocab_size: int, hidden: int, rng: np.random.Generator,
               dtype=np.float32) -> VanillaRNN:
        V, H = vocab_size, hidden
        p = {
            "W_xh": rng.standard_normal((V, H)) * 0.1,
            "W_hh": rng.standard_normal((H, H)) / np.sqrt(H) * 0.5,
            "b_h": np.zeros(H),
            "W_hy": rng.standard_normal((H, V)) / np.sqrt(H),
            "b_y": np.zeros(V),
        }
        return cls({k: v.astype(dtype) for k, v in p.items()})

    @property
    def hidden(self) -> int:
        return self.params["W_hh"].shape[0]

    def loss_and_grads(self, X: np.ndarray, Y: np.ndarray, mask: np.ndarray):
        """X, Y: (T, B) ints; mask: (T, B) 0/1. Gradients are of the mean per character."""
        p = self.params
        T, B = X.shape
        H = self.hidden
        n_chars = mask.sum()
        scale = 1.0 / n_chars

        Hs = np.zeros((T + 1, B, H), dtype=p["W_hh"].dtype)  # Hs[0] = h_{-1} = 0
        Z = embed_rows(p["W_xh"], X) + p["b_h"]  # (T, B, H)
        for t in range(T):
            Hs[t + 1] = np.tanh(Z[t] + Hs[t] @ p["W_hh"])
        Hout = Hs[1:]
        P = softmax_last(Hout @ p["W_hy"] + p["b_y"])  # (T, B, V)
        loss, dlogits = output_grads(P, Y, mask, scale)

        g = {}
        g["W_hy"] = Hout.reshape(-1, H).T @ dlogits.reshape(-1, dlogits.shape[-1])
        g["b_y"] = dlogits.sum(axis=(0, 1))
        dH = dlogits @ p["W_hy"].T  # (T, B, H)
        dZ = np.empty_like(dH)
        dh_next = np.zeros((B, H), dtype=dH.dtype)
        for t in range(T - 1, -1, -1):
            dZ[t] = (1.0 - Hout[t] ** 2) * (dH[t] + dh_next)
            dh_next = dZ[t] @ p["W_hh"].T
        g["W_hh"] = Hs[:-1].reshape(-1, H).T @ dZ.reshape(-1, H)
        g["b_h"] = dZ.sum(axis=(0, 1))
        g["W_xh"] = np.zeros_like(p["W_xh"])
        scatter_rows(g["W_xh"], X, dZ)
        return loss, g

    def start_state(self, batch: int) -> np.ndarray:
        return np.zeros((batch, self.hidden), dtype=self.params["W_hh"].dtype)

    def step(self, x: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One step for sampling or scoring: x (B,) ints -> (logits (B, V), h)."""
        p = self.params
        h = np.tanh(embed_rows(p["W_xh"], x) + p["b_h"] + h @ p["W_hh"])
        return h @ p["W_hy"] + p["b_y"], h


MODELS = {"rnn": VanillaRNN}
