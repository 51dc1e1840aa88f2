"""Undoing an optimizer step that made a weight (or the optimizer's state) infinite or NaN.

A finite loss and finite gradients do not make a finite update: with `--lr 1e39`
Adam's step overflows float32 and writes inf into every weight. Checking and
copying the weights at every step would cost a scan and a copy each; instead
the guard keeps upper bounds on |weight| and on the optimizer's slots, grown
step by step by the most one update can add (gradients are clipped to
[-clip, clip] first):

  sgd:      |dw| <= lr * g               (g = clip + decay * |w|: L2 joins the clipped gradient)
  adagrad:  |dw| <= lr * max(1, g)   (g / sqrt(mem) <= 1, and lr * g must not overflow)
            mem  <= mem + g^2
  adam:     |dw| <= step * max|m| / eps + lr * decay * |w|  (sqrt(v) + eps >= eps; step = the
            bias-corrected lr; the decoupled decay)
            |m|  <= max(|m|, clip),  v <= max(v, clip^2)

While every bound stays below MAX_MAGNITUDE, no value can overflow and the step
runs as it always did. Only when a bound gets close are the buffers measured
again (one scan each) and, if still close, copied before the step and checked
after it: a result that is not finite, or beyond MAX_MAGNITUDE, is then undone.

MAX_MAGNITUDE is also the largest value a checkpoint may hold (core/checkpoint.py):
what training keeps, a file keeps, and sampling from it cannot overflow float32
(a logit is at most (hidden + 1) x 1e30 <= 4.1e33, and / the lowest temperature
0.001, 4.1e36, below float32's 3.4e38; a pre-activation sums at most 2 x hidden + 1).
"""

from __future__ import annotations

import numpy as np

from .optim import Optimizer

MAX_MAGNITUDE = 1e30  # the largest |value| of a weight or optimizer slot: see above


class StepGuard:
    """Call before() ahead of an update and after() once it is done."""

    def __init__(self, weights: np.ndarray, optimizer: Optimizer | None = None) -> None:
        self.weights = weights  # the flat buffer every parameter is a view of
        self.optimizer = optimizer  # None: the classic path's plain SGD
        self.limit = min(MAX_MAGNITUDE, float(np.finfo(weights.dtype).max) / 4)
        self._bounds: dict[str, float] | None = None  # "w", and the optimizer's slot kinds
        self._saved: tuple | None = None  # (weights, state, t) while a risky step runs
        self.copies = 0  # risky steps so far (for tests and benchmarks)
        self.kind = "sgd" if optimizer is None else optimizer.kind

    def before(self, lr: float, clip: float, decay: float = 0.0) -> None:
        b = self._bounds
        if b is not None and self.optimizer is None:  # the classic step: three float operations
            w = b["w"] + lr * clip
            if w < self.limit:
                b["w"] = w
                return
        nxt = self._grown(b, lr, clip, decay) if b is not None else None
        if nxt is None or not self._safe(nxt):
            nxt = self._grown(self._measure(), lr, clip, decay)
        if self._safe(nxt):
            self._bounds, self._saved = nxt, None
        else:
            self._bounds, self._saved = None, self._snapshot()
            self.copies += 1

    def after(self) -> bool:
        """True when the step may stand; False when it was undone (everything as before):
        a value became NaN, infinite or larger than the limit."""
        if self._saved is None:
            return True
        # _largest is NaN for NaN: the comparison is False then too
        ok = _largest(self.weights) <= self.limit and all(
            _largest(s) <= self.limit for s in self._state().values())
        if not ok:
            self._restore()
        self._saved = None
        return ok

    # -- bounds ------------------------------------------------------------------
    def _grown(self, b: dict[str, float], lr: float, clip: float,
               decay: float = 0.0) -> dict[str, float]:
        """The bounds after one more update."""
        kind = self.kind
        if kind == "sgd":
            return {"w": b["w"] + lr * (clip + decay * b["w"])}
        if kind == "adagrad":
            g = clip + decay * b["w"]
            return {"w": b["w"] + lr * max(1.0, g), "mem": b["mem"] + g * g}
        opt = self.optimizer
        step = opt.adam_step(lr, opt.t + 1)  # the update's own (it has not counted it yet)
        m, v = max(b["m"], clip), max(b["v"], clip * clip)
        return {"w": b["w"] * (1.0 + lr * decay) + step * m / opt.eps, "m": m, "v": v}

    def _safe(self, bounds: dict[str, float]) -> bool:
        limit = self.limit
        for x in bounds.values():  # a loop, not all(...): this runs every step
            if not x < limit:  # NaN and inf too
                return False
        return True

    def _measure(self) -> dict[str, float]:
        """The bounds as they are now: the largest magnitude in each buffer."""
        bounds = {"w": _largest(self.weights)}
        slots = {"adagrad": ("mem",), "adam": ("m", "v")}.get(self.kind, ())
        state = self._state()
        for slot in slots:
            bounds[slot] = max((_largest(a) for k, a in state.items()
                                if k.startswith(slot + "/")), default=0.0)
        return bounds

    # -- the copy, for risky steps only -----------------------------------------------
    def _state(self) -> dict[str, np.ndarray]:
        return {} if self.optimizer is None else self.optimizer.state

    def _snapshot(self) -> tuple:
        t = None if self.optimizer is None else self.optimizer.t
        return (self.weights.copy(), {k: a.copy() for k, a in self._state().items()}, t)

    def _restore(self) -> None:
        weights, state, t = self._saved
        self.weights[...] = weights
        for k, a in list(self._state().items()):
            if k in state:
                a[...] = state[k]
            else:  # a slot the step created: gone again, as before the optimizer's first step
                del self.optimizer.state[k]
        if self.optimizer is not None:
            self.optimizer.t = t


def _largest(a: np.ndarray) -> float:
    return float(np.abs(a).max()) if a.size else 0.0
