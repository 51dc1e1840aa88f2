"""A mini-batched GRU (the cuDNN/PyTorch form, which needs one h-product per step).

Per step, with gate blocks [r | z | n] fused in W_x (n_in, 3H) and W_h (H, 3H):

  a   = h_{t-1} W_h                          (B, 3H)
  r   = sigmoid(Zx_r + a_r)                  reset gate
  z   = sigmoid(Zx_z + a_z)                  update gate: how much of h_{t-1} to keep
  n   = tanh(Zx_n + r * (a_n + b_hn))        candidate
  h_t = (1 - z) * n + z * h_{t-1}

Zx = x W_x + b comes precomputed for all steps (see core.models.batched).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .batched import StackedModel
from .ops import sigmoid


@dataclass
class GRU(StackedModel):
    cell = "gru"

    def forward_layer(self, p, Zx, buf):
        T, B, H3 = Zx.shape
        H = H3 // 3
        W_h, b_hn = p["W_h"], p["b_hn"]
        Hs = buf("Hs", (T + 1, B, H))
        Hs[0] = 0.0  # h_{-1}
        G = buf("G", (T, B, 3 * H))  # gate values [r | z | n]
        An = buf("An", (T, B, H))  # a_n + b_hn, for r's gradient
        for t in range(T):
            h = Hs[t]  # (B, H)
            a = h @ W_h  # (B, 3H)
            rz = G[t, :, : 2 * H]
            rz[...] = sigmoid(Zx[t, :, : 2 * H] + a[:, : 2 * H])
            r, z = rz[:, :H], rz[:, H:]
            An[t] = a[:, 2 * H :] + b_hn
            n = G[t, :, 2 * H :]
            n[...] = np.tanh(Zx[t, :, 2 * H :] + r * An[t])
            Hs[t + 1] = n + z * (h - n)  # (1 - z) n + z h
        return Hs[1:], (Hs, G, An)

    def backward_layer(self, p, cache, dHout, buf):
        Hs, G, An = cache
        T, B, H = dHout.shape
        W_hT = p["W_h"].T  # (3H, H)
        dZx = buf("dZx", (T, B, 3 * H))  # d pre-activations [r | z | n]
        dA = buf("dA", (T, B, 3 * H))  # d a = d(h W_h); differs from dZx in the n block
        dh_next = np.zeros((B, H), dtype=dHout.dtype)
        for t in range(T - 1, -1, -1):
            h = Hs[t]
            r, z, n = G[t, :, :H], G[t, :, H : 2 * H], G[t, :, 2 * H :]
            dh = dHout[t] + dh_next  # (B, H)
            dn_pre = dh * (1.0 - z) * (1.0 - n * n)  # through n = tanh(.)
            dr = dn_pre * An[t]
            dZx[t, :, :H] = dr * r * (1.0 - r)
            dZx[t, :, H : 2 * H] = dh * (h - n) * z * (1.0 - z)
            dZx[t, :, 2 * H :] = dn_pre
            dA[t, :, : 2 * H] = dZx[t, :, : 2 * H]
            dA[t, :, 2 * H :] = dn_pre * r
            dh_next = dh * z + dA[t] @ W_hT
        grads = {
            "W_h": Hs[:-1].reshape(-1, H).T @ dA.reshape(-1, 3 * H),
            "b_hn": dA[:, :, 2 * H :].sum(axis=(0, 1)),
        }
        return dZx, grads

    def step_layer(self, p, zx, h):
        H = h.shape[1]
        a = h @ p["W_h"]  # (B, 3H)
        rz = sigmoid(zx[:, : 2 * H] + a[:, : 2 * H])
        r, z = rz[:, :H], rz[:, H:]
        n = np.tanh(zx[:, 2 * H :] + r * (a[:, 2 * H :] + p["b_hn"]))
        h = n + z * (h - n)
        return h, h
