"""How likely the model finds a name, character by character.

A name is scored as the model reads it when training: from the zero start
input, each letter and then the end symbol is predicted from the letters
before it. Its log-likelihood per character is the sum of those log-probabilities
divided by len(name) + 1, so it is minus the loss per character that training
reports (in nats; -ln(vocabulary size) is a uniform guess). Scores use the
model itself: temperature 1, no top-k.

Any core.models batched model works (its logits(X)); a
classic RNN comes in batched form (NameSampler.batched_model()).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from .batching import EncodedNames
from .corpus import Vocab
from .models.ops import log_softmax
from .novelty import NearestNames

SCORE_BATCH = 512  # names per forward pass


def encode_for_scoring(vocab: Vocab, name: str) -> np.ndarray:
    """The name's indices, or a ValueError naming the name and the character."""
    if "\n" in name:
        raise ValueError(f"cannot score {name!r}: a name is one line")
    try:
        return np.array(vocab.encode(name), dtype=np.int64)
    except ValueError as e:
        raise ValueError(f"cannot score {name!r}: {e} of this model") from None


def step_log_probs(model, inputs: np.ndarray):
    """Yield (t, log-probabilities (B, V)) of the next character for inputs (T, B)."""
    for t, z in enumerate(model.logits(inputs)):  # (T, B, V)
        yield t, log_softmax(z.astype(np.float64))


def log_likelihoods(model, vocab: Vocab, names: Sequence[str]) -> np.ndarray:
    """(N,) total log-likelihood of each name, its end symbol included."""
    encoded = [encode_for_scoring(vocab, n) for n in names]
    out = np.zeros(len(names))
    if not encoded:
        return out
    padded = EncodedNames.from_arrays(encoded)
    order = np.argsort(padded.lengths, kind="stable")  # similar lengths batch well
    for start in range(0, len(order), SCORE_BATCH):
        rows = order[start : start + SCORE_BATCH]
        X, Y, mask = padded.pad_batch(rows, bool)  # mask: a letter or the end is predicted
        B = len(rows)
        total = np.zeros(B)
        for t, logp in step_log_probs(model, X):
            total += np.where(mask[t], logp[np.arange(B), Y[t]], 0.0)
        out[rows] = total
    return out


def loglik_per_char(model, vocab: Vocab, names: Sequence[str]) -> np.ndarray:
    """(N,) log-likelihood per character: total / (len(name) + 1)."""
    counts = np.array([len(n) + 1 for n in names], dtype=np.float64)
    return log_likelihoods(model, vocab, names) / counts if len(names) else np.zeros(0)


@dataclass(frozen=True)
class Inspection:
    """What the model expected at each position of one name.

    Position t predicts `targets[t]` from the name's first t letters; the last
    position (t = len(name)) predicts the end symbol, index 0 ("\\n").
    """

    name: str
    chars: tuple[str, ...]  # the vocabulary; index 0 is the end symbol "\n"
    targets: np.ndarray  # (T,) index of the character that came next
    probs: np.ndarray  # (T, V) the model's next-character distribution
    p_target: np.ndarray  # (T,) probability it gave the character that came
    log_p_target: np.ndarray  # (T,) its log (kept apart: a probability may underflow to 0)
    rank: np.ndarray  # (T,) 1 when that character was its first choice
    top_index: np.ndarray  # (T, k) the k most likely next characters, most likely first
    top_prob: np.ndarray  # (T, k) their probabilities

    @property
    def loglik_per_char(self) -> float:
        return float(self.log_p_target.mean())

    def top(self, t: int) -> list[tuple[str, float]]:
        """The alternatives at position t as (character, probability), "\\n" for the end."""
        return [(self.chars[i], float(p)) for i, p in zip(self.top_index[t], self.top_prob[t],
                                                          strict=True)]


def inspect_name(model, vocab: Vocab, name: str, top: int = 5) -> Inspection:
    """Per-position next-character probabilities and the `top` alternatives for one name."""
    codes = encode_for_scoring(vocab, name)
    X = np.concatenate([[-1], codes])[:, None]  # (T, 1)
    targets = np.concatenate([codes, [0]])
    log_probs = np.empty((len(targets), vocab.size))
    for t, logp in step_log_probs(model, X):
        log_probs[t] = logp[0]
    probs = np.exp(log_probs)
    T = np.arange(len(targets))
    p_target = probs[T, targets]
    rank = 1 + (probs > p_target[:, None]).sum(axis=1)
    k = min(top, vocab.size)
    top_index = np.argsort(-probs, axis=1, kind="stable")[:, :k]
    return Inspection(name, vocab.chars, targets, probs, p_target, log_probs[T, targets],
                      rank, top_index,
                      np.take_along_axis(probs, top_index, axis=1))


@dataclass(frozen=True)
class NameScore:
    """One name as `dinogui sample --scores` prints it."""

    name: str
    loglik_per_char: float
    nearest: str  # the closest corpus name
    distance: int  # its edit distance (0: the name is in the corpus)


def score_names(model, vocab: Vocab, names: Sequence[str],
                corpus: NearestNames | Iterable[str]) -> list[NameScore]:
    """Likelihood and nearest corpus name for each name."""
    index = corpus if isinstance(corpus, NearestNames) else NearestNames(corpus)
    ll = loglik_per_char(model, vocab, names)
    return [NameScore(n, float(s), near.name, near.distance)
            for n, s, near in zip(names, ll, index.nearest_many(names), strict=True)]
