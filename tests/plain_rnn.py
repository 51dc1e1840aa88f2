"""The sampler's yardstick: the one-layer tanh RNN and the three sampling schemes, written
out plainly in float64.

(Of the three references, this is the sampling one; core/models/reference.py is the
math of every model, dinogui/bench/seed.py the seed's loop.)

The tests' yardstick for what the sampler must draw: built from the formulas in
README ("Sampling") and the seed's algorithm, never from dinogui's own model code,
so a sampler that ignores a setting, or shifts a seed, disagrees with it.
"""

from __future__ import annotations

import numpy as np


def row_major(params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """W_xh (V, H), W_hh (H, H), b_h (H,), W_hy (H, V), b_y (V,) in float64, from either preset."""
    if "Wax" in params:  # classic: the seed's column layout
        p = {"W_xh": params["Wax"].T, "W_hh": params["Waa"].T, "b_h": params["b"][:, 0],
             "W_hy": params["Wya"].T, "b_y": params["by"][:, 0]}
    elif "W_x" in params:  # the default preset's one-layer rnn
        p = {"W_xh": params["W_x"], "W_hh": params["W_h"], "b_h": params["b"],
             "W_hy": params["W_hy"], "b_y": params["b_y"]}
    else:  # the same, as checkpoints before dinogui.core.models named it
        p = {k: params[k] for k in ("W_xh", "W_hh", "b_h", "W_hy", "b_y")}
    return {k: np.asarray(v, dtype=np.float64) for k, v in p.items()}


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


class PlainRNN:
    """h_t = tanh(x_t W_xh + h_{t-1} W_hh + b_h); logits = h_t W_hy + b_y; x_0 = zeros."""

    def __init__(self, params: dict[str, np.ndarray]) -> None:
        self.p = row_major(params)
        self.V = self.p["b_y"].shape[0]

    def start(self, batch: int) -> np.ndarray:
        return np.zeros((batch, self.p["W_hh"].shape[0]))

    def step(self, x: np.ndarray | None, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """x (B,) letter indices, or None for the start input -> (logits (B, V), h)."""
        z = h @ self.p["W_hh"] + self.p["b_h"]
        if x is not None:
            z = z + self.p["W_xh"][x]
        h = np.tanh(z)
        return h @ self.p["W_hy"] + self.p["b_y"], h

    def logits_along(self, indices: list[int]) -> np.ndarray:
        """(len + 1, V): the logits before each letter of a name and before its end."""
        h, x, out = self.start(1), None, []
        for i in [*indices, None]:
            z, h = self.step(x, h)
            out.append(z[0])
            x = None if i is None else np.array([i])
        return np.array(out)

    def loss_per_char(self, names: list[list[int]]) -> float:
        """Cross-entropy per predicted character (letters and the end), in nats."""
        total = chars = 0
        for s in names:
            logp = np.log(softmax(self.logits_along(s)))
            total -= logp[np.arange(len(s) + 1), [*s, 0]].sum()
            chars += len(s) + 1
        return total / chars


def seed_scheme(params, seed: int, count: int, temperature: float = 1.0,
                max_len: int = 50) -> list[list[int]]:
    """The seed's sample(): name i from seed + i; draw k calls np.random.seed(seed + i + 2k)."""
    net, names = PlainRNN(params), []
    for i in range(count):
        h, x, out = net.start(1), None, []
        for k in range(max_len):
            z, h = net.step(x, h)
            p = softmax(z[0] / temperature)
            idx = int(np.random.RandomState(seed + i + 2 * k).choice(net.V, p=p))
            if idx == 0:
                break
            out.append(idx)
            x = np.array([idx])
        names.append(out)
    return names


def batched_scheme(params, seed: int, count: int, temperature: float = 1.0,
                   max_len: int = 50) -> list[list[int]]:
    """Default-preset models: every position draws `count` uniforms from default_rng(seed)."""
    net, rng = PlainRNN(params), np.random.default_rng(seed)
    h, x = net.start(count), None
    out, alive = [[] for _ in range(count)], np.ones(count, dtype=bool)
    for _ in range(max_len):
        z, h = net.step(x, h)
        c = np.cumsum(softmax(z / temperature), axis=1)
        x = np.minimum((c < rng.random(count)[:, None]).sum(axis=1), net.V - 1)
        for i in np.flatnonzero(alive & (x != 0)):
            out[i].append(int(x[i]))
        alive &= x != 0
        if not alive.any():
            break
    return out


def shape(z: np.ndarray, t: int, temperature: float = 1.0, top_k: int | None = None,
          min_len: int = 0, top_p: float | None = None) -> np.ndarray:
    """The distribution letter t is drawn from, given the model's logits z (V,): z / T; the
    end held back before min_len; the top_k most likely; then the fewest most likely
    letters whose probability reaches top_p (ties: the lower index first), renormalised."""
    z = z / temperature
    if t < min_len:
        z[0] = -np.inf
    if top_k is not None:
        z[np.argsort(-z, kind="stable")[top_k:]] = -np.inf
    p = softmax(z)
    if top_p is not None and top_p < 1:
        kept, total = [], 0.0
        for i in np.argsort(-p, kind="stable"):
            if total >= top_p - 1e-12:  # reached (up to softmax's rounding)
                break
            kept.append(i)
            total += p[i]
        q = np.zeros_like(p)
        q[kept] = p[kept]
        p = q / q.sum()
    return p


def draw_one(net: PlainRNN, U: np.ndarray, temperature: float = 1.0, max_len: int = 50,
             top_k: int | None = None, min_len: int = 0, prefix: list[int] = (),
             top_p: float | None = None) -> list[int]:
    """One name by inverse CDF: letter t is the first index whose cumulative
    probability exceeds U[t]; the end is held back before min_len letters."""
    out = list(prefix)
    z, h = net.step(None, net.start(1))  # the start input, then the prefix's letters
    for c in prefix:
        z, h = net.step(np.array([c]), h)
    for t in range(len(prefix), max_len):
        p = shape(z[0], t, temperature, top_k, min_len, top_p)
        idx = int((np.cumsum(p) <= U[t]).sum())
        if idx == 0:
            break
        out.append(idx)
        z, h = net.step(np.array([idx]), h)
    return out


def redraw_empty(params, names: list[list[int]], seed: int, temperature: float = 1.0,
                 max_len: int = 50, top_k: int | None = None, min_len: int = 0,
                 first: int = 0, top_p: float | None = None) -> list[list[int]]:
    """`dinogui sample` never gives an empty name: candidate i, if empty, is drawn again
    with the end held back at the first letter, from default_rng([seed, i, 0xE7])."""
    net = PlainRNN(params)
    return [name or draw_one(net, np.random.default_rng([seed, first + j, 0xE7]).random(max_len),
                             temperature, max_len, top_k, max(min_len, 1), top_p=top_p)
            for j, name in enumerate(names)]


def block_scheme(params, seed: int, count: int, temperature: float = 1.0, max_len: int = 50,
                 top_k: int | None = None, min_len: int = 0, prefix: list[int] = (),
                 keep_empty: bool = False, top_p: float | None = None) -> list[list[int]]:
    """Candidate i draws letter t by inverse CDF with U[t, i % 64] of
    default_rng([seed, i // 64]).random((max_len, 64)) (README, "Sampling");
    an empty candidate is drawn again (redraw_empty) unless keep_empty."""
    net = PlainRNN(params)
    names = [draw_one(net, np.random.default_rng([seed, i // 64]).random((max_len, 64))[:, i % 64],
                      temperature, max_len, top_k, min_len, prefix, top_p)
             for i in range(count)]
    if keep_empty:
        return names
    return redraw_empty(params, names, seed, temperature, max_len, top_k, min_len, top_p=top_p)


def log_prob(params, name: list[int], temperature: float = 1.0, top_k: int | None = None,
             min_len: int = 0, top_p: float | None = None, prefix: int = 0) -> float:
    """log P(the sampler draws `name`) given its first `prefix` letters: each later letter
    and the end from shape(); the end is held back before max(min_len, 1) letters (no
    empty names). -inf when a shaped distribution leaves a letter out."""
    net = PlainRNN(params)
    total = 0.0
    for t, z in enumerate(net.logits_along(name)):
        if t < prefix:
            continue
        p = shape(z, t, temperature, top_k, max(min_len, 1), top_p)
        c = name[t] if t < len(name) else 0
        total += np.log(p[c]) if p[c] > 0 else -np.inf
    return total


def levenshtein(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def drawn_unconstrained(params, seed: int, count: int, temperature: float = 1.0,
                        max_len: int = 50) -> list[list[int]]:
    """What `dinogui sample` and NameSampler.draw give without constraints: the model's
    own scheme (the seed's for classic parameters), each empty name drawn again."""
    scheme = seed_scheme if "Wax" in params else batched_scheme
    names = scheme(params, seed, count, temperature, max_len)
    return redraw_empty(params, names, seed, temperature, max_len)
