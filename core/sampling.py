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
- temperature, top_k, top_p: reshape each drawn character's distribution
  (logits / T, then only the k most likely characters; ties go to the lower
  index, so top_k=1 is argmax decoding; then only the smallest set of most
  likely characters whose probability reaches p, renormalised: nucleus sampling).
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

import contextlib
import functools
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field, replace

import numpy as np

from . import settings
from .corpus import Vocab, escape_controls
from .models import as_batched, classic
from .models.ops import softmax, tempered
from .novelty import NearestNames
from .sample_spec import (
    MAX_BEAM,
    ConstraintError,
    ConstraintsUnmet,
    SampleSpec,
    passes,
)
from .scoring import Inspection, NameScore, inspect_name, loglik_per_char, score_names
from .threads import limits_blas, training_threads

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
        # seeds wrap at 2**32 (RandomState's range): the same draws wherever the seed's ran
        idx = int(np.random.RandomState((counter + seed) % 2**32).choice(vocab_size, p=p))
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
                         max_len: int = MAX_LEN, temperature: float = 1.0,
                         rows: range | None = None) -> list[str]:
    """`count` names drawn side by side from np.random.Generator(seed).

    rows: only these of the `count` names (default all), the same names as in
    the full draw: the generator jumps over the other rows' numbers (PCG64's
    advance), so a long list can be drawn block by block in bounded memory.
    """
    rows = range(count) if rows is None else rows
    n = len(rows)
    bits = np.random.default_rng(seed).bit_generator
    bits.advance(rows.start)  # row t of the full draw holds numbers t * count .. t * count + count
    rng = np.random.Generator(bits)
    h = model.start_state(n)
    x = np.full(n, -1)
    out = np.zeros((n, max_len), dtype=np.int64)
    alive = np.ones(n, dtype=bool)
    for t in range(max_len):
        logits, h = model.step(x, h)
        p = softmax(tempered(logits, temperature))
        u = rng.random(n)
        bits.advance(count - n)  # the other rows' numbers of this step
        x = inverse_cdf(p, u)
        x[~alive] = 0
        out[:, t] = x
        alive &= x != 0
        if not alive.any():
            break
    return [vocab.decode(row) for row in out]


def display_name(name: str) -> str:
    """The seed prints the first letter upper-case; control characters are shown escaped.

    A corpus cannot hold them (core.corpus refuses them), but a checkpoint from
    elsewhere might: printed raw, they could move the cursor or set the title.
    """
    return escape_controls(name[:1].upper() + name[1:])


# -- constrained sampling -----------------------------------------------------

BLOCK = 64  # candidates per random block (and per batched forward pass)
STREAM_BLOCK = 4096  # names per list when streaming a long draw
EMPTY_STREAM = 0xE7  # keeps the redraws of empty names apart from the candidates' numbers
MIN_DRAWS = 2048  # candidates tried before constraints no candidate met are called unmet
DRAWS_PER_NAME = 200  # the budget per name asked for, when some candidates do meet them


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


TOP_P_SLACK = 1e-12  # a total within this of top_p reaches it (softmax rounds its last bits)


def nucleus(p: np.ndarray, top_p: float) -> np.ndarray:
    """(B, V) mask of the smallest set of most likely characters whose total reaches top_p.

    Characters are taken most likely first (stable order: ties keep the lower
    index, as top_k) while the total before them is below top_p, so the most
    likely character is always kept and a top_p at or below it is greedy.
    """
    order = np.argsort(-p, axis=1, kind="stable")
    ranked = np.take_along_axis(p, order, axis=1)
    before = np.zeros_like(ranked)  # the total of the more likely characters
    before[:, 1:] = np.cumsum(ranked[:, :-1], axis=1)
    keep = np.empty(p.shape, dtype=bool)
    np.put_along_axis(keep, order, before < top_p - TOP_P_SLACK, axis=1)
    return keep


def shaped_logits(logits: np.ndarray, spec: SampleSpec, position: int) -> np.ndarray:
    """The logits a character at `position` is drawn from (B, V), float64; -inf: never drawn.

    logits / temperature; the end symbol masked before min_len letters; all but
    the top_k most likely characters masked (stable order: ties keep the lower
    index); then all but the nucleus of top_p (see nucleus; top_p 1 keeps all).
    Masking is done on logits, so a masked-away majority never leaves all zeros.
    """
    z = tempered(logits, spec.temperature)
    if position < spec.min_len:
        z[:, 0] = -np.inf
    if spec.top_k is not None and spec.top_k < z.shape[1]:
        drop = np.argsort(-z, axis=1, kind="stable")[:, spec.top_k:]
        np.put_along_axis(z, drop, -np.inf, axis=1)
    if spec.top_p is not None and spec.top_p < 1.0:
        z[~nucleus(softmax(z), spec.top_p)] = -np.inf
    return z


def shaped_probs(logits: np.ndarray, spec: SampleSpec, position: int) -> np.ndarray:
    """The distribution a character at `position` is drawn from (B, V): see shaped_logits."""
    return softmax(shaped_logits(logits, spec, position))


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


def redraw_empty(model, vocab: Vocab, names: list[str], first: int, seed: int,
                 spec: SampleSpec) -> list[str]:
    """`names` (candidates first, first + 1, ...) with each empty one drawn again.

    A name that ended before its first letter is replaced by a draw with the
    end held back at the first position: the model's distribution given a
    non-empty name, exactly (only the first position can make a name empty).
    Candidate i's redraw uses its own numbers, default_rng([seed, i, EMPTY_STREAM]),
    so it depends on nothing but the seed and i, like the candidate itself.
    """
    empty = [j for j, name in enumerate(names) if not name]
    if not empty:
        return names
    spec = replace(spec, min_len=max(spec.min_len, 1))
    U = np.stack([np.random.default_rng([seed, first + j, EMPTY_STREAM]).random(spec.max_len)
                  for j in empty], axis=1)  # (max_len, empties)
    redrawn = draw_block(model, vocab, spec, feed_prefix(model, vocab, spec.prefix), U)
    out = list(names)
    for j, name in zip(empty, redrawn, strict=True):
        out[j] = name
    return out


def draw_constrained(model, vocab: Vocab, count: int, seed: int, spec: SampleSpec,
                     known: Collection[str] | None = None, max_draws: int | None = None,
                     tally: Drawn | None = None, chunk: int | None = None) -> Iterator[list[str]]:
    """`count` names meeting `spec` (already checked) by the blocks scheme, `chunk` at a time.

    tally (if given) counts the candidates drawn and rejected as it goes.
    Raises ConstraintsUnmet at the end when too few met the constraints; its
    `found` holds the names of the chunk not yet handed out.
    """
    known = known if spec.new_only else None
    tally = Drawn([], 0, spec=spec) if tally is None else tally
    chunk = chunk or count
    deterministic = spec.top_k == 1 or len(spec.prefix) == spec.max_len
    budget = max_draws or max(MIN_DRAWS, DRAWS_PER_NAME * count)
    start = feed_prefix(model, vocab, spec.prefix)
    names: list[str] = []
    found = 0  # names handed out plus those in `names`
    block = 0
    while found < count and tally.drawn < budget:
        U = block_uniforms(seed, block, spec.max_len)
        candidates = redraw_empty(model, vocab, draw_block(model, vocab, spec, start, U),
                                  block * BLOCK, seed, spec)
        for name in candidates:
            if passes(tally, name, spec, known):
                names.append(name)
                found += 1
            if found == count or tally.drawn == budget:
                break
            if len(names) == chunk:
                yield names
                names = []
        block += 1
        if deterministic and not found:
            raise ConstraintsUnmet(_unmet_deterministic(name, spec), names, tally.drawn)
        if not found and tally.drawn >= MIN_DRAWS:
            break  # under 1 in 2048 meet them: `count` names would need far over the budget
    if found < count:
        raise ConstraintsUnmet(_unmet(spec, count, found, tally.drawn, tally.not_new,
                                      tally.wrong_ending), names, tally.drawn)
    if names:
        yield names


def _unmet_deterministic(name: str, spec: SampleSpec) -> str:
    greedy = spec.top_k == 1
    how = "top-k 1 (greedy) always draws" if greedy else "the prefix fills the name:"
    why = (f"does not end with {spec.suffix!r}" if spec.suffix and not name.endswith(spec.suffix)
           else "is already in the corpus")
    fix = "raise top-k" if greedy else "raise the maximum length"
    return f"{how} {name!r}, which {why}; {fix} or change the constraints"


def _unmet(spec: SampleSpec, count: int, found: int, drawn: int, not_new: int,
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
    return (f"only {found} of {count} names met the constraints in {drawn:,} draws "
            f"({', '.join(reasons)}); the model rarely makes such names: "
            f"try {', '.join(tips[:-1])} or {tips[-1]}")


@dataclass
class NameStream:
    """Lists of drawn names (iterate), and what it took to draw them so far (tally)."""

    blocks: Iterator[list[str]]
    tally: Drawn

    def __iter__(self) -> Iterator[list[str]]:
        return self.blocks


TOO_LARGE = ("the model's numbers overflow (its weights are too large: did its training "
             "diverge?); nothing was drawn from it")


@contextlib.contextmanager
def numbers():
    """An overflow or NaN while drawing or scoring becomes one ValueError, not a warning each.

    With finite weights of sane size nothing overflows (softmax subtracts the
    maximum, sigmoid goes through tanh); a checkpoint with huge weights would
    otherwise print NumPy warnings and draw from NaN probabilities.
    """
    try:
        with np.errstate(over="raise", invalid="raise"):
            yield
    except FloatingPointError:
        raise ValueError(TOO_LARGE) from None


def checked_numbers(method):
    """Decorator: the method runs inside numbers()."""

    @functools.wraps(method)
    def checked(*args, **kwargs):
        with numbers():
            return method(*args, **kwargs)

    return checked


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
        model = self.batched_model()
        # in blocks of rows (the same names): a huge report holds its names, not their arrays
        return [name for first in range(0, count, STREAM_BLOCK)
                for name in sample_names_batched(model, self.vocab, count, seed, max_len,
                                                 temperature,
                                                 range(first, min(first + STREAM_BLOCK, count)))]

    def batched_model(self):
        """The model behind start_state/step (a classic RNN in batched form, same math)."""
        return as_batched(self.preset, self.cell, self.params)

    @limits_blas
    def draw(self, count: int, seed: int = 0, spec: SampleSpec | None = None,
             known: Collection[str] | None = None, max_draws: int | None = None) -> Drawn:
        """`count` names meeting `spec`; same arguments, same names.

        known: the corpus names, needed by spec.new_only. Without constraints
        this is sample() (the seed's scheme on classic models) with every empty
        name drawn again (see redraw_empty). Raises ConstraintError for
        impossible constraints, before drawing anything, and ConstraintsUnmet
        when max_draws candidates (by default 200 per name, at least 2048)
        yield too few, or the first 2048 yield none.
        """
        stream = self.stream(count, seed, spec, known, max_draws, block=count)
        stream.tally.names = [name for block in stream for name in block]  # all, or Unmet
        return stream.tally

    def stream(self, count: int, seed: int = 0, spec: SampleSpec | None = None,
               known: Collection[str] | None = None, max_draws: int | None = None,
               block: int | None = None) -> NameStream:
        """The names draw() returns, in lists of up to `block` (default STREAM_BLOCK).

        Any count runs in bounded memory.

        Everything is checked before this returns (ConstraintError); the
        stream's tally counts the candidates as the blocks are drawn.
        ConstraintsUnmet comes at the end, after the names that were found.
        """
        spec = SampleSpec() if spec is None else spec
        if count < 1:
            raise ConstraintError("the number of names must be at least 1")
        if (problem := settings.SAMPLING["seed"].problem(seed)) is not None:
            raise ConstraintError(f"the {problem}")
        if spec.new_only and known is None:
            raise ConstraintError("new names only needs the corpus names to compare with")
        spec = spec.checked(self.vocab, self.max_len)
        block = max(1, min(block or STREAM_BLOCK, count))
        if spec.constrained:
            tally = Drawn([], 0, spec=spec)
            blocks = draw_constrained(self.batched_model(), self.vocab, count, seed, spec,
                                      known, max_draws, tally, block)
        else:
            tally = Drawn([], 0, scheme="seed" if self.preset == "classic" else "batched",
                          spec=spec)
            blocks = self._unconstrained(count, seed, spec, tally, block)
        return NameStream(self._quiet(blocks), tally)

    def _unconstrained(self, count: int, seed: int, spec: SampleSpec, tally: Drawn,
                       block: int) -> Iterator[list[str]]:
        model = self.batched_model()
        for first in range(0, count, block):
            n = min(block, count - first)
            if self.preset == "classic":  # name i has the seed's seed + i
                names = sample_names_classic(self.params, self.vocab, n, seed + first,
                                             spec.max_len, spec.temperature)
            else:
                names = sample_names_batched(model, self.vocab, count,
                                             seed, spec.max_len, spec.temperature,
                                             rows=range(first, first + n))
            tally.drawn += n
            yield redraw_empty(model, self.vocab, names, first, seed, spec)

    @limits_blas
    @checked_numbers
    def beam(self, count: int, spec: SampleSpec | None = None,
             known: Collection[str] | None = None, width: int | None = None):
        """The `count` most likely names meeting `spec`, most likely first (core.beam).

        width: hypotheses kept at each length (default `count`; at least `count`).
        Deterministic: no seed. Raises ConstraintError before searching when the
        settings are impossible, ConstraintsUnmet when fewer than `count` were found.
        """
        from .beam import beam_search  # core.beam builds on this module's shaping

        spec = SampleSpec() if spec is None else spec
        width = count if width is None else width
        if not 1 <= count <= MAX_BEAM:
            raise ConstraintError(f"the number of names must be 1 to {MAX_BEAM:,} for a beam")
        if not count <= width <= MAX_BEAM:
            raise ConstraintError(f"the beam width must be at least the number of names "
                                  f"({count}) and at most {MAX_BEAM:,}")
        if spec.new_only and known is None:
            raise ConstraintError("new names only needs the corpus names to compare with")
        spec = spec.checked(self.vocab, self.max_len)
        return beam_search(self.batched_model(), self.vocab, count, spec, width, known)

    @staticmethod
    def _quiet(blocks: Iterator[list[str]]) -> Iterator[list[str]]:
        """The blocks, each drawn with one BLAS thread and overflows as one error (see numbers)."""
        while True:
            with training_threads(), numbers():
                try:
                    block = next(blocks)
                except StopIteration:
                    return
            yield block

    # -- scores (core.scoring) -------------------------------------------------
    @limits_blas
    @checked_numbers
    def loglik_per_char(self, names: list[str]) -> np.ndarray:
        """Each name's log-likelihood per character (its letters and the end), in nats."""
        return loglik_per_char(self.batched_model(), self.vocab, names)

    @limits_blas
    @checked_numbers
    def inspect(self, name: str, top: int = 5) -> Inspection:
        """Next-character probabilities along `name`, and the top alternatives."""
        return inspect_name(self.batched_model(), self.vocab, name, top)

    @limits_blas
    @checked_numbers
    def scores(self, names: list[str], corpus: NearestNames | list[str]) -> list[NameScore]:
        """Log-likelihood per character and the nearest corpus name, per name."""
        return score_names(self.batched_model(), self.vocab, names, corpus)
