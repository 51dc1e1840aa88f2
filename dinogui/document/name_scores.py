"""What the Inspector scores, without Qt: a snapshot of the model's weights, and a list of
names scored by likelihood with each one's nearest corpus name."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from dinogui.core.novelty import NearestNames
from dinogui.core.sampling import NameSampler
from dinogui.core.scoring import encode_for_scoring


@dataclass(frozen=True)
class ModelSnapshot:
    """The model's weights at one iteration, and what scoring compares with."""

    sampler: NameSampler  # with copied parameters: training leaves it alone
    iteration: int
    generation: int  # which attached model (the window's count)
    lowercase: bool  # the corpus was lower-cased, so typed capitals are too
    corpus_names: Sequence[str] = field(repr=False)
    known: frozenset[str] = field(repr=False)


@dataclass(frozen=True)
class ScoredRow:
    name: str  # as scored (lower-cased when the corpus is)
    loglik: float | None  # per character; None when the name cannot be scored
    in_corpus: bool = False
    nearest: str = ""
    distance: int = 0
    problem: str = ""
    typed: str = ""  # as the user wrote it (their capitals), when that differs from name

    @property
    def shown(self) -> str:
        return self.typed or self.name


def read_name_list(text: str) -> tuple[list[str], int]:
    """The non-blank lines, stripped and without repeats, and how many repeats were dropped."""
    lines = [line.strip() for line in text.splitlines()]
    names = [n for n in lines if n]
    unique = list(dict.fromkeys(names))
    return unique, len(names) - len(unique)


def score_list(snapshot: ModelSnapshot, names: list[str]) -> list[ScoredRow]:
    """Rows sorted by log-likelihood per character (best first); unscorable names last.

    Only the likelihoods (one batched forward pass): nearest corpus names come
    after, in chunks (nearest_names), since each is an edit-distance search.
    """
    sampler = snapshot.sampler
    typed: dict[str, str] = {}  # scored form -> the first way the user wrote it
    for n in names:
        typed.setdefault(n.lower() if snapshot.lowercase else n, n)
    names = list(typed)
    good, bad = [], []
    for n in names:
        try:
            encode_for_scoring(sampler.vocab, n)
            good.append(n)
        except ValueError:
            missing = "".join(dict.fromkeys(c for c in n if c not in sampler.vocab.chars))
            bad.append(ScoredRow(n, None, problem="not among the model's characters: "
                                 + ", ".join(repr(c) for c in missing), typed=typed[n]))
    ll = sampler.loglik_per_char(good) if good else np.zeros(0)
    rows = [ScoredRow(n, float(v), n in snapshot.known, typed=typed[n])
            for n, v in zip(good, ll, strict=True)]
    rows.sort(key=lambda r: -r.loglik)
    return rows + bad


def nearest_names(index: NearestNames | None, corpus_names: Sequence[str],
                  names: list[str]) -> tuple[NearestNames, list]:
    """The corpus's nearest-name index (built on first use) and each name's nearest."""
    index = NearestNames(corpus_names) if index is None else index
    return index, index.nearest_many(names)


def nearest_text(row: ScoredRow) -> str:
    """The nearest column: the corpus name and the edits to it ("—" for a corpus name)."""
    if row.in_corpus:
        return "—"
    if not row.nearest:
        return "…"  # still being searched
    return f"{row.nearest} ({row.distance})"
