#!/usr/bin/env python3
"""A name generator exported by dinogui: one file, Python's standard library only.

    python3 names.py --count 10 --seed 3             ten names
    python3 names.py --prefix ty --temperature 0.8   names starting with "ty", bolder or tamer
    python3 names.py --score tyrannosaurus           how likely the model finds a name

    from names import sample, score
    sample(count=5, seed=1)      -> five names (a list of str)
    score("tyrannosaurus")       -> log-likelihood per character, in nats

The model is a network (rnn, gru or lstm), a count model (an interpolated
Kneser-Ney n-gram) or a hybrid of the two (their next-letter distributions mixed
with a fitted weight). Draws are deterministic: one mulberry32 stream, seeded with
`seed` (0 to 2**32 - 1), gives one uniform number per drawn letter, and a letter is
picked by inverse CDF from softmax(logits / temperature), the logits being the log
of the probabilities for a count model or a hybrid. The same seed gives the same names here and in
the JavaScript export of the same model. Scores are computed in float64 and equal
`dinogui score` on the checkpoint this was exported from.

The model (weights or counts, vocabulary, architecture) is the MODEL dictionary at the end;
its keys are described in dinogui's docs/export.md.
"""

from __future__ import annotations

import argparse
import base64
import math
import struct
import sys
from operator import mul

MASK = 0xFFFFFFFF
MAX_SEED = MASK
GATES = {"rnn": 1, "gru": 3, "lstm": 4}


# -- the random numbers: mulberry32, as in the JavaScript export --------------------------
def _imul(a: int, b: int) -> int:
    return (a * b) & MASK


def mulberry32(seed: int):
    """A function returning uniform numbers in [0, 1), 32 bits each."""
    state = seed & MASK

    def uniform() -> float:
        nonlocal state
        state = (state + 0x6D2B79F5) & MASK
        t = _imul(state ^ (state >> 15), state | 1)
        t = ((t + _imul(t ^ (t >> 7), t | 61)) & MASK) ^ t
        return (t ^ (t >> 14)) / 4294967296.0

    return uniform


# -- the model ---------------------------------------------------------------------------
CODES = {"float32": "f", "float64": "d", "uint8": "B", "uint16": "H", "uint32": "I"}


def _flat(spec: dict) -> list:
    """A stored array's numbers, row-major (floats as float64, integers as int)."""
    raw = base64.b64decode(spec["base64"])
    code = CODES[spec["dtype"]]
    return list(struct.unpack(f"<{len(raw) // struct.calcsize(code)}{code}", raw))


def _array(spec: dict) -> list:
    """A stored array as float64 lists: rows for a matrix, a list for a vector."""
    raw = base64.b64decode(spec["base64"])
    code = CODES[spec["dtype"]]
    flat = list(struct.unpack(f"<{len(raw) // struct.calcsize(code)}{code}", raw))
    if len(spec["shape"]) == 1:
        return flat
    cols = spec["shape"][1]
    return [flat[i * cols : (i + 1) * cols] for i in range(spec["shape"][0])]


def _columns(matrix: list) -> list:
    return [list(c) for c in zip(*matrix)]


def _dot(row: list, vec: list) -> float:
    return sum(map(mul, row, vec))


def _sigmoid(x: float) -> float:
    return 0.5 * math.tanh(0.5 * x) + 0.5


class Network:
    """rnn, gru or lstm, 1 to 3 stacked layers, a softmax head (dinogui's reference math)."""

    def __init__(self, model: dict) -> None:
        arch = model["architecture"]
        self.cell, self.hidden = arch["cell"], arch["hidden"]
        self.layers = []
        for i, layer in enumerate(model["layers"]):
            w_x = _array(layer["W_x"])  # (inputs, gates * hidden)
            self.layers.append({
                "W_x": w_x if i == 0 else _columns(w_x),  # rows looked up, or columns dotted
                "W_h": _columns(_array(layer["W_h"])),
                "b": _array(layer["b"]),
                "b_hn": _array(layer["b_hn"]) if "b_hn" in layer else None,
            })
        self.W_hy = _columns(_array(model["head"]["W_hy"]))
        self.b_y = _array(model["head"]["b_y"])
        # a labelled model: one row per label, added to layer 0's input projection
        self.E = _array(model["label_embedding"]) if "label_embedding" in model else None

    def label_bias(self, weights: list) -> list:
        """The blend of label rows sum(w_l * E[l]) that layer 0 adds at every step."""
        return [sum(w * row[j] for w, row in zip(weights, self.E)) for j in range(len(self.E[0]))]

    def start(self) -> list:
        parts = 2 if self.cell == "lstm" else 1
        return [[[0.0] * self.hidden for _ in range(parts)] for _ in self.layers]

    def step(self, state: list, x: int, bias: list | None = None) -> tuple[list, list]:
        """(logits, next state) after reading character x (-1: the start, a zero input);
        bias: a labelled model's label_bias."""
        H, new_state, inp = self.hidden, [], None
        for i, p in enumerate(self.layers):
            if i == 0:
                zx = list(p["b"]) if x < 0 else [w + b for w, b in zip(p["W_x"][x], p["b"])]
                if bias is not None:
                    zx = [u + v for u, v in zip(zx, bias)]
            else:
                zx = [_dot(col, inp) + b for col, b in zip(p["W_x"], p["b"])]
            h_prev = state[i][0]
            a = [_dot(col, h_prev) for col in p["W_h"]]
            if self.cell == "rnn":
                h = [math.tanh(u + v) for u, v in zip(zx, a)]
                new_state.append([h])
            elif self.cell == "gru":
                r = [_sigmoid(zx[j] + a[j]) for j in range(H)]
                z = [_sigmoid(zx[H + j] + a[H + j]) for j in range(H)]
                n = [math.tanh(zx[2 * H + j] + r[j] * (a[2 * H + j] + p["b_hn"][j]))
                     for j in range(H)]
                h = [(1.0 - z[j]) * n[j] + z[j] * h_prev[j] for j in range(H)]
                new_state.append([h])
            else:
                s = [u + v for u, v in zip(zx, a)]
                c_prev = state[i][1]
                c = [_sigmoid(s[H + j]) * c_prev[j] + _sigmoid(s[j]) * math.tanh(s[3 * H + j])
                     for j in range(H)]
                h = [_sigmoid(s[2 * H + j]) * math.tanh(c[j]) for j in range(H)]
                new_state.append([h, c])
            inp = h
        return [_dot(col, inp) + b for col, b in zip(self.W_hy, self.b_y)], new_state


class CountModel:
    """Interpolated Kneser-Ney over characters (dinogui's core/models/ngram.py).

    Order k (a context h of k - 1 symbols) mixes its counts a_k with order k - 1's
    probabilities, from the uniform 1/V below order 1:
      P_k(w | h) = (max(a_k(h w) - D_k, 0) + D_k * T_k(h) * P_{k-1}(w | h')) / A_k(h)
    A_k(h) the counts after h summed, T_k(h) how many there are, h' = h without its
    oldest symbol; a context never counted leaves P_{k-1} as it is. Its logits are
    the log-probabilities of the top order.
    """

    def __init__(self, spec: dict) -> None:
        self.order, self.vocab_size, self.start_symbol = (spec["order"], spec["vocab_size"],
                                                          spec["start"])
        self.discounts = spec["discounts"]
        self.levels = []  # per order: {context tuple: [A_k(h), T_k(h), [(w, a_k(h w))...]]}
        for k, level in enumerate(spec["levels"], start=1):
            grams, table = _flat(level["grams"]), {}
            for i, count in enumerate(_flat(level["counts"])):
                gram = grams[i * k : (i + 1) * k]
                entry = table.setdefault(tuple(gram[:-1]), [0.0, 0.0, []])
                entry[0] += count
                entry[1] += 1.0
                entry[2].append((gram[-1], count))
            self.levels.append(table)

    def start(self) -> tuple:
        return (self.start_symbol,) * (self.order - 1)

    def step(self, state: tuple, x: int) -> tuple[list, tuple]:
        """(log-probabilities, the last order - 1 symbols) after reading x (-1: the start)."""
        x = self.start_symbol if x < 0 else x
        state = (state + (x,))[1:]
        p = [1.0 / self.vocab_size] * self.vocab_size
        for k, (table, d) in enumerate(zip(self.levels, self.discounts), start=1):
            entry = table.get(state[len(state) - k + 1 :])
            if entry is None:
                continue
            total, types, nexts = entry
            share = d * types
            q = [share * pw / total for pw in p]
            for w, count in nexts:
                q[w] = (max(count - d, 0.0) + share * p[w]) / total
            p = q
        return [math.log(v) for v in p], state


def _log_softmax(z: list) -> list:
    top = max(z)
    log_total = math.log(sum(math.exp(v - top) for v in z))
    return [v - top - log_total for v in z]


def _logaddexp(a: float, b: float) -> float:
    top = max(a, b)
    return top + math.log1p(math.exp(-abs(a - b)))


class Mixture:
    """The hybrid: weight * p_network + (1 - weight) * p_count; its logits are the log."""

    def __init__(self, net: Network, count: CountModel, weight: float) -> None:
        self.net, self.count, self.weight = net, count, weight

    def start(self) -> list:
        return [self.net.start(), self.count.start()]

    def step(self, state: list, x: int) -> tuple[list, list]:
        net_logits, net_state = self.net.step(state[0], x)
        count_logits, count_state = self.count.step(state[1], x)
        lam, state = self.weight, [net_state, count_state]
        if lam == 0.0 or lam == 1.0:  # one part alone, as dinogui does
            return (net_logits if lam == 1.0 else count_logits), state
        a, b = math.log(lam), math.log1p(-lam)
        return [_logaddexp(a + u, b + v) for u, v in
                zip(_log_softmax(net_logits), _log_softmax(count_logits))], state


def predictor(model: dict):
    """The network, the count model or the hybrid the MODEL describes."""
    net = Network(model) if "layers" in model else None
    count = CountModel(model["ngram"]) if "ngram" in model else None
    if net is not None and count is not None:
        return Mixture(net, count, model["mix_weight"])
    return net if net is not None else count


class Generator:
    """The exported model: sample() and score(), as the module's functions."""

    def __init__(self, model: dict) -> None:
        self.model = model
        self.chars = model["vocabulary"]  # index 0 is the end of a name, "\n"
        self.index = {ch: i for i, ch in enumerate(self.chars)}
        self.labels = list(model["labels"])
        self.max_len = model["max_len"]
        self.net = predictor(model)

    def _check_label(self, label: str | None) -> list | None:
        """A label or a blend "a:0.7,b:0.3" (positive weights, normalised to sum to 1) as
        the bias layer 0 adds; a labelled model without a label: every label alike."""
        known = ", ".join(self.labels) if self.labels else "none: this model has no labels"
        if label is None:
            return self.net.label_bias([1.0 / len(self.labels)] * len(self.labels)) \
                if self.labels else None
        if not self.labels:
            raise ValueError(f"unknown label {label!r} (known labels: {known})")
        weights = [0.0] * len(self.labels)
        for part in label.split(","):
            name, sep, number = part.rpartition(":") if ":" in part else (part, "", "1")
            name = name.strip()
            if name not in self.labels:
                raise ValueError(f"unknown label {name!r} (known labels: {known})")
            try:
                w = float(number)
            except ValueError:
                raise ValueError(f"the weight of {name!r} is {number!r}, not a number") from None
            if not (math.isfinite(w) and w > 0) or weights[self.labels.index(name)]:
                raise ValueError(f"the weight of {name!r} must be a positive number, given once")
            weights[self.labels.index(name)] = w
        total = sum(weights)
        return self.net.label_bias([w / total for w in weights])

    def _encode(self, text: str, what: str) -> list:
        if self.model["lowercase"]:
            text = text.lower()
        for ch in text:
            if ch not in self.index or ch == "\n":
                raise ValueError(f"cannot {what} {text!r}: character {ch!r} is not in the "
                                 "vocabulary of this model")
        return [self.index[ch] for ch in text]

    def score(self, name: str, label: str | None = None) -> float:
        """Log-likelihood per character (nats): the letters and the end, over len(name) + 1."""
        bias = self._check_label(label)
        codes = self._encode(name, "score")
        state, x, total = self.net.start(), -1, 0.0
        for target in codes + [0]:
            logits, state = self._step(state, x, bias)
            total += _log_softmax(logits)[target]
            x = target
        return total / (len(codes) + 1)

    def sample(self, count: int = 10, seed: int = 0, temperature: float = 1.0,
               prefix: str = "", max_len: int | None = None, label: str | None = None) -> list:
        """`count` names from one mulberry32 stream seeded with `seed`; an empty name is
        drawn again. A longer count keeps the first names."""
        bias = self._check_label(label)
        max_len = self.max_len if max_len is None else max_len
        if count < 0 or not 0 <= seed <= MAX_SEED:
            raise ValueError(f"count must be 0 or more and seed 0 to {MAX_SEED}")
        if not temperature > 0 or max_len < 1:
            raise ValueError("temperature must be positive and max_len at least 1")
        start = self._encode(prefix, "start with")
        if len(start) > max_len:
            raise ValueError(f"the prefix {prefix!r} is longer than max_len ({max_len})")
        uniform, names = mulberry32(seed), []
        for _ in range(count):
            for _attempt in range(100):
                codes = self._draw(start, uniform, temperature, max_len, bias)
                if codes:
                    break
            names.append("".join(self.chars[i] for i in codes))
        return names

    def _step(self, state, x: int, bias: list | None):
        return self.net.step(state, x) if bias is None else self.net.step(state, x, bias)

    def _draw(self, start: list, uniform, temperature: float, max_len: int,
              bias: list | None = None) -> list:
        state, x = self.net.start(), -1
        for code in start:
            _, state = self._step(state, x, bias)
            x = code
        codes = list(start)
        while len(codes) < max_len:
            logits, state = self._step(state, x, bias)
            top = max(logits)
            weights = [math.exp((v - top) / temperature) for v in logits]
            target, acc, x = uniform() * sum(weights), 0.0, -1
            for i, w in enumerate(weights):
                acc += w
                if acc > target:
                    x = i
                    break
            if x < 0:  # rounding left the total below the draw: the last possible letter
                x = max(i for i, w in enumerate(weights) if w > 0)
            if x == 0:
                break
            codes.append(x)
        return codes


# -- the command line ----------------------------------------------------------------------
class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, no usage dump
        raise ValueError(message)


def _number(kind, low: float, high: float = math.inf):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not low <= value <= high or (kind is float and value == low == 0.0):
            raise argparse.ArgumentTypeError(f"{text!r} is out of range")
        return value

    return parse


def main(argv: list | None = None) -> int:
    parser = _Parser(description="Names drawn from a model trained with dinogui.")
    parser.add_argument("--count", type=_number(int, 1), default=10, help="names to draw")
    parser.add_argument("--seed", type=_number(int, 0, MAX_SEED), default=0,
                        help="the same seed gives the same names (0 to 2**32 - 1)")
    parser.add_argument("--label", default=None,
                        help='the kind of name (labelled models), or a blend "a:0.7,b:0.3"')
    parser.add_argument("--temperature", type=_number(float, 0.0), default=1.0,
                        help="below 1: likelier names; above 1: bolder ones")
    parser.add_argument("--prefix", default="", help="names start with this")
    parser.add_argument("--max-len", type=_number(int, 1), default=None,
                        help=f"at most this many letters (default {GENERATOR.max_len})")
    parser.add_argument("--score", nargs="+", metavar="NAME",
                        help="print each name and its log-likelihood per character instead")
    try:
        args = parser.parse_args(argv)
        if args.score and GENERATOR.labels and args.label is None:  # a column per label
            lines = ["\t".join(["name", *GENERATOR.labels, "best"])]
            for name in args.score:
                row = [GENERATOR.score(name, label) for label in GENERATOR.labels]
                best = GENERATOR.labels[row.index(max(row))]
                lines.append("\t".join([name, *(f"{v:.6f}" for v in row), best]))
        elif args.score:
            lines = [f"{name}\t{GENERATOR.score(name, args.label):.6f}" for name in args.score]
        else:
            names = GENERATOR.sample(args.count, args.seed, args.temperature, args.prefix,
                                     args.max_len, args.label)
            lines = [n[:1].upper() + n[1:] for n in names]
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    sys.stdout.write("".join(line + "\n" for line in lines))
    return 0


MODEL: dict = {}  # dinogui export replaces this line with the model

GENERATOR = Generator(MODEL) if MODEL else None


def sample(count: int = 10, seed: int = 0, temperature: float = 1.0, prefix: str = "",
           max_len: int | None = None, label: str | None = None) -> list:
    """`count` names (see Generator.sample)."""
    return GENERATOR.sample(count, seed, temperature, prefix, max_len, label)


def score(name: str, label: str | None = None) -> float:
    """The name's log-likelihood per character, in nats (see Generator.score)."""
    return GENERATOR.score(name, label)


if __name__ == "__main__":
    sys.exit(main())
