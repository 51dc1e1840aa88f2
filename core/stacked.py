"""Recurrent models built from 1 to 3 stacked layers, and what they share.

A model here is: layer 0 reads characters, each further layer reads the hidden
outputs of the layer below, and a softmax head reads the top layer:

  Zx_0 = onehot(x_t) W_x + b      a row of W_x per character (x_t = -1: zeros)
  Zx_l = h^{l-1}_t W_x + b        l >= 1, the layer below's outputs
  h^l_t = cell(Zx_l[t], h^l_{t-1})
  logits_t = h^top_t W_hy + b_y

A cell (GRU, LSTM, tanh) only supplies its recurrence over precomputed input
projections Zx (T, B, G*H), G being its number of gate blocks, fused so that
each time step costs one (B, H) @ (H, G*H) product. Everything else, the input
projections, the stacking and the head, lives here once. Layer 0 reads its
characters as one-hot rows, so every layer's dW_x = input^T dZx is one matrix
product (scattering rows with np.add.at is ~20x slower at H = 256).

Parameter names are the cell's own ("W_x", "W_h", "b", ...) for one layer, and
carry a layer prefix ("l0/W_x", "l1/W_x", ...) for two or more; the head is
always "W_hy" and "b_y". A model rebuilt from saved parameters reads its layer
count from those names.

Training may drop a fraction of the non-recurrent connections (into layers
above the first and into the head; Zaremba et al. 2014), which lets a larger
model train longer before it starts to memorise the names.

For sampling, a model's state is one (B, layers * K * H) array, K = 1 for
cells that carry h and 2 for the LSTM's h and c, so callers can slice,
copy and index it like the vanilla RNN's h.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from .layers import Scratch, output_grads, softmax_last

Params = dict[str, np.ndarray]
Buffers = Callable[[str, tuple[int, ...]], np.ndarray]  # buf(name, shape) -> work array

MAX_LAYERS = 3


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function via tanh: no overflow warnings for large |x| in float32."""
    return 0.5 * np.tanh(0.5 * x) + 0.5


def layer_count(params: Params) -> int:
    """1 for unprefixed names, else the number of "l<i>/" prefixes."""
    prefixes = {k.split("/", 1)[0] for k in params if "/" in k}
    return max(1, len(prefixes))


def one_hot(X: np.ndarray, size: int, dtype) -> np.ndarray:
    """(..., size) rows: 1 at each index of X, all zeros where X is -1."""
    out = np.zeros((*X.shape, size), dtype=dtype)
    np.put_along_axis(out, np.maximum(X, 0)[..., None], 1.0, axis=-1)
    out[X < 0] = 0.0
    return out


def drop(H: np.ndarray, p: float, rng) -> tuple[np.ndarray, np.ndarray | None]:
    """Inverted dropout: (H with a fraction p zeroed and the rest scaled by 1/(1-p), the scale)."""
    if p == 0:
        return H, None
    keep = (rng.random(H.shape, dtype=H.dtype) >= p) * H.dtype.type(1.0 / (1.0 - p))
    return H * keep, keep


def layer_key(layer: int, name: str, layers: int) -> str:
    return name if layers == 1 else f"l{layer}/{name}"


@dataclass
class StackedModel:
    """The shared body of the GRU, the LSTM and the stacked tanh RNN.

    Subclasses set `cell`, `gates` (G), `state_parts` (K) and implement the
    four per-layer methods below; see core/gru.py for a worked example.
    """

    params: Params
    # work arrays kept from call to call (see core.layers.Scratch for why)
    scratch: Scratch = field(default_factory=Scratch, init=False, repr=False, compare=False)

    cell: ClassVar[str]
    gates: ClassVar[int]  # G: gate blocks in W_x (n_in, G*H) and W_h (H, G*H)
    state_parts: ClassVar[int] = 1  # K: (B, H) arrays a layer carries between steps

    # -- what each cell provides ---------------------------------------------
    @classmethod
    def init_layer(cls, n_in: int, hidden: int, rng: np.random.Generator,
                   first: bool) -> Params:
        """A layer's parameters: W_x (n_in, G*H), W_h (H, G*H), b (G*H,), maybe more."""
        raise NotImplementedError

    def forward_layer(self, p: Params, Zx: np.ndarray, buf: Buffers) -> tuple[np.ndarray, object]:
        """Zx (T, B, G*H) -> (hidden outputs (T, B, H), cache for backward_layer).

        buf(name, shape) gives the layer's work arrays; their contents are stale.
        """
        raise NotImplementedError

    def backward_layer(self, p: Params, cache, dHout: np.ndarray,
                       buf: Buffers) -> tuple[np.ndarray, Params]:
        """dL/dHout (T, B, H) -> (dL/dZx (T, B, G*H), grads of W_h and any extras)."""
        raise NotImplementedError

    def step_layer(self, p: Params, zx: np.ndarray,
                   state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """zx (B, G*H), state (B, K*H) -> (h (B, H), new state (B, K*H))."""
        raise NotImplementedError

    # -- building ------------------------------------------------------------
    @classmethod
    def create(cls, vocab_size: int, hidden: int, rng: np.random.Generator,
               dtype=np.float32, layers: int = 1) -> StackedModel:
        if not 1 <= layers <= MAX_LAYERS:
            raise ValueError(f"layers must be between 1 and {MAX_LAYERS}")
        V, H = vocab_size, hidden
        p = {}
        for layer in range(layers):
            n_in = V if layer == 0 else H
            for k, v in cls.init_layer(n_in, H, rng, first=layer == 0).items():
                p[layer_key(layer, k, layers)] = v
        p["W_hy"] = rng.standard_normal((H, V)) / np.sqrt(H)
        p["b_y"] = np.zeros(V)
        return cls({k: np.asarray(v, dtype=dtype) for k, v in p.items()})

    @property
    def layers(self) -> int:
        return layer_count(self.params)

    @property
    def hidden(self) -> int:
        return self.params["W_hy"].shape[0]

    @property
    def dtype(self) -> np.dtype:
        return self.params["W_hy"].dtype

    def buffers(self, layer: int) -> Buffers:
        """buf(name, shape): one layer's work array `name`, reused by the next call."""
        dtype, get = self.dtype, self.scratch.get
        return lambda name, shape: get(f"l{layer}/{name}", shape, dtype)

    def layer_params(self, layer: int) -> Params:
        """One layer's arrays under their unprefixed names (the same arrays, not copies)."""
        L = self.layers
        if L == 1:
            return {k: v for k, v in self.params.items() if k not in ("W_hy", "b_y")}
        prefix = f"l{layer}/"
        return {k[len(prefix):]: v for k, v in self.params.items() if k.startswith(prefix)}

    # -- training and scoring ------------------------------------------------
    def _forward(self, X: np.ndarray, dropout: float = 0.0, rng=None):
        """Per layer: (its input, its cache, its input's dropout scale or None);
        the head's input (T, B, H) and its dropout scale."""
        T, B = X.shape
        inp = one_hot(X, self.params["b_y"].shape[0], self.dtype)  # (T, B, V)
        tape = []
        for layer in range(self.layers):
            p, buf = self.layer_params(layer), self.buffers(layer)
            keep = None
            if layer > 0:
                inp, keep = drop(inp, dropout, rng)
            Zx = buf("Zx", (T, B, p["W_x"].shape[1]))
            np.matmul(inp, p["W_x"], out=Zx)  # (T, B, n_in) @ (n_in, G*H)
            Zx += p["b"]
            Hout, cache = self.forward_layer(p, Zx, buf)  # (T, B, H)
            tape.append((inp, cache, keep))
            inp = Hout
        top, keep = drop(inp, dropout, rng)
        return tape, top, keep

    def logits(self, X: np.ndarray) -> np.ndarray:
        """Next-character logits (T, B, V) for inputs X (T, B)."""
        _, Htop, _ = self._forward(X)
        return Htop @ self.params["W_hy"] + self.params["b_y"]

    def loss(self, X: np.ndarray, Y: np.ndarray, mask: np.ndarray) -> float:
        """Cross-entropy summed over real positions, forward only (for validation)."""
        z = self.logits(X)  # (T, B, V)
        z = z - z.max(axis=-1, keepdims=True)
        log_norm = np.log(np.exp(z).sum(axis=-1))  # (T, B)
        picked = np.take_along_axis(z, Y[..., None], axis=-1)[..., 0]
        return float(((log_norm - picked) * mask).sum())

    def loss_and_grads(self, X: np.ndarray, Y: np.ndarray, mask: np.ndarray,
                       dropout: float = 0.0, rng: np.random.Generator | None = None):
        """X, Y: (T, B) ints; mask: (T, B) 0/1. Gradients are of the mean per character.

        dropout: the fraction of the connections between layers (and into the
        head) to drop, fresh from `rng` on every call; never the recurrent ones.
        """
        p = self.params
        T, B = X.shape
        H = self.hidden
        tape, Htop, keep_top = self._forward(X, dropout, rng)
        P = softmax_last(Htop @ p["W_hy"] + p["b_y"])  # (T, B, V)
        loss, dlogits = output_grads(P, Y, mask, 1.0 / mask.sum())

        g = {
            "W_hy": Htop.reshape(-1, H).T @ dlogits.reshape(T * B, -1),
            "b_y": dlogits.sum(axis=(0, 1)),
        }
        dH = dlogits @ p["W_hy"].T  # (T, B, H)
        if keep_top is not None:
            dH *= keep_top
        L = self.layers
        for layer in range(L - 1, -1, -1):
            lp = self.layer_params(layer)
            inp, cache, keep = tape[layer]
            dZx, lg = self.backward_layer(lp, cache, dH, self.buffers(layer))  # (T, B, G*H)
            lg["b"] = dZx.sum(axis=(0, 1))
            lg["W_x"] = inp.reshape(T * B, -1).T @ dZx.reshape(T * B, -1)
            if layer > 0:
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

    def step(self, x: np.ndarray, state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """x (B,) ints (-1: zero input) -> (logits (B, V), next state)."""
        w = self.state_parts * self.hidden
        new_state = np.empty_like(state)
        inp = one_hot(x, self.params["b_y"].shape[0], self.dtype)  # (B, V)
        for layer in range(self.layers):
            p = self.layer_params(layer)
            zx = inp @ p["W_x"] + p["b"]  # (B, G*H)
            cols = slice(layer * w, (layer + 1) * w)
            inp, layer_state = self.step_layer(p, zx, state[:, cols])  # (B, H), (B, K*H)
            new_state[:, cols] = layer_state
        return inp @ self.params["W_hy"] + self.params["b_y"], new_state


@dataclass
class StackedRNN(StackedModel):
    """tanh RNN layers, h_t = tanh(Zx_t + h_{t-1} W_h), for stacks of two or more.

    One layer stays core.models.VanillaRNN (its own tuned code); this is the
    same cell in the stacked layout, with dense inputs above layer 0.
    """

    cell = "rnn"
    gates = 1

    @classmethod
    def init_layer(cls, n_in, hidden, rng, first):
        H = hidden
        return {
            "W_x": rng.standard_normal((n_in, H)) * (0.1 if first else 1.0 / np.sqrt(n_in)),
            "W_h": rng.standard_normal((H, H)) / np.sqrt(H) * 0.5,
            "b": np.zeros(H),
        }

    def forward_layer(self, p, Zx, buf):
        T, B, H = Zx.shape
        Hs = buf("Hs", (T + 1, B, H))
        Hs[0] = 0.0  # h_{-1}
        for t in range(T):
            Hs[t + 1] = np.tanh(Zx[t] + Hs[t] @ p["W_h"])
        return Hs[1:], Hs

    def backward_layer(self, p, Hs, dHout, buf):
        T, B, H = dHout.shape
        Hout = Hs[1:]
        dZ = buf("dZ", (T, B, H))
        dh_next = np.zeros((B, H), dtype=dHout.dtype)
        for t in range(T - 1, -1, -1):
            dZ[t] = (1.0 - Hout[t] ** 2) * (dHout[t] + dh_next)
            dh_next = dZ[t] @ p["W_h"].T
        return dZ, {"W_h": Hs[:-1].reshape(-1, H).T @ dZ.reshape(-1, H)}

    def step_layer(self, p, zx, state):
        h = np.tanh(zx + state @ p["W_h"])
        return h, h


@dataclass(frozen=True)
class Stackable:
    """A registry entry that picks a tuned one-layer model or a stacked one.

    Acts like a model class: .create(V, H, rng, dtype, layers) and (params),
    which tells the two apart by the "l<i>/" prefixes of saved names.
    """

    one_layer: type
    stacked: type[StackedModel]

    @property
    def cell(self) -> str:
        return self.stacked.cell

    def create(self, vocab_size: int, hidden: int, rng: np.random.Generator,
               dtype=np.float32, layers: int = 1):
        if layers == 1:
            return self.one_layer.create(vocab_size, hidden, rng, dtype)
        return self.stacked.create(vocab_size, hidden, rng, dtype, layers)

    def __call__(self, params: Params):
        return (self.one_layer if layer_count(params) == 1 else self.stacked)(params)
