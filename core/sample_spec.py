"""What to draw: the sampling settings a user can give, checked before anything is drawn."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from . import settings
from .corpus import END, Vocab

MAX_SEED = settings.MAX_SEED
MIN_TEMPERATURE = settings.SAMPLING["temperature"].low
MAX_TEMPERATURE = settings.SAMPLING["temperature"].high
MIN_TOP_P = settings.SAMPLING["top_p"].low
MAX_TOP_P = settings.SAMPLING["top_p"].high
MAX_BEAM = settings.SAMPLING["beam"].high  # hypotheses a beam keeps at each length


def passes(tally, name: str, spec: SampleSpec, known) -> bool:
    """Count a finished name on `tally` (its drawn, wrong_ending and not_new) and say whether
    the suffix and new-only rules keep it: one judge for drawn and beam-searched names."""
    tally.drawn += 1
    if spec.suffix and not name.endswith(spec.suffix):
        tally.wrong_ending += 1
    elif known is not None and name in known:
        tally.not_new += 1
    else:
        return True
    return False


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
    top_p: float | None = None
    prefix: str = ""
    suffix: str = ""
    min_len: int = 0
    max_len: int | None = None
    new_only: bool = False

    def __post_init__(self) -> None:
        problems = settings.check(settings.SAMPLING, asdict(self))
        if self.max_len is not None and self.min_len > self.max_len:
            problems.append(f"minimum length {self.min_len} is more than "
                            f"the maximum length {self.max_len}")
        if problems:
            raise ConstraintError("; ".join(problems))

    def for_corpus(self, lowercase: bool) -> SampleSpec:
        """This spec as it applies to a corpus: a lower-cased one holds lower-case names
        only, so the beginning and the ending asked for are folded the same way."""
        if not lowercase:
            return self
        return replace(self, prefix=self.prefix.lower(), suffix=self.suffix.lower())

    @property
    def constrained(self) -> bool:
        """True when anything beyond the seed's own settings (temperature, max_len) is set."""
        return (self.top_k is not None or self.top_p is not None or bool(self.prefix)
                or bool(self.suffix) or self.min_len > 0 or self.new_only)

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
