"""Is training healthy? Per layer, the diagnostics of makemore's lecture 3, off the hot path.

Every K steps the caller lets a HealthProbe watch one step: before it, the
probe copies the weights and notes which names the step will train on
(nothing else: the step itself runs untouched, so a run with the probe is bit
for bit the run without it); after it, the probe reads what the step did:

- gradient norm: the L2 (Frobenius) norm of each weight matrix's gradient as
  the step applied it (after scaling to a typical batch and the clip), from
  Trainer.last_grads().
- update ratio: log10(std(W_after - W_before) / std(W_before)) per weight
  matrix, the update-to-data ratio. About -3 (1e-3) is the usual guide: far
  below, the matrix hardly learns; far above, it changes too fast to settle.
  It measures the real update (Adam's, clipped), not lr * grad.
- saturation: the share of a layer's units in the flat part of their
  squashing function during this step's forward pass (real positions only),
  where almost no gradient flows back through them. A tanh unit is saturated
  when |v| > 0.97 (its slope 1 - v^2 is below 6% of its greatest). A sigmoid
  gate s is saturated when |2s - 1| > 0.97, i.e. s < 0.015 or s > 0.985: the
  same 6% of its greatest slope, since 2 sigmoid(x) - 1 = tanh(x / 2).
  rnn: the hidden units h. gru: every gate value r, z (sigmoid) and the
  candidate n (tanh). lstm: the gates i, f, o (sigmoid) and the candidate g
  (tanh); the cell's tanh(c) is not counted. The forward pass is recomputed
  in float64 with the weights the step saw (core.models.reference), without
  dropout; for classic, from the hidden state the step carried in.

Weights are the matrices (names starting with W); biases are left out, as
makemore plots them. Labels name the parameters: "W_h layer 1", "W_hy (head)",
and for classic the seed's "Waa layer 1", "Wya (head)".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .batching import EncodedNames
from .models import MODELS, classic, reference
from .models.batched import StackedModel
from .models.ops import one_hot

SATURATED = 0.97  # |tanh| (or |2 sigmoid - 1|) above this: saturated


@dataclass(frozen=True)
class HealthSample:
    """One watched step's figures; arrays are per weight matrix or per layer, in label order."""

    iteration: int  # the step's 0-based iteration (StepResult.iteration)
    weights: tuple[str, ...]  # labels of the weight matrices
    grad_norm: np.ndarray  # (len(weights),)
    update_ratio: np.ndarray  # (len(weights),) log10; NaN where nothing moved
    layers: tuple[str, ...]  # "layer 1", ...
    saturation: np.ndarray  # (len(layers),) share of saturated units, 0 to 1


def is_weight(name: str) -> bool:
    return name.rsplit("/", 1)[-1].startswith("W")


def weight_label(name: str) -> str:
    """"l1/W_h" -> "W_h layer 2"; "W_x" -> "W_x layer 1"; "W_hy" or "Wya" -> "... (head)"."""
    prefix, _, base = name.rpartition("/")
    if base in ("W_hy", "Wya"):
        return f"{base} (head)"
    layer = int(prefix[1:]) + 1 if prefix else 1
    return f"{base} layer {layer}"


def due(iteration: int, every: int) -> bool:
    """Whether the step of this 0-based iteration is watched when sampling every `every`."""
    return every > 0 and iteration % every == 0


def saturated(values: np.ndarray, kind: str) -> np.ndarray:
    """Boolean mask of saturated units; kind is "tanh" or "sigmoid"."""
    v = values if kind == "tanh" else 2.0 * values - 1.0
    return np.abs(v) > SATURATED


# the squashed values in each cell's reference cache, by their position in it
_UNITS = {
    "rnn": ((2, "tanh"),),  # (x, h_prev, h)
    "gru": ((2, "sigmoid"), (3, "sigmoid"), (4, "tanh")),  # (x, h_prev, r, z, n, an)
    "lstm": ((3, "sigmoid"), (4, "sigmoid"), (5, "sigmoid"), (6, "tanh")),  # (.., i, f, o, g, tc)
}


def saturation(cell: str, params: dict[str, np.ndarray], X: np.ndarray, mask: np.ndarray,
               start: list[tuple[np.ndarray, ...]] | None = None) -> np.ndarray:
    """Per layer, the share of saturated units over the real positions of a (T, B) batch.

    params: reference names and layout; start: each layer's state before t = 0 (zeros).
    """
    forward = reference.CELLS[cell][0]
    L = reference.layer_count(params)
    T, B = X.shape
    V, H = params["b_y"].shape[0], params["W_hy"].shape[0]
    layers = [reference.layer_params(params, layer) for layer in range(L)]
    states = list(start) if start is not None else [
        reference.zero_state(cell, B, H) for _ in range(L)]
    hits, units = np.zeros(L), np.zeros(L)
    inputs = one_hot(X, V, np.float64)  # (T, B, V): one call, not one per step
    for t in range(T):
        real = mask[t] > 0  # (B,)
        inp = inputs[t]
        for layer in range(L):
            states[layer], cache = forward(layers[layer], inp, states[layer])
            for pos, kind in _UNITS[cell]:
                values = cache[pos][real]
                hits[layer] += np.count_nonzero(saturated(values, kind))
                units[layer] += values.size
            inp = states[layer][0]
    return np.divide(hits, units, out=np.zeros(L), where=units > 0)


class HealthProbe:
    """Watches chosen steps of one Trainer: before_step(), the step, then after_step().

    Costs nothing on the steps it does not watch: the caller decides (see due()).
    """

    def __init__(self, trainer) -> None:
        self.trainer = trainer
        self._before: dict[str, np.ndarray] | None = None  # the weights the step starts from
        self._batch: tuple | None = None  # what the step trains on, for the forward pass
        self._model: StackedModel | None = None  # the saturation's forward pass (batched)
        self._labels: np.ndarray | None = None

    def before_step(self) -> None:
        """Copy the weights and note the step's names (call right before Trainer.step())."""
        t = self.trainer
        self._before = {k: v.copy() for k, v in t.params.items()}
        st, cfg = t.state, t.config
        if cfg.preset == "classic":
            row = st.order[st.iteration % len(st.order)]
            self._batch = ([t.corpus.names[row]], st.a_prev.copy())
            self._labels = None
        else:
            rows = st.order[st.cursor : st.cursor + cfg.batch_size]
            self._batch = ([t.corpus.names[i] for i in rows], None)
            # a labelled corpus: each name's label, which the model reads with it
            self._labels = None if t.corpus.name_labels is None else t.corpus.name_labels[rows]

    def after_step(self, iteration: int) -> HealthSample:
        """The figures of the step just taken (its 0-based `iteration`), from before_step's copy."""
        if self._before is None:
            raise ValueError("after_step() needs a before_step() before the step")
        t, before = self.trainer, self._before
        grads = t.last_grads()
        names = [k for k in t.params if is_weight(k)]
        norms = np.array([np.linalg.norm(grads[k].astype(np.float64)) for k in names])
        ratios = np.array([_log_ratio(t.params[k], before[k]) for k in names])
        sat = self._saturation(before)
        self._before = self._batch = None
        return HealthSample(iteration, tuple(weight_label(k) for k in names), norms, ratios,
                            tuple(f"layer {i + 1}" for i in range(len(sat))), sat)

    def _saturation(self, before: dict[str, np.ndarray]) -> np.ndarray:
        t = self.trainer
        (names, carried), labels = self._batch, self._labels
        batch = EncodedNames.encode(t.vocab, names)
        X, _, mask = batch.pad_batch(np.arange(len(names)), np.float64)
        if t.config.preset == "classic":  # one name: the plain float64 pass is quick enough
            params = classic.to_reference(before)
            return saturation("rnn", params, X, mask, start=[(carried.T,)])
        if self._model is None:  # its own work buffers: the trainer's are left alone
            self._model = MODELS[t.config.cell](before)
        self._model.params = before
        return batched_saturation(self._model, X, mask, labels)


def batched_saturation(model: StackedModel, X: np.ndarray, mask: np.ndarray,
                       labels: np.ndarray | None = None) -> np.ndarray:
    """saturation() by the batched model's own forward pass (its dtype): the same shares,
    at the cost of a training step's forward pass (tests check it against saturation()).
    labels: a labelled model's label of each name."""
    tape, _, _ = model._forward(X, labels=labels)  # core.models.batched's per-layer caches
    real = mask > 0  # (T, B)
    units = _BATCHED_UNITS[model.cell]
    out = np.zeros(len(tape))
    for layer, (_, cache, _) in enumerate(tape):
        hits = total = 0
        for pick, kind in units:
            values = pick(cache)[real]  # (n, width)
            hits += np.count_nonzero(saturated(values, kind))
            total += values.size
        out[layer] = hits / total if total else 0.0
    return out


def _blocks(G: np.ndarray, gates: int, first: int, last: int) -> np.ndarray:
    """Blocks first..last-1 of fused gate values (T, B, gates * H)."""
    H = G.shape[-1] // gates
    return G[..., first * H : last * H]


# the squashed values in each batched cell's forward cache (core.models.batched)
_BATCHED_UNITS = {
    "rnn": ((lambda Hs: Hs[1:], "tanh"),),  # the cache is Hs: h_{-1} .. h_{T-1}
    "gru": ((lambda c: _blocks(c[1], 3, 0, 2), "sigmoid"),  # (Hs, G = [r | z | n], An)
            (lambda c: _blocks(c[1], 3, 2, 3), "tanh")),
    "lstm": ((lambda c: _blocks(c[2], 4, 0, 3), "sigmoid"),  # (Hs, Cs, G = [i | f | o | g], TC)
             (lambda c: _blocks(c[2], 4, 3, 4), "tanh")),
}


def _log_ratio(after: np.ndarray, before: np.ndarray) -> float:
    """log10(std(after - before) / std(before)), in float64; NaN when either std is 0."""
    b = before.astype(np.float64)
    step = np.std(after.astype(np.float64) - b)
    scale = np.std(b)
    if step <= 0 or scale <= 0:
        return float("nan")
    return float(np.log10(step / scale))
