"""The math: the definition of every model, rnn, gru and lstm, written out plainly in float64.

(Of the three references, this is the math; dinogui/bench/seed.py is the seed's
loop, which classic equals bit for bit; tests/plain_rnn.py the sampler's yardstick.)

This module is the math; the other modules in core/models are fast ways of
computing the same numbers, and tests/test_models.py checks each of them
against this one (loss, every gradient, a few training steps), and this one
against finite differences. Nothing here is tuned: one time step at a time,
one gate at a time, no buffers reused, in the spirit of min-char-rnn.

Shapes: V characters, H hidden units, T time steps, B names side by side.
  X (T, B)     input indices; -1 is the start input (a zero vector, as in the seed)
  Y (T, B)     target indices: the next letter, then 0 (the end symbol "\\n")
  mask (T, B)  1 on a name's positions, 0 on the padding after its end

A model is 1 to 3 layers and a softmax head. Layer 0 reads one-hot
characters, layer l > 0 reads the hidden outputs of layer l - 1:

  rnn   h_t = tanh(x_t W_x + h_{t-1} W_h + b)
  gru   r = sigmoid(x W_x_r + h W_h_r + b_r)        gate blocks [r | z | n]
        z = sigmoid(x W_x_z + h W_h_z + b_z)
        n = tanh(x W_x_n + b_n + r * (h W_h_n + b_hn))
        h_t = (1 - z) * n + z * h_{t-1}
  lstm  [i | f | o | g] = x W_x + h W_h + b, then sigmoid (i, f, o) and tanh (g)
        c_t = f * c_{t-1} + i * g;  h_t = o * tanh(c_t)
  head  p_t = softmax(h_t W_hy + b_y);  loss = -sum over real positions of log p_t[y_t]

Parameter names, shared by every batched path and by checkpoints: per layer
W_x (n_in, G*H), W_h (H, G*H), b (G*H,) and, for the gru, b_hn (H,); with two
or more layers they carry a prefix ("l0/W_x", "l1/W_x", ...). The head is
W_hy (H, V) and b_y (V,). A labelled model (names by kind, L labels) has one more,
label_emb (L, G*H): the label's one-hot (or a blend's weights) read by layer 0 at every
step beside the character, as if W_x had L more rows:

  layer 0 input  [one_hot(x_t) | w],  weights [W_x ; label_emb]

so each label adds its own bias to the first layer's pre-activations, for every cell.
The classic preset stores the one-layer rnn under
the seed's names and column layout (see core.models.classic).
"""

from __future__ import annotations

import numpy as np

from .ops import one_hot, sigmoid, softmax

Params = dict[str, np.ndarray]
State = tuple[np.ndarray, ...]  # (h,) or, for the lstm, (h, c): each (B, H)

MAX_LAYERS = 3
GATES = {"rnn": 1, "gru": 3, "lstm": 4}  # G: gate blocks in W_x and W_h
STATE_PARTS = {"rnn": 1, "gru": 1, "lstm": 2}
LABEL_EMB = "label_emb"  # (L, G*H): a labelled model's per-label bias on layer 0


def label_weights(labels: np.ndarray, n_labels: int) -> np.ndarray:
    """(B, L) weights from (B,) label indices (one-hot) or as given when already (B, L)."""
    labels = np.asarray(labels)
    if labels.ndim == 2:
        return labels.astype(np.float64)
    return np.eye(n_labels)[labels]


# -- names and initialisation ----------------------------------------------------------
def layer_key(layer: int, name: str, layers: int) -> str:
    return name if layers == 1 else f"l{layer}/{name}"


def layer_count(params: Params) -> int:
    """1 for unprefixed names, else the number of "l<i>/" prefixes."""
    return max(1, len({k.split("/", 1)[0] for k in params if "/" in k}))


def layer_params(params: Params, layer: int) -> Params:
    """One layer's arrays under their unprefixed names (the same arrays, not copies)."""
    if layer_count(params) == 1:
        return {k: v for k, v in params.items() if k not in ("W_hy", "b_y", LABEL_EMB)}
    prefix = f"l{layer}/"
    return {k[len(prefix):]: v for k, v in params.items() if k.startswith(prefix)}


def init_params(cell: str, vocab_size: int, hidden: int, layers: int,
                rng: np.random.Generator, labels: int = 0) -> Params:
    """Fresh float64 parameters, drawn layer by layer (W_x, then W_h), then the head.

    Standard deviations: W_h 1/sqrt(H) (the rnn's half that, so it starts
    contractive), W_x 1/sqrt(n_in) above layer 0 and 0.1 for the characters,
    W_hy 1/sqrt(H). The one-layer rnn (the default preset) has its own scales,
    chosen by held-out loss on the dinosaur names: characters at 0.3 and a head
    at 0.3/sqrt(H) start it nearer its best point. Biases start at 0, except
    the lstm's forget gate at 1, so that early on the cell remembers.
    """
    if not 1 <= layers <= MAX_LAYERS:
        raise ValueError(f"layers must be between 1 and {MAX_LAYERS}")
    V, H, G = vocab_size, hidden, GATES[cell]
    one_layer_rnn = cell == "rnn" and layers == 1
    p: Params = {}
    for layer in range(layers):
        n_in = V if layer == 0 else H
        x_scale = (0.3 if one_layer_rnn else 0.1) if layer == 0 else 1.0 / np.sqrt(n_in)
        h_scale = (0.5 if cell == "rnn" else 1.0) / np.sqrt(H)
        lp = {"W_x": rng.standard_normal((n_in, G * H)) * x_scale,
              "W_h": rng.standard_normal((H, G * H)) * h_scale,
              "b": np.zeros(G * H)}
        if cell == "gru":
            lp["b_hn"] = np.zeros(H)  # inside r * (...): not redundant with b
        if cell == "lstm":
            lp["b"][H : 2 * H] = 1.0
        p.update({layer_key(layer, k, layers): v for k, v in lp.items()})
    p["W_hy"] = rng.standard_normal((H, V)) * ((0.3 if one_layer_rnn else 1.0) / np.sqrt(H))
    p["b_y"] = np.zeros(V)
    if labels:  # drawn last, so an unlabelled model's draws are as they always were
        p[LABEL_EMB] = rng.standard_normal((labels, G * H)) * (0.3 if one_layer_rnn else 0.1)
    return p


# -- one time step of each cell, forward and backward -----------------------------------
# forward: (p, x (B, n_in), state) -> (new state, cache)
# backward: (p, dstate, cache) -> (dx (B, n_in), dstate for the step before, grads)
def rnn_forward(p: Params, x: np.ndarray, state: State):
    (h_prev,) = state
    h = np.tanh(x @ p["W_x"] + h_prev @ p["W_h"] + p["b"])  # (B, H)
    return (h,), (x, h_prev, h)


def rnn_backward(p: Params, dstate: State, cache):
    (dh,) = dstate
    x, h_prev, h = cache
    dz = dh * (1.0 - h * h)  # through tanh, (B, H)
    grads = {"W_x": x.T @ dz, "W_h": h_prev.T @ dz, "b": dz.sum(axis=0)}
    return dz @ p["W_x"].T, (dz @ p["W_h"].T,), grads


def gru_forward(p: Params, x: np.ndarray, state: State):
    (h_prev,) = state
    H = h_prev.shape[1]
    zx = x @ p["W_x"] + p["b"]  # (B, 3H)
    a = h_prev @ p["W_h"]  # (B, 3H)
    r = sigmoid(zx[:, :H] + a[:, :H])
    z = sigmoid(zx[:, H : 2 * H] + a[:, H : 2 * H])
    an = a[:, 2 * H :] + p["b_hn"]
    n = np.tanh(zx[:, 2 * H :] + r * an)
    h = (1.0 - z) * n + z * h_prev
    return (h,), (x, h_prev, r, z, n, an)


def gru_backward(p: Params, dstate: State, cache):
    (dh,) = dstate
    x, h_prev, r, z, n, an = cache
    dn = dh * (1.0 - z) * (1.0 - n * n)  # into n's pre-activation
    dr = dn * an * r * (1.0 - r)
    dz = dh * (h_prev - n) * z * (1.0 - z)
    dzx = np.concatenate([dr, dz, dn], axis=1)  # d(x W_x + b), (B, 3H)
    da = np.concatenate([dr, dz, dn * r], axis=1)  # d(h_prev W_h), (B, 3H)
    grads = {"W_x": x.T @ dzx, "W_h": h_prev.T @ da, "b": dzx.sum(axis=0),
             "b_hn": (dn * r).sum(axis=0)}
    dh_prev = dh * z + da @ p["W_h"].T
    return dzx @ p["W_x"].T, (dh_prev,), grads


def lstm_forward(p: Params, x: np.ndarray, state: State):
    h_prev, c_prev = state
    H = h_prev.shape[1]
    a = x @ p["W_x"] + h_prev @ p["W_h"] + p["b"]  # (B, 4H)
    i, f, o = sigmoid(a[:, :H]), sigmoid(a[:, H : 2 * H]), sigmoid(a[:, 2 * H : 3 * H])
    g = np.tanh(a[:, 3 * H :])
    c = f * c_prev + i * g
    tc = np.tanh(c)
    h = o * tc
    return (h, c), (x, h_prev, c_prev, i, f, o, g, tc)


def lstm_backward(p: Params, dstate: State, cache):
    dh, dc = dstate
    x, h_prev, c_prev, i, f, o, g, tc = cache
    dc = dc + dh * o * (1.0 - tc * tc)
    da = np.concatenate([dc * g * i * (1.0 - i),  # input gate
                         dc * c_prev * f * (1.0 - f),  # forget gate
                         dh * tc * o * (1.0 - o),  # output gate
                         dc * i * (1.0 - g * g)], axis=1)  # candidate, (B, 4H)
    grads = {"W_x": x.T @ da, "W_h": h_prev.T @ da, "b": da.sum(axis=0)}
    return da @ p["W_x"].T, (da @ p["W_h"].T, dc * f), grads


CELLS = {"rnn": (rnn_forward, rnn_backward), "gru": (gru_forward, gru_backward),
         "lstm": (lstm_forward, lstm_backward)}


# -- a whole batch of names ------------------------------------------------------------
def zero_state(cell: str, batch: int, hidden: int) -> State:
    return tuple(np.zeros((batch, hidden)) for _ in range(STATE_PARTS[cell]))


def loss_and_grads(cell: str, params: Params, X: np.ndarray, Y: np.ndarray, mask: np.ndarray,
                   start: list[State] | None = None, labels: np.ndarray | None = None):
    """Forward and backward through a batch: (loss, grads, end states).

    loss: -log p of every real position's target, summed; grads: its gradient
    for every parameter (the sum, not the mean). start: each layer's state
    before t = 0 (zeros by default; the classic preset carries one from the
    name before). end states: each layer's state after the last step.
    labels: a labelled model's (B,) label indices or (B, n_labels) blend weights.
    """
    forward, backward = CELLS[cell]
    L = layer_count(params)
    T, B = X.shape
    V, H = params["b_y"].shape[0], params["W_hy"].shape[0]
    layers = [layer_params(params, layer) for layer in range(L)]
    w = None
    if LABEL_EMB in params:  # layer 0 reads [one-hot | label weights] through [W_x ; E]
        if labels is None:
            raise ValueError("a labelled model needs each name's label")
        w = label_weights(labels, params[LABEL_EMB].shape[0])
        layers[0] = {**layers[0], "W_x": np.vstack([layers[0]["W_x"], params[LABEL_EMB]])}
    states = list(start) if start is not None else [zero_state(cell, B, H) for _ in range(L)]

    caches = [[None] * T for _ in range(L)]  # caches[layer][t]
    tops = np.zeros((T, B, H))  # the top layer's h_t, which the head reads
    loss, dlogits = 0.0, np.zeros((T, B, V))
    for t in range(T):
        inp = one_hot(X[t], V, np.float64)  # (B, V); zeros for the start input
        if w is not None:
            inp = np.hstack([inp, w])
        for layer in range(L):
            states[layer], caches[layer][t] = forward(layers[layer], inp, states[layer])
            inp = states[layer][0]  # h feeds the layer above
        tops[t] = inp
        p = softmax(inp @ params["W_hy"] + params["b_y"])  # (B, V)
        picked = p[np.arange(B), Y[t]]
        loss -= float((np.log(picked) * mask[t]).sum())
        dlogits[t] = p
        dlogits[t, np.arange(B), Y[t]] -= 1.0  # d(-log p[y]) / dlogits = p - onehot(y)
        dlogits[t] *= mask[t][:, None]

    grads = {k: np.zeros_like(v) for k, v in params.items()}
    dstates = [zero_state(cell, B, H) for _ in range(L)]  # from step t + 1 back into t
    for t in range(T - 1, -1, -1):
        grads["W_hy"] += tops[t].T @ dlogits[t]
        grads["b_y"] += dlogits[t].sum(axis=0)
        dh = dlogits[t] @ params["W_hy"].T  # (B, H) into the top layer's output
        for layer in range(L - 1, -1, -1):
            dstate = (dstates[layer][0] + dh, *dstates[layer][1:])
            dh, dstates[layer], lg = backward(layers[layer], dstate, caches[layer][t])
            for k, g in lg.items():
                if w is not None and layer == 0 and k == "W_x":  # split [W_x ; E]'s gradient
                    grads[LABEL_EMB] += g[V:]
                    g = g[:V]
                grads[layer_key(layer, k, L)] += g
    return loss, grads, states

