"""The most likely names: beam search over the distribution the sampler draws from.

A name's score is the log-probability of drawing exactly it with the spec's
settings, given its prefix: the sum over its letters after the prefix, and its
end symbol, of log shaped_probs (temperature, min_len's held-back end, top_k,
top_p). At temperature 1 with none of those it is the model's own
log-likelihood of the name (core.scoring's total), less the prefix's. Empty
names are never given (the sampler draws them again), so the end is held back
before the first letter, which ranks the others as the model does.

The search goes one length at a time. Every kept hypothesis is extended by each
character: by the end symbol it becomes a finished name, kept if it meets the
suffix and new_only (else counted and dropped); the `width` most likely
unfinished ones go on. At max_len letters only the end extends. It stops once
`count` names are finished and no unfinished hypothesis scores above the
count-th best of them (a longer name only loses probability), or after the
name at max_len: at most max_len - len(prefix) + 1 steps of width x vocabulary
candidates, whatever the constraints. When fewer than `count` names met them by
then, ConstraintsUnmet says so. A width at least the number of possible names of
each length is exhaustive, so exact; a narrower beam may miss a name whose
beginning looked unlikely.

Ties are broken deterministically: among unfinished hypotheses the earlier one
(in the kept order), then the lower character index; among finished names the one
finished first (shorter, then in the kept order).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field, replace

import numpy as np

from .corpus import Vocab
from .models.ops import log_softmax
from .sample_spec import ConstraintsUnmet, SampleSpec, passes
from .sampling import feed_prefix, shaped_logits


@dataclass
class Beam:
    """The most likely names found, most likely first, and what the search dropped."""

    names: list[str]
    logprobs: list[float]  # each name's score (see the module docstring), in nats
    width: int
    drawn: int = 0  # finished names examined (kept or dropped)
    not_new: int = 0  # dropped: already in the corpus (only counted with new_only)
    wrong_ending: int = 0  # dropped: did not end with the suffix
    spec: SampleSpec = field(default_factory=SampleSpec)


def beam_search(model, vocab: Vocab, count: int, spec: SampleSpec, width: int,
                known: Collection[str] | None = None, start=None) -> Beam:
    """The `count` most likely names meeting `spec` (already checked), by a beam of `width`.

    model: a batched model (start_state/step); start: (state, logits) after the
    prefix, as core.sampling.feed_prefix gives. Raises ConstraintsUnmet (with the
    names found, most likely first) when fewer than `count` met the constraints.
    """
    known = known if spec.new_only else None
    shaping = replace(spec, min_len=max(spec.min_len, 1))  # never the empty name
    state, logits = feed_prefix(model, vocab, spec.prefix) if start is None else start
    seqs = np.array(vocab.encode(spec.prefix), dtype=np.int64)[None, :]  # (B, letters)
    scores = np.zeros(1)
    result = Beam([], [], width, spec=spec)
    finished: list[tuple[float, str]] = []
    for t in range(len(spec.prefix), spec.max_len + 1):
        logp = log_softmax(shaped_logits(logits, shaping, t))  # (B, V)
        ends = scores + logp[:, 0]
        for b in np.flatnonzero(ends > -np.inf):
            name = vocab.decode(seqs[b])
            if passes(result, name, spec, known):
                finished.append((float(ends[b]), name))
        if t == spec.max_len:
            break
        letters = (scores[:, None] + logp[:, 1:]).ravel()  # hypothesis b, letter c + 1
        live = np.flatnonzero(letters > -np.inf)
        kept = live[np.lexsort((live, -letters[live]))][:width]
        if not len(kept):
            break
        if len(finished) >= count:
            bar = sorted((s for s, _ in finished), reverse=True)[count - 1]
            if letters[kept[0]] <= bar:  # nothing going on can beat the names found
                break
        rows, chars = np.divmod(kept, logp.shape[1] - 1)
        chars = chars + 1
        seqs = np.concatenate([seqs[rows], chars[:, None]], axis=1)
        scores = letters[kept]
        logits, state = model.step(chars, state[rows])
    finished.sort(key=lambda f: -f[0])  # stable: ties keep the order finished
    best = finished[:count]
    result.names = [name for _, name in best]
    result.logprobs = [score for score, _ in best]
    if len(best) < count:
        raise ConstraintsUnmet(_unmet(result, count), result.names, result.drawn)
    return result


def _unmet(result: Beam, count: int) -> str:
    spec = result.spec
    reasons = []
    if spec.suffix:
        reasons.append(f"{result.wrong_ending:,} did not end with {spec.suffix!r}")
    if spec.new_only:
        reasons.append(f"{result.not_new:,} were already in the corpus")
    why = f" ({', '.join(reasons)})" if reasons else ""
    tips = ["a wider beam"]
    if spec.suffix:
        tips.append("a shorter ending")
    if spec.top_k is not None or spec.top_p is not None:
        tips.append("a larger top-k or top-p")
    tips.append("fewer names")
    return (f"the beam of width {result.width} found only {len(result.names)} of {count} "
            f"names meeting the constraints among {result.drawn:,} finished{why}: "
            f"try {', '.join(tips[:-1])} or {tips[-1]}")
