"""The hybrid: a network's next-character distribution mixed with the count model's.

  p(w | h) = lam * p_net(w | h) + (1 - lam) * p_count(w | h)

The held-out loss -mean log p is convex in lam (a log of a function linear in
lam), so its minimum over [0, 1] is where its derivative changes sign, found by
bisection to machine precision. The ends are candidates too, so the mixture is
never worse on the names it was fitted on than the count model (lam = 0) or
the network (lam = 1) alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..batching import EncodedNames
from ..validation import EVAL_BATCH
from .ops import log_softmax

BISECTIONS = 60  # halvings of [0, 1]: below float64's resolution of lam


def mixture_slope(lam: float, p_net: np.ndarray, p_count: np.ndarray) -> float:
    """d/d lam of the summed loss -sum log(lam p_net + (1 - lam) p_count)."""
    diff = p_net - p_count
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = diff / (p_count + lam * diff)
    return float(-np.where(diff == 0, 0.0, terms).sum())


def fit_weight(p_net: np.ndarray, p_count: np.ndarray) -> float:
    """lam in [0, 1] minimising the loss of the mixture, from each part's probability
    of the character that came, at every held-out position."""
    p_net, p_count = np.asarray(p_net, np.float64), np.asarray(p_count, np.float64)
    if p_net.shape != p_count.shape or p_net.size == 0:
        raise ValueError("the two models' probabilities must be for the same positions")
    if mixture_slope(0.0, p_net, p_count) >= 0:
        return 0.0
    if mixture_slope(1.0, p_net, p_count) <= 0:
        return 1.0
    lo, hi = 0.0, 1.0
    for _ in range(BISECTIONS):
        mid = 0.5 * (lo + hi)
        if mixture_slope(mid, p_net, p_count) < 0:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def target_probs(model, names: EncodedNames | Sequence[np.ndarray]) -> np.ndarray:
    """Probability the model (the logits protocol) gives each letter and end of the names,
    name after name, as training reads them."""
    names = names if isinstance(names, EncodedNames) else EncodedNames.from_arrays(list(names))
    out = []
    for first in range(0, len(names), EVAL_BATCH):
        rows = np.arange(first, min(first + EVAL_BATCH, len(names)))
        X, Y, mask = names.pad_batch(rows, bool)  # (T, B)
        logp = log_softmax(np.asarray(model.logits(X), dtype=np.float64))  # (T, B, V)
        p = np.exp(np.take_along_axis(logp, Y[..., None].astype(np.int64), axis=2)[..., 0])
        out.append(p.T[mask.T])  # name by name, each in order
    return np.concatenate(out)


@dataclass
class Mixture:
    """lam * softmax(net logits) + (1 - lam) * softmax(count logits), in the same protocol.

    Its state is one float64 array (B, net state + count state): the count
    model's symbols are small integers, exact as floats.
    """

    net: object
    count: object
    weight: float
    _net_width: int = field(init=False, repr=False)
    _net_dtype: np.dtype = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not 0.0 <= self.weight <= 1.0:
            raise ValueError(f"the mixing weight must be 0 to 1, not {self.weight}")
        probe = self.net.start_state(1)
        self._net_width, self._net_dtype = probe.shape[1], probe.dtype

    @classmethod
    def fitted(cls, net, count, names: EncodedNames | Sequence[np.ndarray]) -> Mixture:
        """The mixture whose weight minimises the loss on (held-out) names."""
        return cls(net, count, fit_weight(target_probs(net, names), target_probs(count, names)))

    def mix(self, net_logits: np.ndarray, count_logits: np.ndarray) -> np.ndarray:
        """log of the mixed distribution, from the two parts' logits (..., V).

        At the ends it is one part's own logits, unchanged: the same distribution.
        """
        lam = self.weight
        if lam == 0.0:
            return count_logits
        if lam == 1.0:
            return net_logits
        return np.logaddexp(np.log(lam) + log_softmax(net_logits.astype(np.float64)),
                            np.log1p(-lam) + log_softmax(count_logits.astype(np.float64)))

    def start_state(self, batch: int) -> np.ndarray:
        return np.concatenate([self.net.start_state(batch).astype(np.float64),
                               self.count.start_state(batch).astype(np.float64)], axis=1)

    def step(self, x: np.ndarray, state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """x (B,) -> (log mixed probabilities (B, V), next state)."""
        w = self._net_width
        net_logits, net_state = self.net.step(x, state[:, :w].astype(self._net_dtype))
        count_logits, count_state = self.count.step(x, state[:, w:].astype(np.int64))
        new = np.concatenate([net_state.astype(np.float64), count_state.astype(np.float64)],
                             axis=1)
        return self.mix(net_logits, count_logits), new

    def logits(self, X: np.ndarray) -> np.ndarray:
        """log mixed probabilities (T, B, V) for inputs X (T, B)."""
        return self.mix(self.net.logits(X), self.count.logits(X))

    def loss(self, X: np.ndarray, Y: np.ndarray, mask: np.ndarray) -> float:
        """Cross-entropy summed over real positions (for core.validation.Evaluator)."""
        logp = log_softmax(np.asarray(self.logits(X), dtype=np.float64))
        logp = np.take_along_axis(logp, Y[..., None].astype(np.int64), axis=2)[..., 0]
        return float(-(logp * mask).sum())
