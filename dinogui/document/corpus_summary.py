"""What the window shows and checks about a corpus: computed once, off the window's thread,
from the names (the corpus panel draws it; the session and the file flows carry it)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from dinogui.core.corpus import Corpus, CorpusStats, escape_controls, quote


@dataclass(frozen=True)
class CorpusSummary:
    """What the window shows and checks about a corpus, computed off the window's thread."""

    title: str
    source: str
    stats: CorpusStats
    lengths: np.ndarray  # histogram x: every length from shortest to longest
    counts: np.ndarray
    vocabulary: str  # the characters, newline shown as ⏎
    known: frozenset[str]  # the names, to mark samples that already exist
    kinds: tuple[tuple[str, int], ...] = ()  # a labelled corpus: (label, names) in order

    @classmethod
    def of(cls, corpus: Corpus) -> CorpusSummary:
        xs, counts = corpus.length_histogram()
        # a checkpoint's vocabulary may hold any character: controls and bidi shown escaped
        chars = "⏎" + escape_controls("".join(corpus.vocab.chars[1:]))
        known = corpus.name_set()
        # counted from the names: a corpus rebuilt from a checkpoint has no duplicates list
        stats = replace(corpus.stats(), duplicates=len(corpus.names) - len(known))
        kinds = tuple((quote(k, 60), n) for k, n in corpus.label_counts().items())
        return cls(corpus.title, quote(corpus.source, 1000), stats, xs, counts, chars, known,
                   kinds)
