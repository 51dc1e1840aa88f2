"""Drawing names from a trained model, deterministically from a seed.

Three schemes, each a fixed function of its seed:

- seed (classic models, no constraints): the seed's sample(), bit for bit; the
  reports and `dinogui sample` on classic checkpoints use it.
- batched (default-preset models, no constraints): `count` names side by side
  from one np.random.Generator(seed).
- blocks (any model, any constraint of SampleSpec): candidate i draws its
  character at position t by inverse CDF with the uniform U_b[t, i % 64],
  U_b = default_rng([seed, b]).random((max_len, 64)), b = i // 64. Candidate i
  depends on nothing but the seed, i and the spec's shaping settings, so asking
  for more names keeps the first ones, and filters pick a subsequence of the
  same candidates. A classic model runs here as the same math in batched form.

How each constraint is honoured:

- prefix: fed through the model as its first inputs (not drawn), so the rest is
  drawn from the model's own conditional distribution given the prefix.
- temperature, top_k: reshape each drawn character's distribution (logits / T,
  then only the k most likely characters; ties go to the lower index, so
  top_k=1 is argmax decoding).
- min_len: the end symbol is masked until the name has min_len letters and the
  rest renormalised, step by step. This is the usual cheap approximation; it
  slightly favours names that would have ended early, unlike an exact
  conditional, which would need rejection and become hopeless for long minima.
- max_len: the name is cut (its end forced) at max_len letters, as the seed does.
- suffix and new_only: rejection. Whole names are drawn and those not ending
  with the suffix, or already in the corpus, are dropped; the survivors keep
  the model's distribution conditioned on the constraint (feeding the suffix
  would splice in letters the model did not choose). Redraws are bounded:
  when too few names survive the budget, ConstraintsUnmet says so.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import asdict, dataclass, field

import numpy as np

from .corpus import END, Vocab
from .models import MODELS, as_batched, classic
from .models.ops import softmax
from .novelty import NearestNames
from .scoring import Inspection, NameScore, inspect_name, loglik_per_char, score_names
from .threads import limits_blas

MAX_LEN = 50  # the seed's cap on drawn characters


def sample_classic(params: classic.Params, seed: int, max_len: int = MAX_LEN,
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
        p, a_prev = classic.step_probs(params, x, a_prev, temperature)
        idx = int(np.random.RandomState(counter + seed).choice(vocab_size, p=p))
        indices.append(idx)
        x = idx
        seed += 1
        counter += 1
    if counter == max_len:
        indices.append(0)
    return indices


def sample_names_classic(params: classic.Params, vocab: Vocab, count: int, seed: int = 0,
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
        p = softmax(logits.astype(np.float64) / temperature)
        x = inverse_cdf(p, rng.random(count))
        x[~alive] = 0
        out[:, t] = x
        alive &= x != 0
        if not alive.any():
            break
    return [vocab.decode(row) for row in out]


def display_name(name: str) -> str:
    """The seed prints the first letter upper-case."""
    return name[:1].upper() + name[1:]


# -- constrained sampling -----------------------------------------------------

BLOCK = 64  # candidates per random block (and per batched forward pass)
MIN_DRAWS = 2048  # candidates tried before constraints no candidate met are called unmet
DRAWS_PER_NAME = 200  # the budget per name asked for, when some candidates do meet them


class ConstraintError(ValueError):
    """Sampling constraints that cannot be met, with a message fit for the user."""


class ConstraintsUnmet(ConstraintError):
    """Too few drawn names met the constraints within the redraw budget.

    `found` holds the names that did, so a caller may still show them.
    """

    def __init__(self, message: str, found: list[str], drawn: int) -> None:
        super().__init__(message)
        self.found = found
        self.drawn = drawn


@dataclass(frozen=True)
class SampleSpec:
    """What to draw: how characters are drawn, and which names are kept.

    min_len and max_len count letters (the end symbol not included);
    max_len None means the sampler's own (the run's, 50 by default).
    """

    temperature: float = 1.0
    top_k: int | None = None
    prefix: str = ""
    suffix: str = ""
    min_len: int = 0
    max_len: int | None = None
    new_only: bool = False

    def __post_init__(self) -> None:
        problems = []
        if not (math.isfinite(self.temperature) and self.temperature > 0):
            problems.append("temperature must be a positive number")
        if self.top_k is not None and self.top_k < 1:
            problems.append("top-k must be at least 1")
        if self.min_len < 0:
            problems.append("minimum length must be zero or more")
        if self.max_len is not None and self.max_len < 1:
            problems.append("maximum length must be at least 1")
        if self.max_len is not None and self.min_len > self.max_len:
            problems.append(f"minimum length {self.min_len} is more than "
                            f"the maximum length {self.max_len}")
        if problems:
            raise ConstraintError("; ".join(problems))

    @property
    def constrained(self) -> bool:
        """True when anything beyond the seed's own settings (temperature, max_len) is set."""
        return (self.top_k is not None or bool(self.prefix) or bool(self.suffix)
                or self.min_len > 0 or self.new_only)

    def to_dict(self) -> dict:
        return asdict(self)

    def checked(self, vocab: Vocab, default_max_len: int) -> SampleSpec:
        """This spec with its maximum length filled in, or ConstraintError if impossible."""
        spec = SampleSpec(**{**asdict(self), "max_len": self.max_len or default_max_len})
        for what, text in (("prefix", spec.prefix), ("suffix", spec.suffix)):
            bad = sorted(vocab.missing(text) | ({END} & set(text)))
            if bad:
                hint = ""
                if text.lower() != text and not vocab.missing(text.lower()):
                    hint = f" (the names are lower-case: try {text.lower()!r})"
                shown = ", ".join(repr(c) for c in bad)
                raise ConstraintError(f"the {what} {text!r} contains {shown}, which the corpus "
                                      f"never uses, so the model cannot write it{hint}")
        shortest = shortest_with(spec.prefix, spec.suffix)
        if shortest > spec.max_len:
            given = [f"the {w} {t!r}" for w, t in
                     (("prefix", spec.prefix), ("suffix", spec.suffix)) if t]
            verb = "need" if len(given) == 2 else "needs"
            raise ConstraintError(f"{' and '.join(given)} {verb} at least {shortest} letters, "
                                  f"more than the maximum length {spec.max_len}")
        return spec


def shortest_with(prefix: str, suffix: str) -> int:
    """Letters in the shortest name that starts with prefix and ends with suffix."""
    # the longest end of the prefix that can also begin the suffix
    for overlap in range(min(len(prefix), len(suffix)), 0, -1):
        if prefix.endswith(suffix[:overlap]):
            return len(prefix) + len(suffix) - overlap
    return len(prefix) + len(suffix)


@dataclass
class Drawn:
    """Names that met the constraints, and what it took to find them."""

    names: list[str]
    drawn: int  # candidates drawn and examined
    not_new: int = 0  # dropped: already in the corpus (only counted with new_only)
    wrong_ending: int = 0  # rejected: did not end with the suffix
    scheme: str = "blocks"  # "seed", "batched" or "blocks" (see the module docstring)
    spec: SampleSpec = field(default_factory=SampleSpec)


def block_uniforms(seed: int, block: int, max_len: int) -> np.ndarray:
    """(max_len, BLOCK) uniforms of one block; row t serves position t of its candidates.

    Element (t, j) is the generator's (t * BLOCK + j)-th number, so a longer
    max_len only appends rows.
    """
    return np.random.default_rng([seed, block]).random((max_len, BLOCK))


def inverse_cdf(p: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Per row of p (B, V), the first index whose cumulative probability exceeds u (B,).

    Never picks a zero-probability index, even when rounding leaves the total below u.
    """
    c = np.cumsum(p, axis=1)
    idx = (c <= u[:, None]).sum(axis=1)
    over = idx >= p.shape[1]
    if over.any():  # u past a rounded total: the last possible character
        idx[over] = p.shape[1] - 1 - np.argmax(p[over, ::-1] > 0, axis=1)
    return idx


def shaped_probs(logits: np.ndarray, spec: SampleSpec, position: int) -> np.ndarray:
    """The distribution a character at `position` is drawn from (B, V), float64.

    logits / temperature; the end symbol masked before min_len letters; all but
    the top_k most likely characters masked (stable order: ties keep the lower index).
    Masking is done on logits, so a masked-away majority never leaves all zeros.
    """
    z = logits.astype(np.float64) / spec.temperature
    if position < spec.min_len:
        z[:, 0] = -np.inf
    if spec.top_k is not None and spec.top_k < z.shape[1]:
        drop = np.argsort(-z, axis=1, kind="stable")[:, spec.top_k:]
        np.put_along_axis(z, drop, -np.inf, axis=1)
    return softmax(z)


def draw_block(model, vocab: Vocab, spec: SampleSpec, start, U: np.ndarray) -> list[str]:
    """The candidates of one block: names starting with spec.prefix.

    start: (state (1, S), logits (1, V)) after feeding the prefix; U: (max_len, B).
    Rows that end drop out of the batch, so long names do not carry finished ones.
    """
    L, B = spec.max_len, U.shape[1]
    n0 = len(spec.prefix)
    out = np.zeros((B, L), dtype=np.int64)
    out[:, :n0] = vocab.encode(spec.prefix)
    length = np.full(B, L)  # letters per candidate; L unless it ends sooner
    rows = np.arange(B)  # candidates still drawing
    state = np.repeat(start[0], B, axis=0)
    logits = np.repeat(start[1], B, axis=0)
    for t in range(n0, L):
        x = inverse_cdf(shaped_probs(logits, spec, t), U[t, rows])
        out[rows, t] = x
        ended = x == 0
        length[rows[ended]] = t
        going = ~ended
        if not going.any() or t + 1 == L:
            break
        rows, x, state = rows[going], x[going], state[going]
        logits, state = model.step(x, state)
    return [vocab.decode(out[i, : length[i]]) for i in range(B)]


def feed_prefix(model, vocab: Vocab, prefix: str):
    """(state (1, S), logits (1, V)) after the start input and the prefix's letters."""
    state = model.start_state(1)
    logits, state = model.step(np.array([-1]), state)
    for i in vocab.encode(prefix):
        logits, state = model.step(np.array([i]), state)
    return state, logits


def draw_constrained(model, vocab: Vocab, count: int, seed: int, spec: SampleSpec,
                     known: Collection[str] | None = None,
                     max_draws: int | None = None) -> Drawn:
    """`count` names meeting `spec` (already checked) by the blocks scheme."""
    known = known if spec.new_only else None
    deterministic = spec.top_k == 1 or len(spec.prefix) == spec.max_len
    budget = max_draws or max(MIN_DRAWS, DRAWS_PER_NAME * count)
    start = feed_prefix(model, vocab, spec.prefix)
    names: list[str] = []
    drawn = not_new = wrong = 0
    block = 0
    while len(names) < count and drawn < budget:
        U = block_uniforms(seed, block, spec.max_len)
        for name in draw_block(model, vocab, spec, start, U):
            drawn += 1
            if spec.suffix and not name.endswith(spec.suffix):
                wrong += 1
            elif known is not None and name in known:
                not_new += 1
            else:
                names.append(name)
            if len(names) == count or drawn == budget:
                break
        block += 1
        if deterministic and not names:
            raise ConstraintsUnmet(_unmet_deterministic(name, spec), names, drawn)
        if not names and drawn >= MIN_DRAWS:
            break  # under 1 in 2048 meet them: `count` names would need far over the budget
    if len(names) < count:
        raise ConstraintsUnmet(_unmet(spec, count, names, drawn, not_new, wrong), names, drawn)
    return Drawn(names, drawn, not_new, wrong, "blocks", spec)


def _unmet_deterministic(name: str, spec: SampleSpec) -> str:
    greedy = spec.top_k == 1
    how = "top-k 1 (greedy) always draws" if greedy else "the prefix fills the name:"
    why = (f"does not end with {spec.suffix!r}" if spec.suffix and not name.endswith(spec.suffix)
           else "is already in the corpus")
    fix = "raise top-k" if greedy else "raise the maximum length"
    return f"{how} {name!r}, which {why}; {fix} or change the constraints"


def _unmet(spec: SampleSpec, count: int, names: list[str], drawn: int, not_new: int,
           wrong: int) -> str:
    reasons = []
    if spec.suffix:
        reasons.append(f"{wrong:,} did not end with {spec.suffix!r}")
    if spec.new_only:
        reasons.append(f"{not_new:,} were already in the corpus")
    tips = ["a higher temperature" if spec.top_k is None else "a larger top-k"]
    if spec.suffix:
        tips.append("a shorter ending")
    tips.append("fewer names")
    return (f"only {len(names)} of {count} names met the constraints in {drawn:,} draws "
            f"({', '.join(reasons)}); the model rarely makes such names: "
            f"try {', '.join(tips[:-1])} or {tips[-1]}")


@dataclass
class NameSampler:
    """A model's parameters and vocabulary, enough to draw and score names."""

    preset: str
    cell: str
    params: dict[str, np.ndarray]
    vocab: Vocab
    max_len: int = MAX_LEN

    @limits_blas  # one BLAS thread: these products are small (see core.threads)
    def sample(self, count: int, seed: int = 0, temperature: float = 1.0,
               max_len: int | None = None) -> list[str]:
        """Unconstrained names by the model's own scheme (seed or batched)."""
        if temperature <= 0:
            raise ValueError("temperature must be positive")
        max_len = self.max_len if max_len is None else max_len
        if self.preset == "classic":
            return sample_names_classic(self.params, self.vocab, count, seed, max_len, temperature)
        model = MODELS[self.cell](self.params)
        return sample_names_batched(model, self.vocab, count, seed, max_len, temperature)

    def batched_model(self):
        """The model behind start_state/step (a classic RNN in batched form, same math)."""
        return as_batched(self.preset, self.cell, self.params)

    @limits_blas
    def draw(self, count: int, seed: int = 0, spec: SampleSpec | None = None,
             known: Collection[str] | None = None, max_draws: int | None = None) -> Drawn:
        """`count` names meeting `spec`; same arguments, same names.

        known: the corpus names, needed by spec.new_only. Without constraints
        this is sample() (the seed's scheme on classic models). Raises
        ConstraintError for impossible constraints, before drawing anything, and
        ConstraintsUnmet when max_draws candidates (by default 200 per name,
        at least 2048) yield too few, or the first 2048 yield none.
        """
        spec = SampleSpec() if spec is None else spec
        if count < 1:
            raise ConstraintError("the number of names must be at least 1")
        if seed < 0:
            raise ConstraintError("the seed must be zero or more")
        if spec.new_only and known is None:
            raise ConstraintError("new names only needs the corpus names to compare with")
        spec = spec.checked(self.vocab, self.max_len)
        if not spec.constrained:
            scheme = "seed" if self.preset == "classic" else "batched"
            names = self.sample(count, seed, spec.temperature, spec.max_len)
            return Drawn(names, count, scheme=scheme, spec=spec)
        return draw_constrained(self.batched_model(), self.vocab, count, seed, spec, known,
                                max_draws)

    # -- scores (core.scoring) -------------------------------------------------
    @limits_blas
    def loglik_per_char(self, names: list[str]) -> np.ndarray:
        """Each name's log-likelihood per character (its letters and the end), in nats."""
        return loglik_per_char(self.batched_model(), self.vocab, names)

    @limits_blas
    def inspect(self, name: str, top: int = 5) -> Inspection:
        """Next-character probabilities along `name`, and the top alternatives."""
        return inspect_name(self.batched_model(), self.vocab, name, top)

    @limits_blas
    def scores(self, names: list[str], corpus: NearestNames | list[str]) -> list[NameScore]:
        """Log-likelihood per character and the nearest corpus name, per name."""
        return score_names(self.batched_model(), self.vocab, names, corpus)
