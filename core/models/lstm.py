"""A mini-batched LSTM.

Per step, with gate blocks [i | f | o | g] fused in W_x (n_in, 4H) and W_h (H, 4H):

  a   = Zx_t + h_{t-1} W_h                   (B, 4H)
  i, f, o = sigmoid(a_i), sigmoid(a_f), sigmoid(a_o)
  g   = tanh(a_g)
  c_t = f * c_{t-1} + i * g
  h_t = o * tanh(c_t)

Zx = x W_x + b comes precomputed for all steps (see core.models.batched). The forget
bias starts at 1 so that early on the cell remembers rather than forgets.
The sampling state holds [h | c] per layer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .batched import StackedModel
from .ops import sigmoid


@dataclass
class LSTM(StackedModel):
    cell = "lstm"

    def forward_layer(self, p, Zx, buf):
        T, B, H4 = Zx.shape
        H = H4 // 4
        W_h = p["W_h"]
        Hs, Cs = buf("Hs", (T + 1, B, H)), buf("Cs", (T + 1, B, H))
        Hs[0] = Cs[0] = 0.0  # h_{-1}, c_{-1}
        G = buf("G", (T, B, 4 * H))  # gate values [i | f | o | g]
        TC = buf("TC", (T, B, H))  # tanh(c_t)
        for t in range(T):
            a = Zx[t] + Hs[t] @ W_h  # (B, 4H)
            G[t, :, : 3 * H] = sigmoid(a[:, : 3 * H])
            G[t, :, 3 * H :] = np.tanh(a[:, 3 * H :])
            i, f, o, g = (G[t, :, k * H : (k + 1) * H] for k in range(4))
            Cs[t + 1] = f * Cs[t] + i * g
            TC[t] = np.tanh(Cs[t + 1])
            Hs[t + 1] = o * TC[t]
        return Hs[1:], (Hs, Cs, G, TC)

    def backward_layer(self, p, cache, dHout, buf):
        Hs, Cs, G, TC = cache
        T, B, H = dHout.shape
        W_hT = p["W_h"].T  # (4H, H)
        dA = buf("dA", (T, B, 4 * H))  # d pre-activations [i | f | o | g]
        dh_next = np.zeros((B, H), dtype=dHout.dtype)
        dc_next = np.zeros((B, H), dtype=dHout.dtype)
        for t in range(T - 1, -1, -1):
            i, f, o, g = (G[t, :, k * H : (k + 1) * H] for k in range(4))
            tc = TC[t]
            dh = dHout[t] + dh_next
            dc = dc_next + dh * o * (1.0 - tc * tc)
            dA[t, :, :H] = dc * g * i * (1.0 - i)
            dA[t, :, H : 2 * H] = dc * Cs[t] * f * (1.0 - f)
            dA[t, :, 2 * H : 3 * H] = dh * tc * o * (1.0 - o)
            dA[t, :, 3 * H :] = dc * i * (1.0 - g * g)
            dc_next = dc * f
            dh_next = dA[t] @ W_hT
        return dA, {"W_h": Hs[:-1].reshape(-1, H).T @ dA.reshape(-1, 4 * H)}

    def step_layer(self, p, zx, state):
        H = state.shape[1] // 2
        h, c = state[:, :H], state[:, H:]
        a = zx + h @ p["W_h"]  # (B, 4H)
        i, f, o = (sigmoid(a[:, k * H : (k + 1) * H]) for k in range(3))
        g = np.tanh(a[:, 3 * H :])
        c = f * c + i * g
        h = o * np.tanh(c)
        return h, np.concatenate([h, c], axis=1)
