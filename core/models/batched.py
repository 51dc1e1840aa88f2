"""Mini-batched models of 1 to 3 stacked layers: the `default` preset's fast path.

The same numbers as core.models.reference (same parameter names, same
initialisation), computed for a whole (T, B) batch at once:

  Zx_0 = W_x[x_t] + b            layer 0 looks rows up (x_t = -1: zeros)
  Zx_l = h^{l-1}_t W_x + b       l >= 1, the layer below's outputs
  h^l_t = cell(Zx_l[t], h^l_{t-1})
  logits_t = h^top_t W_hy + b_y

A cell (RNN, GRU, LSTM below) only supplies its
recurrence over the precomputed input projections Zx (T, B, G*H), G being its
number of gate blocks, fused so that each time step costs one (B, H) @ (H, G*H)
product. The input projections, the stacking, the head and its softmax
cross-entropy live here once, with their work arrays kept in a Scratch.

Training may drop a fraction of the non-recurrent connections (into layers
above the first and into the head; Zaremba et al. 2014), which lets a larger
model train longer before it starts to memorise the names.

A labelled model (names by kind) adds each name's label row of label_emb (L, G*H)
to layer 0's Zx at every step (see core.models.reference); a blend adds the
weighted mix of rows. Conditioned binds a label (or blend) to a model, so that
sampling, beam search and scoring use it as they use any model.

For sampling, a model's state is one (B, layers * K * H) array, K = 1 for
cells that carry h and 2 for the LSTM's h and c, so callers can slice, copy and
index it whatever the cell.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from . import reference
from .ops import Scratch, sigmoid, softmax_xent_
from .reference import LABEL_EMB, MAX_LAYERS, layer_count, layer_key

Params = dict[str, np.ndarray]

__all__ = ["GRU", "LSTM", "MAX_LAYERS", "RNN", "Conditioned", "StackedModel", "drop"]


def drop(H: np.ndarray, p: float, rng) -> tuple[np.ndarray, np.ndarray | None]:
    """Inverted dropout: (H with a fraction p zeroed and the rest scaled by 1/(1-p), the scale)."""
    if p == 0:
        return H, None
    keep = (rng.random(H.shape, dtype=H.dtype) >= p) * H.dtype.type(1.0 / (1.0 - p))
    return H * keep, keep


@dataclass
class Buffers:
    """One layer's work arrays in the model's Scratch; contents are stale until written."""

    scratch: Scratch
    layer: int
    dtype: np.dtype

    def __call__(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        return self.scratch.get(f"l{self.layer}/{name}", shape, self.dtype)

    def rows(self, name: str, shape: tuple[int, ...]) -> tuple[np.ndarray, list]:
        return self.scratch.rows(f"l{self.layer}/{name}", shape, self.dtype)


@dataclass
class StackedModel:
    """The body every cell shares. A subclass sets `cell` and implements three methods.

    `params` is read afresh on every call: the trainer swaps in views of one
    flat buffer (core.packing), and callers may replace or edit its arrays.
    """

    params: Params
    scratch: Scratch = field(default_factory=Scratch, init=False, repr=False, compare=False)

    cell: ClassVar[str]

    # -- what each cell provides ---------------------------------------------
    def forward_layer(self, p: Params, Zx: np.ndarray, buf: Buffers) -> tuple[np.ndarray, object]:
        """Zx (T, B, G*H) -> (hidden outputs (T, B, H), cache for backward_layer)."""
        raise NotImplementedError

    def backward_layer(self, p: Params, cache, dHout: np.ndarray,
                       buf: Buffers) -> tuple[np.ndarray, Params]:
        """dL/dHout (T, B, H) -> (dL/dZx (T, B, G*H), grads of W_h and any extras).

        dHout is a work array the layer may overwrite.
        """
        raise NotImplementedError

    def step_layer(self, p: Params, zx: np.ndarray,
                   state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """zx (B, G*H), state (B, K*H) -> (h (B, H), new state (B, K*H))."""
        raise NotImplementedError

    # -- building ------------------------------------------------------------
    @classmethod
    def create(cls, vocab_size: int, hidden: int, rng: np.random.Generator,
               dtype=np.float32, layers: int = 1, labels: int = 0) -> StackedModel:
        p = reference.init_params(cls.cell, vocab_size, hidden, layers, rng, labels)
        return cls({k: np.asarray(v, dtype=dtype) for k, v in p.items()})

    @property
    def state_parts(self) -> int:
        return reference.STATE_PARTS[self.cell]

    @property
    def layers(self) -> int:
        return layer_count(self.params)

    @property
    def hidden(self) -> int:
        return self.params["W_hy"].shape[0]

    @property
    def dtype(self) -> np.dtype:
        return self.params["W_hy"].dtype

    def layer_params(self, layer: int) -> Params:
        return reference.layer_params(self.params, layer)

    @property
    def n_labels(self) -> int:
        """Labels the model was trained on (0: a plain model)."""
        E = self.params.get(LABEL_EMB)
        return 0 if E is None else E.shape[0]

    def _label_bias(self, labels, batch: int) -> np.ndarray | None:
        """(B, G*H) label rows (or blends of them) for layer 0; None for a plain model.

        labels: (B,) indices, (B, L) weights or one (L,) blend for every row.
        """
        if not self.n_labels:
            if labels is not None:
                raise ValueError("this model has no labels")
            return None
        if labels is None:
            raise ValueError("a labelled model needs a label for each name")
        E = self.params[LABEL_EMB]
        labels = np.asarray(labels)
        if labels.ndim == 1 and labels.dtype.kind in "iu":
            return E[labels]
        w = np.broadcast_to(labels.astype(E.dtype, copy=False), (batch, E.shape[0]))
        return w @ E

    def _label_weights(self, labels, batch: int) -> np.ndarray:
        """(B, L) weights: one-hot rows for indices (for the embedding's gradient)."""
        labels = np.asarray(labels)
        dtype = self.params[LABEL_EMB].dtype
        if labels.ndim == 1 and labels.dtype.kind in "iu":
            return np.eye(self.n_labels, dtype=dtype)[labels]
        return np.broadcast_to(labels.astype(dtype, copy=False), (batch, self.n_labels))

    # -- training and scoring ------------------------------------------------
    def _input_projection(self, layer: int, p: Params, inp: np.ndarray,
                          buf: Buffers) -> np.ndarray:
        """Zx = inp W_x + b (T, B, G*H); layer 0's inp is the (T, B) indices (-1: zeros)."""
        W_x, b = p["W_x"], p["b"]
        Zx = buf.rows("Zx", (*inp.shape[:2], W_x.shape[1]))[0]  # rows: for forward_layer
        if layer == 0:  # rows of a table: what a one-hot product gives, without the product
            V = W_x.shape[0]
            table = buf("table", (V + 1, W_x.shape[1]))  # W_x + b, then b alone for -1
            np.add(W_x, b, out=table[:V])  # the same sums as adding b to each row taken
            table[V] = b
            np.take(table, inp, axis=0, out=Zx, mode="wrap")  # -1 wraps to row V
        else:
            np.matmul(inp, W_x, out=Zx)
            Zx += b
        return Zx

    def _layer_views(self) -> list[Params]:
        """Every layer's layer_params, read once per call (a step uses them twice)."""
        params = self.params
        return [reference.layer_params(params, layer) for layer in range(layer_count(params))]

    def _forward(self, X: np.ndarray, dropout: float = 0.0, rng=None, labels=None,
                 layers: list[Params] | None = None):
        """Per layer: (its input, its cache, its input's dropout scale or None);
        the head's input (T, B, H) and its dropout scale. layers: _layer_views(), if read."""
        inp, tape = X, []
        bias = self._label_bias(labels, X.shape[1])
        scratch, dt = self.scratch, self.dtype
        for layer, p in enumerate(self._layer_views() if layers is None else layers):
            buf = Buffers(scratch, layer, dt)
            keep = None
            if layer > 0 and dropout:
                inp, keep = drop(inp, dropout, rng)
            Zx = self._input_projection(layer, p, inp, buf)
            if layer == 0 and bias is not None:
                Zx += bias  # (B, G*H) at every step
            Hout, cache = self.forward_layer(p, Zx, buf)  # (T, B, H)
            tape.append((inp, cache, keep))
            inp = Hout
        if not dropout:
            return tape, inp, None
        top, keep = drop(inp, dropout, rng)
        return tape, top, keep

    def _head_logits(self, Htop: np.ndarray) -> np.ndarray:
        """Logits for all steps at once, transposed: (V, T * B), in the scratch.

        Transposed because the cross-entropy reduces over columns (see softmax_xent_).
        """
        p = self.params
        T, B, H = Htop.shape
        LT = self.scratch.get("logits", (p["b_y"].shape[0], T * B), self.dtype)
        np.dot(p["W_hy"].T, Htop.reshape(-1, H).T, out=LT)
        LT += p["b_y"][:, None]
        return LT

    def logits(self, X: np.ndarray, labels=None) -> np.ndarray:
        """Next-character logits (T, B, V) for inputs X (T, B)."""
        _, Htop, _ = self._forward(X, labels=labels)
        return Htop @ self.params["W_hy"] + self.params["b_y"]

    def loss(self, X: np.ndarray, Y: np.ndarray, mask: np.ndarray, labels=None) -> float:
        """Cross-entropy summed over real positions, forward only (for validation)."""
        LT = self._head_logits(self._forward(X, labels=labels)[1])
        return softmax_xent_(LT, Y.reshape(-1), mask.reshape(-1).astype(LT.dtype, copy=False),
                             0.0, self.scratch)

    def loss_and_grads(self, X: np.ndarray, Y: np.ndarray, mask: np.ndarray,
                       dropout: float = 0.0, rng: np.random.Generator | None = None,
                       labels=None):
        """X, Y: (T, B) ints; mask: (T, B) 0/1. Gradients are of the mean per character.

        dropout: the fraction of the connections between layers (and into the
        head) to drop, fresh from `rng` on every call; never the recurrent ones.
        labels: a labelled model's (B,) label indices or (B, L) blend weights.
        """
        p, s = self.params, self.scratch
        T, B = X.shape
        H, TB = self.hidden, X.size
        views = self._layer_views()
        tape, Htop, keep_top = self._forward(X, dropout, rng, labels, views)
        dlT = self._head_logits(Htop)  # becomes dloss/dlogits, (V, T * B)
        dt = dlT.dtype
        m = mask.reshape(-1).astype(dt, copy=False)
        loss = softmax_xent_(dlT, Y.reshape(-1), m, 1.0 / m.sum(), s)
        ones = s.ones(TB, dt)

        g = {"W_hy": Htop.reshape(TB, H).T @ dlT.T, "b_y": dlT @ ones}
        dH = s.rows("dH", (T, B, H), dt)[0]  # into the top layer's outputs; rows for the cell
        np.dot(dlT.T, p["W_hy"].T, out=dH.reshape(TB, H))
        if keep_top is not None:
            dH *= keep_top
        L = len(views)
        for layer in range(L - 1, -1, -1):
            lp = views[layer]
            inp, cache, keep = tape[layer]
            buf = Buffers(s, layer, dt)
            dZx, lg = self.backward_layer(lp, cache, dH, buf)  # (T, B, G*H)
            dZ = dZx.reshape(TB, -1)
            lg["b"] = ones @ dZ
            if layer == 0:
                lg["W_x"] = _input_grad(inp, dZ, lp["W_x"].shape[0], s)
                if self.n_labels:  # each name's label row took its Zx gradient at every step
                    g[LABEL_EMB] = self._label_weights(labels, B).T @ dZx.sum(axis=0)
            else:
                lg["W_x"] = inp.reshape(TB, -1).T @ dZ
                dH = dZx @ lp["W_x"].T  # (T, B, H): into the layer below
                if keep is not None:
                    dH *= keep
            for k, v in lg.items():
                g[layer_key(layer, k, L)] = v
        return loss, g

    # -- one step at a time, for sampling --------------------------------------
    def start_state(self, batch: int) -> np.ndarray:
        width = self.layers * self.state_parts * self.hidden
        return np.zeros((batch, width), dtype=self.dtype)

    def step(self, x: np.ndarray, state: np.ndarray,
             labels=None) -> tuple[np.ndarray, np.ndarray]:
        """x (B,) ints (-1: zero input) -> (logits (B, V), next state)."""
        bias = self._label_bias(labels, len(x))
        w = self.state_parts * self.hidden
        new_state = np.empty_like(state)
        inp = x
        for layer in range(self.layers):
            p = self.layer_params(layer)
            if layer == 0:
                zx = p["W_x"][np.maximum(x, 0)]  # (B, G*H)
                zx[x < 0] = 0.0
                zx += p["b"]
                if bias is not None:
                    zx += bias
            else:
                zx = inp @ p["W_x"] + p["b"]
            cols = slice(layer * w, (layer + 1) * w)
            inp, layer_state = self.step_layer(p, zx, state[:, cols])  # (B, H), (B, K*H)
            new_state[:, cols] = layer_state
        return inp @ self.params["W_hy"] + self.params["b_y"], new_state


@dataclass
class Conditioned:
    """A labelled model bound to one label or blend: weights (L,) over its labels, summing
    to 1. It offers what sampling, beam search and scoring call (start_state, step, logits,
    loss); anything else is the model's."""

    model: StackedModel
    weights: np.ndarray

    def start_state(self, batch: int) -> np.ndarray:
        return self.model.start_state(batch)

    def step(self, x: np.ndarray, state: np.ndarray):
        return self.model.step(x, state, self.weights)

    def logits(self, X: np.ndarray) -> np.ndarray:
        return self.model.logits(X, self.weights)

    def loss(self, X: np.ndarray, Y: np.ndarray, mask: np.ndarray) -> float:
        return self.model.loss(X, Y, mask, self.weights)

    def __getattr__(self, name: str):
        if name == "model":  # not set yet (a copy being made): no recursion
            raise AttributeError(name)
        return getattr(self.model, name)


def _input_grad(X: np.ndarray, dZ: np.ndarray, V: int, scratch: Scratch) -> np.ndarray:
    """dW_x (V, G*H) of layer 0: each row of dZ (T * B, G*H) added into its input's row.

    A one-hot (T * B, V + 1) matrix, kept all zeros between calls, turns the
    scatter into one product, many times faster than np.add.at. Column V is a
    sink: the flat position of a -1 (zero input) at row i is row i - 1's column V
    (the last row's for i = 0), so no filter is needed; the product's row V is dropped.
    """
    TB = X.size
    onehot = scratch.get("onehot", (TB, V + 1), dZ.dtype, zeros=True)
    hot = scratch.arange(TB) * (V + 1) + X.reshape(-1)
    flat = onehot.reshape(-1)
    flat[hot] = 1.0
    try:
        return (onehot.T @ dZ)[:V]
    finally:
        flat[hot] = 0.0


@dataclass
class RNN(StackedModel):
    """tanh layers, h_t = tanh(Zx_t + h_{t-1} W_h): three NumPy calls per step each way."""

    cell = "rnn"

    def forward_layer(self, p, Zx, buf):
        T, B, H = Zx.shape
        Hs, h = buf.rows("Hs", (T + 1, B, H))  # h[t + 1] = h_t (B, H), h[0] = 0
        h[0][...] = 0.0
        W_h = np.ascontiguousarray(p["W_h"])
        zx = buf.scratch.rows_of(Zx)  # the rows _input_projection's buffer already has
        dot, tanh = np.dot, np.tanh
        for t in range(T):
            h_t = h[t + 1]
            dot(h[t], W_h, out=h_t)
            h_t += zx[t]
            tanh(h_t, out=h_t)
        return Hs[1:], Hs

    def backward_layer(self, p, Hs, dHout, buf):
        T, B, H = dHout.shape
        dZ, dz = dHout, buf.scratch.rows_of(dHout)  # dL/dH becomes dL/dZ in place
        D, d = buf.rows("D", (T, B, H))
        np.multiply(Hs[1:], Hs[1:], out=D)
        np.subtract(1.0, D, out=D)  # tanh' = 1 - h^2
        # a C-ordered copy: a product with a transposed view costs ~1.6x as much per call
        W_hT = buf("W_hT", (H, H))
        W_hT[...] = p["W_h"].T
        dh = buf("dh", (B, H))  # from step t + 1 back into h_t
        dot = np.dot
        dz[T - 1] *= d[T - 1]
        for t in range(T - 2, -1, -1):
            dot(dz[t + 1], W_hT, out=dh)
            dz_t = dz[t]
            dz_t += dh
            dz_t *= d[t]
        return dZ, {"W_h": Hs[:-1].reshape(-1, H).T @ dZ.reshape(-1, H)}

    def step_layer(self, p, zx, state):
        h = np.tanh(zx + state @ p["W_h"])
        return h, h


@dataclass
class GRU(StackedModel):
    """A mini-batched GRU (the cuDNN/PyTorch form, which needs one h-product per step).

    Per step, with gate blocks [r | z | n] fused in W_x (n_in, 3H) and W_h (H, 3H):

      a   = h_{t-1} W_h                          (B, 3H)
      r   = sigmoid(Zx_r + a_r)                  reset gate
      z   = sigmoid(Zx_z + a_z)                  update gate: how much of h_{t-1} to keep
      n   = tanh(Zx_n + r * (a_n + b_hn))        candidate
      h_t = (1 - z) * n + z * h_{t-1}
    """

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
        W_hT = np.ascontiguousarray(p["W_h"].T)  # (3H, H), C-ordered: faster products
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


@dataclass
class LSTM(StackedModel):
    """A mini-batched LSTM.

    Per step, with gate blocks [i | f | o | g] fused in W_x (n_in, 4H) and W_h (H, 4H):

      a   = Zx_t + h_{t-1} W_h                   (B, 4H)
      i, f, o = sigmoid(a_i), sigmoid(a_f), sigmoid(a_o)
      g   = tanh(a_g)
      c_t = f * c_{t-1} + i * g
      h_t = o * tanh(c_t)

    The sampling state holds [h | c] per layer.
    """

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
        W_hT = np.ascontiguousarray(p["W_h"].T)  # (4H, H), C-ordered: faster products
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
