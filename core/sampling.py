"""Drawing names from a trained model, deterministically from a seed."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core import rnn
from core.corpus import Vocab
from core.models import MODELS, softmax_last

MAX_LEN = 50  # the seed's cap on drawn characters


def sample_classic(params: rnn.Params, seed: int, max_len: int = MAX_LEN,
                   temperature: float = 1.0) -> list[int]:
    """The seed's sample(): indices of one name, ending with newline (0).

    Before draw number `counter` the seed calls np.random.seed(counter + seed)
    and then advances both, so the effective seed steps by 2 per character.
    A private RandomState seeded the same way gives the same draws without
    touching NumPy's global generator.
    """
    n_a = params["Waa"].shape[0]
    vocab_size = params["by"].shape[0]
    a_prev = np.zeros((n_a, 1))
    x, idx, counter, indices = -1, -1, 0, []
    while idx != 0 and counter < max_len:
        p, a_prev = rnn.step_probs(params, x, a_prev, temperature)
        idx = int(np.random.RandomState(counter + seed).choice(vocab_size, p=p))
        indices.append(idx)
        x = idx
        seed += 1
        counter += 1
    if counter == max_len:
        indices.append(0)
    return indices


def sample_names_classic(params: rnn.Params, vocab: Vocab, count: int, seed: int = 0,
                         max_len: int = MAX_LEN, temperature: float = 1.0) -> list[str]:
    """`count` names with seeds seed, seed+1, ... as the seed's report loop draws them."""
    return [vocab.decode(sample_classic(params, seed + i, max_len, temperature))
            for i in range(count)]


def sample_names_batched(model, vocab: Vocab, count: int, seed: int = 0,
                         max_len: int = MAX_LEN, temperature: float = 1.0) -> list[str]:
    """`count` names drawn side by side from np.random.Generator(seed)."""
    rng = np.random.default_rng(seed)
    h = model.start_state(count)
    x = np.full(count, -1)
    out = np.zeros((count, max_len), dtype=np.int64)
    alive = np.ones(count, dtype=bool)
    for t in range(max_len):
        logits, h = model.step(x, h)
        p = softmax_last(logits.astype(np.float64) / temperature)
        u = rng.random(count)
        # inverse-CDF draw per row; min() guards u landing past a rounded total
        x = np.minimum((p.cumsum(axis=1) < u[:, None]).sum(axis=1), p.shape[1] - 1)
        x[~alive] = 0
        out[:, t] = x
        alive &= x != 0
        if not alive.any():
            break
    return [vocab.decode(row) for row in out]


def display_name(name: str) -> str:
    """The seed prints the first letter upper-case."""
    return name[:1].upper() + name[1:]


@dataclass
class NameSampler:
    """A model's parameters and vocabulary, enough to draw names."""

    preset: str
    cell: str
    params: dict[str, np.ndarray]
    vocab: Vocab
    max_len: int = MAX_LEN

    def sample(self, count: int, seed: int = 0, temperature: float = 1.0,
               max_len: int | None = None) -> list[str]:
        if temperature <= 0:
            raise ValueError("temperature must be positive")
        max_len = self.max_len if max_len is None else max_len
        if self.preset == "classic":
            return sample_names_classic(self.params, self.vocab, count, seed, max_len, temperature)
        model = MODELS[self.cell](self.params)
        return sample_names_batched(model, self.vocab, count, seed, max_len, temperature)
