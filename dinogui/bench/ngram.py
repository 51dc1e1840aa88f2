"""How well, and how fast, the count model (interpolated Kneser-Ney) does per corpus and order.

  python -m dinogui.bench.ngram

For towns-302.txt, dinos.txt and names.txt from ../shared/data (skipped with a
note when absent), and names.txt cut to its first 300, 1,000 and 3,000 names
after a fixed shuffle, the names are split as the Trainer splits them
(core.validation.split_indices(n, 0.1, seed=0)). For orders 2 to 6 the table
shows the held-out loss per character (nats, the networks' units) with the
Chen & Goodman estimate of the discounts and after tuning them on the held-out
names, the tuned discounts (order 1 first), and the seconds to fit and tune.
The held-out names serve both to tune and to measure, as they do for the
Trainer's best-parameters choice: the loss is slightly optimistic for a model
that has not seen them at all.
"""

from __future__ import annotations

import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dinogui.core.batching import EncodedNames
from dinogui.core.corpus import CorpusError, corpus_from_names, load_corpus
from dinogui.core.models.ngram import KneserNey
from dinogui.core.validation import split_indices

SHARED_DATA = Path(os.environ.get("DINOGUI_SHARED_DATA",
                                  Path(__file__).resolve().parents[3] / "shared" / "data"))
FILES = ("towns-302.txt", "dinos.txt", "names.txt")
CUTS = (300, 1000, 3000)  # first names of names.txt after a shuffle by CUT_SEED
CUT_SEED = 0
ORDERS = range(2, 7)


@dataclass(frozen=True)
class Row:
    corpus: str
    names: int
    order: int
    estimate_loss: float
    tuned_loss: float
    discounts: list[float]
    seconds: float


def measure(label: str, names: list[str], vocab) -> list[Row]:
    encoded = EncodedNames.encode(vocab, names)
    train, val = split_indices(len(names), 0.1, seed=0)
    train_names = [encoded[i] for i in train]
    val_names = [encoded[i] for i in val]
    rows = []
    for order in ORDERS:
        t0 = time.perf_counter()
        model = KneserNey.fit(train_names, vocab.size, order)
        estimate = model.held_out_loss(val_names)
        tuned = model.tune(val_names)
        seconds = time.perf_counter() - t0
        rows.append(Row(label, len(names), order, estimate, tuned, model.discounts, seconds))
    return rows


def corpora() -> list[tuple[str, list[str], object]]:
    """(label, names, vocab) of each corpus present; a note on stderr for each absent one."""
    out = []
    for name in FILES:
        path = SHARED_DATA / name
        try:
            corpus = load_corpus(path)
        except (CorpusError, OSError) as e:
            print(f"skipped {name}: {e}", file=sys.stderr)
            continue
        out.append((name, corpus.names, corpus.vocab))
        if name == "names.txt":
            shuffled = [corpus.names[i]
                        for i in np.random.default_rng(CUT_SEED).permutation(len(corpus.names))]
            for n in CUTS:
                cut = corpus_from_names(shuffled[:n])
                out.append((f"names.txt first {n:,}", cut.names, cut.vocab))
    return out


def table(rows: list[Row]) -> str:
    head = (f"{'corpus':<22} {'names':>6} {'N':>2} {'estimate':>8} {'tuned':>7} "
            f"{'seconds':>7}  discounts (order 1..N)")
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(f"{r.corpus:<22} {r.names:>6,} {r.order:>2} "
                     f"{r.estimate_loss:>8.4f} {r.tuned_loss:>7.4f} {r.seconds:>7.2f}  "
                     + " ".join(f"{d:.3f}" for d in r.discounts))
    return "\n".join(lines)


def main() -> int:
    found = corpora()
    if not found:
        print(f"no corpus found under {SHARED_DATA}: nothing to measure")
        return 0
    print("Held-out loss per character (nats) of the Kneser-Ney count model; "
          "split_indices(n, 0.1, seed=0)")
    rows = []
    for label, names, vocab in found:
        measured = measure(label, names, vocab)
        rows.extend(measured)
        print(f"  {label}: {len(names):,} names, vocabulary {vocab.size} "
              f"(uniform guess {math.log(vocab.size):.4f})", flush=True)
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
