"""Optimizers with their state kept per parameter name (so checkpoints can hold it)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

Params = dict[str, np.ndarray]


@dataclass
class Optimizer:
    """SGD, Adagrad (min-char-rnn) or Adam, updating parameters in place.

    It holds no learning rate: each update is given its step's rate (core.schedule.rate of
    the run's settings), so the settings are its one home.
    """

    kind: str = "adam"
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    t: int = 0  # updates done, for Adam's bias correction
    state: dict[str, np.ndarray] = field(default_factory=dict)  # "m/Wax", "v/Wax", ...
    # the flat slots, whose per-name views are the entries of `state`
    _flat: dict[str, np.ndarray] = field(default_factory=dict, init=False, repr=False,
                                         compare=False)

    KINDS = ("sgd", "adagrad", "adam")

    def __post_init__(self) -> None:
        if self.kind not in self.KINDS:
            kinds = ", ".join(self.KINDS)
            raise ValueError(f"unknown optimizer {self.kind!r} (choose from {kinds})")

    def update_packed(self, pack, lr: float, weight_decay: float = 0.0) -> None:
        """One step at rate `lr` on a core.packing.ParamPack's parameters, in place, from its
        gradients (which an sgd or adagrad weight decay changes: they are scratch).

        weight_decay: adam decays the weights apart from the gradient (AdamW:
        w -= lr * weight_decay * w); sgd and adagrad add weight_decay * w to the gradient (L2).
        One NumPy call per operation for the whole model; the state stays keyed
        per parameter name ("m/W_x", ...: views into flat slots), as checkpoints
        store it.
        """
        self.t += 1
        p, g = pack.flat, pack.grad
        num = self._flat_slot("num", pack, keep=False)  # scratch for the step
        den = self._flat_slot("den", pack, keep=False)
        if weight_decay and self.kind != "adam":
            np.multiply(p, weight_decay, out=num)
            g += num
        if self.kind == "sgd":
            np.multiply(g, lr, out=num)
        elif self.kind == "adagrad":
            mem = self._flat_slot("mem", pack)
            np.multiply(g, g, out=num)
            mem += num
            np.add(mem, self.eps, out=den)
            np.sqrt(den, out=den)
            np.multiply(g, lr, out=num)
            num /= den
        else:
            b1, b2 = self.beta1, self.beta2
            step = self.adam_step(lr, self.t)
            m, v = self._flat_slot("m", pack), self._flat_slot("v", pack)
            m *= b1
            np.multiply(g, 1.0 - b1, out=num)
            m += num
            v *= b2
            np.multiply(g, g, out=num)
            num *= 1.0 - b2
            v += num
            np.sqrt(v, out=den)
            den += self.eps
            np.multiply(m, step, out=num)
            num /= den
            if weight_decay:  # decoupled: from the weights before this step
                den[...] = p
                den *= lr * weight_decay
                num += den
        p -= num

    def adam_step(self, lr: float, t: int) -> float:
        """lr with Adam's bias correction for update number t (1 first) folded in (a Python
        float: float32 stays float32). The one formula: core.guard bounds the next update
        with it."""
        b1, b2 = self.beta1, self.beta2
        return float(lr * math.sqrt(1.0 - b2**t) / (1.0 - b1**t))

    def _flat_slot(self, kind: str, pack, keep: bool = True) -> np.ndarray:
        """A flat buffer laid out like pack.flat; kept slots are the state's entries, as views."""
        flat = self._flat.get(kind)
        if flat is not None and flat.shape == pack.flat.shape and flat.dtype == pack.flat.dtype:
            entry = self.state.get(f"{kind}/{pack.names[0]}") if keep else None
            if not keep or (entry is not None and entry.base is flat):
                return flat
        flat = self._flat[kind] = np.zeros_like(pack.flat)
        if keep:
            for k, view in pack.views(flat).items():
                saved = self.state.get(f"{kind}/{k}")
                if saved is not None:
                    view[...] = saved
                self.state[f"{kind}/{k}"] = view
        return flat
