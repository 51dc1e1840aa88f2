"""Optimizers with their state kept per parameter name (so checkpoints can hold it)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

Params = dict[str, np.ndarray]


@dataclass
class Optimizer:
    """SGD, Adagrad (min-char-rnn) or Adam, updating parameters in place."""

    kind: str = "adam"
    lr: float = 0.01
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    t: int = 0  # updates done, for Adam's bias correction
    state: dict[str, np.ndarray] = field(default_factory=dict)  # "m/Wax", "v/Wax", ...

    KINDS = ("sgd", "adagrad", "adam")

    def __post_init__(self) -> None:
        if self.kind not in self.KINDS:
            kinds = ", ".join(self.KINDS)
            raise ValueError(f"unknown optimizer {self.kind!r} (choose from {kinds})")

    def _slot(self, name: str, like: np.ndarray) -> np.ndarray:
        slot = self.state.get(name)
        if slot is None:
            slot = self.state[name] = np.zeros_like(like)
        return slot

    def update(self, params: Params, grads: Params) -> None:
        self.t += 1
        lr = self.lr
        if self.kind == "sgd":
            for k, g in grads.items():
                params[k] -= lr * g
        elif self.kind == "adagrad":
            for k, g in grads.items():
                mem = self._slot("mem/" + k, g)
                mem += g * g
                params[k] -= lr * g / np.sqrt(mem + self.eps)
        else:
            b1, b2 = self.beta1, self.beta2
            # bias correction folded into the step size
            step = lr * np.sqrt(1.0 - b2**self.t) / (1.0 - b1**self.t)
            for k, g in grads.items():
                m = self._slot("m/" + k, g)
                v = self._slot("v/" + k, g)
                m *= b1
                m += (1.0 - b1) * g
                v *= b2
                v += (1.0 - b2) * (g * g)
                params[k] -= step * m / (np.sqrt(v) + self.eps)
