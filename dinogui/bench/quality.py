"""How good a model each recipe reaches in a fixed training-time budget, side by side.

  dinogui bench --sections quality [--seconds S] [--corpus PATH] [--no-torch]
  python -m dinogui.bench.quality [--seconds S] [--corpus PATH ...] [--only LABEL ...]

For each corpus (by default names.txt from ../shared/data beside the checkout, and
its first 300, 1,000 and 3,000 names after a fixed shuffle, cut as dinogui.bench.ngram
cuts them; skipped with a note when absent) and each row: the Kneser-Ney count model
of orders 2-5 (discounts tuned on the held-out names), the classic preset (the seed's
settings), the default preset (its recipe for the list, core.recipe, as `dinogui train
--preset default` picks it) and its plain defaults (a tanh RNN of 50), the quality preset
(the same model, a cosine schedule sized to end with the row's seconds, core.quality), a GRU
and an LSTM
(hidden 128, dropout 0.3, the default preset otherwise), the hybrid (that GRU mixed
with a 5-gram, `--mix-ngram 5`), and PyTorch's nn.GRU and nn.LSTM at the GRU's and
LSTM's settings when torch is installed.
Every row holds out the same names (the Trainer's split: 10%, seed 0), trains S seconds
of training time, is checked on the held-out names every quarter epoch (off the clock)
and keeps its best loss per character. Figures depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from dinogui.core import quality, recipe
from dinogui.core.batching import bucketed_order
from dinogui.core.config import TrainConfig
from dinogui.core.corpus import Corpus, CorpusError, corpus_from_names, load_corpus
from dinogui.core.threads import training_threads
from dinogui.core.trainer import Trainer

# ../shared/data beside the checkout (this file is dinogui/bench/quality.py in it)
SHARED_DATA = Path(os.environ.get("DINOGUI_SHARED_DATA",
                                  Path(__file__).resolve().parents[3] / "shared" / "data"))
CUTS = (300, 1000, 3000)  # first names of names.txt after a shuffle by CUT_SEED
CUT_SEED = 0
VAL_FRACTION = 0.1
CHECKS_PER_EPOCH = 4
MIN_CHECKS = 20  # at least this many checks per budget (a big list's epoch may not end)
DEFAULT_SECONDS = 4.0
MAKEMORE_NOTE = ("makemore on names.txt (its own test split): transformer ~1.92, "
                 "WaveNet-style 1.99, MLP 2.10-2.17, bigram 2.45 nats/char")
NET = {"hidden": 128, "dropout": 0.3}  # the GRU, LSTM and hybrid rows, and PyTorch's


@dataclass(frozen=True)
class Row:
    label: str
    kind: str  # "ngram", "trainer" or "torch"
    settings: dict = field(default_factory=dict)  # TrainConfig fields (preset first)
    recipe: bool = False  # the default preset's recipe picks the model for the list (core.recipe)

    def command(self, seconds: float) -> str:
        """The dinogui command that trains this row (PyTorch's: this bench only)."""
        if self.kind == "torch":
            return "dinogui bench --sections quality --corpus CORPUS (PyTorch rows: here only)"
        s = dict(self.settings)
        flags = [f"--preset {s.pop('preset')}"]
        flags += [f"--{k.replace('_', '-')} {v}" for k, v in s.items()]
        budget = "" if self.kind == "ngram" else f" --seconds {seconds:g}"
        return (f"dinogui train --corpus CORPUS {' '.join(flags)} "
                f"--val-fraction {VAL_FRACTION}{budget}")


ROWS = (
    *(Row(f"{n}-gram", "ngram", {"preset": "default", "cell": "ngram", "order": n})
      for n in range(2, 6)),
    Row("classic preset", "trainer", {"preset": "classic"}),
    Row("default preset (recipe)", "trainer", {"preset": "default"}, recipe=True),
    Row("quality preset", "trainer", {"preset": "quality"}, recipe=True),
    Row("rnn 50 (default's plain)", "trainer", {"preset": "default", "cell": "rnn"}),
    Row("gru", "trainer", {"preset": "default", "cell": "gru", **NET}),
    Row("lstm", "trainer", {"preset": "default", "cell": "lstm", **NET}),
    Row("hybrid (gru + 5-gram)", "trainer",
        {"preset": "default", "cell": "gru", **NET, "mix_ngram": 5}),
    Row("PyTorch gru", "torch", {"preset": "default", "cell": "gru", **NET}),
    Row("PyTorch lstm", "torch", {"preset": "default", "cell": "lstm", **NET}),
)


@dataclass
class Result:
    corpus: str
    row: Row
    best: float  # best held-out loss per character (nats)
    best_at: float = 0.0  # training seconds when it was reached
    steps: int = 0
    chars_per_s: float = 0.0


# -- the loop every network row shares --------------------------------------------------
def budgeted(step: Callable[[], int], check: Callable[[], float], every: int,
             seconds: float) -> tuple[float, float, int, float]:
    """Train by step() (returns characters) for `seconds` of its own time, check() every
    `every` steps and at the end (off the clock); (best, seconds at best, steps, chars/s)."""
    best, best_at, trained, steps, chars = check(), 0.0, 0.0, 0, 0
    min_gap, last = seconds / MIN_CHECKS, 0.0
    while trained < seconds:
        t0 = time.perf_counter()
        chars += step()
        trained += time.perf_counter() - t0
        steps += 1
        if steps % every == 0 or trained >= seconds or trained - last >= min_gap:
            last = trained
            loss = check()
            if loss < best:
                best, best_at = loss, trained
    return best, best_at, steps, chars / max(trained, 1e-9)


def _config(row: Row, seed: int, corpus: Corpus, seconds: float) -> TrainConfig:
    s = {k: v for k, v in row.settings.items() if k != "preset"}
    cfg = TrainConfig.for_preset(row.settings["preset"], **s, seed=seed, samples=0,
                                 sample_every=10**9, val_every=10**9,
                                 val_fraction=VAL_FRACTION)
    if cfg.preset == "quality":  # its schedule sized to end with the row's seconds
        cfg = replace(cfg, **quality.budget_settings(seconds))
    # as `dinogui train --preset default` with no model flag: the list's recipe (its patience
    # and check cadence are the bench's own here: every row trains its whole budget)
    if not row.recipe:
        return cfg
    return (quality.apply if cfg.preset == "quality" else recipe.apply)(cfg, corpus)


def run_trainer(corpus: Corpus, row: Row, seconds: float, seed: int) -> Result:
    t = Trainer(corpus, _config(row, seed, corpus, seconds))
    if t.config.counts_only:
        t.step()  # counts, and tunes the discounts on the held-out names
        return Result("", row, t.validate())
    every = max(1, -(-len(t.train_rows) // t.chars_per_name_step) // CHECKS_PER_EPOCH)

    def step() -> int:
        return t.step().chars

    with training_threads(t.blas_threads):
        best, at, steps, cps = budgeted(step, t.validate, every, seconds)
    return Result("", row, best, at, steps, cps)


def run_torch(corpus: Corpus, row: Row, seconds: float, seed: int) -> Result:
    """PyTorch's nn.GRU / nn.LSTM, dropout into the head, nn.Linear: the Trainer's split,
    batches (length-bucketed), Adam, rate and clip-by-value."""
    import torch

    cfg = _config(row, seed, corpus, seconds)
    split = Trainer(corpus, cfg)  # for its split and encoded names only
    torch.manual_seed(seed)
    torch.set_num_threads(split.blas_threads)
    V, H, B = corpus.vocab.size, cfg.hidden, cfg.batch_size
    rnn = {"gru": torch.nn.GRU, "lstm": torch.nn.LSTM}[cfg.cell](V, H)
    head, drop = torch.nn.Linear(H, V), torch.nn.Dropout(cfg.dropout)
    params = [*rnn.parameters(), *head.parameters()]
    opt = torch.optim.Adam(params, lr=cfg.lr)
    names = split._encoded
    train, val = split.train_rows, split.val_rows
    rng = np.random.default_rng(seed)
    state = {"order": bucketed_order(train, names.lengths, B, rng), "cursor": 0}

    def loss_sum(rows: np.ndarray, training: bool):
        X, Y, mask = (torch.from_numpy(a) for a in names.pad_batch(rows))
        X, Y = X.long(), Y.long()
        x = torch.nn.functional.one_hot(X.clamp(min=0), V).float() * (X >= 0).unsqueeze(-1)
        out, _ = rnn(x)
        logits = head(drop(out) if training else out)
        per_char = torch.nn.functional.cross_entropy(logits.reshape(-1, V), Y.reshape(-1),
                                                     reduction="none")
        return (per_char * mask.reshape(-1)).sum(), mask.sum()

    def step() -> int:
        rows = state["order"][state["cursor"] : state["cursor"] + B]
        state["cursor"] += B
        if state["cursor"] >= len(state["order"]):
            state["order"], state["cursor"] = bucketed_order(train, names.lengths, B, rng), 0
        rnn.train()
        total, n = loss_sum(rows, True)
        opt.zero_grad()
        (total / n).backward()
        torch.nn.utils.clip_grad_value_(params, cfg.clip)
        opt.step()
        return int(n)

    def check() -> float:
        rnn.eval()
        with torch.no_grad():
            parts = [loss_sum(val[i : i + 512], False) for i in range(0, len(val), 512)]
        return float(sum(p[0] for p in parts) / sum(p[1] for p in parts))

    every = max(1, -(-len(train) // B) // CHECKS_PER_EPOCH)
    best, at, steps, cps = budgeted(step, check, every, seconds)
    return Result("", row, best, at, steps, cps)


# -- corpora and the table --------------------------------------------------------------
def default_corpora(notes: list[str]) -> list[tuple[str, Corpus]]:
    """names.txt's cuts and names.txt itself, from SHARED_DATA (a note when it is absent)."""
    path = SHARED_DATA / "names.txt"
    if not path.is_file():
        notes.append(f"names.txt: skipped, {path} is not here")
        return []
    full = load_corpus(path)
    shuffled = [full.names[i] for i in np.random.default_rng(CUT_SEED).permutation(
        len(full.names))]
    return [*((f"names.txt first {n:,}", corpus_from_names(shuffled[:n])) for n in CUTS),
            ("names.txt", full)]


def measure(corpora: list[tuple[str, Corpus]], rows: list[Row], seconds: float,
            seed: int = 0, progress: Callable[[str], None] | None = None) -> list[Result]:
    results = []
    for title, corpus in corpora:
        for row in rows:
            run = run_torch if row.kind == "torch" else run_trainer
            r = run(corpus, row, seconds, seed)
            r.corpus = title
            results.append(r)
            if progress is not None:
                progress(f"  {title}: {row.label:<22} best {r.best:.4f} "
                         f"({r.steps:,} steps)")
    return results


def format_tables(results: list[Result], seconds: float) -> str:
    """Best held-out loss, rows by corpora (side by side); then where and how fast."""
    titles = list(dict.fromkeys(r.corpus for r in results))
    labels = list(dict.fromkeys(r.row.label for r in results))
    by = {(r.corpus, r.row.label): r for r in results}
    lines = [f"Best held-out loss per character (nats), {seconds:g} s of training per "
             "network row", "",
             "| model | " + " | ".join(titles) + " |",
             "|---|" + "---:|" * len(titles)]
    for label in labels:
        cells = [f"{by[t, label].best:.4f}" if (t, label) in by else "-" for t in titles]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += ["", "Steps and training characters per second (best reached at, s)", "",
              "| model | " + " | ".join(titles) + " |", "|---|" + "---:|" * len(titles)]
    for label in labels:
        cells = []
        for t in titles:
            r = by.get((t, label))
            cells.append("-" if r is None else "fitted" if r.row.kind == "ngram" else
                         f"{r.steps:,} steps, {r.chars_per_s:,.0f}/s ({r.best_at:.1f})")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def commands(rows: list[Row], seconds: float) -> str:
    return "\n".join(f"- {r.label}: `{r.command(seconds)}`" for r in rows)


def select_rows(only: list[str] | None, with_torch: bool, notes: list[str]) -> list[Row]:
    rows = [r for r in ROWS if not only or any(o in r.label for o in only)]
    if any(r.kind == "torch" for r in rows):
        if not with_torch:
            notes.append("PyTorch skipped (--no-torch).")
            rows = [r for r in rows if r.kind != "torch"]
        else:
            try:
                import torch  # noqa: F401
            except ImportError:
                notes.append("PyTorch is not installed: its rows are skipped.")
                rows = [r for r in rows if r.kind != "torch"]
    return rows


def section(corpus_paths: list[str] | None, seconds: float, with_torch: bool, out,
            only: list[str] | None = None, seed: int = 0) -> int:
    """The quality section of `dinogui bench`; 2 (one line on stderr) for a bad corpus."""
    notes: list[str] = []
    corpora = []
    if corpus_paths:
        for p in corpus_paths:
            if not Path(p).is_file():
                notes.append(f"{p}: skipped, it is not here")
                continue
            try:
                corpus = load_corpus(p)
            except CorpusError as e:
                print(f"bench quality: {e}", file=sys.stderr)
                return 2
            if len(corpus.names) < 2:
                print(f"bench quality: {p}: needs at least 2 names (one to train on, one "
                      f"held out); it has {len(corpus.names)}", file=sys.stderr)
                return 2
            corpora.append((p, corpus))
    else:
        corpora = default_corpora(notes)
    rows = select_rows(only, with_torch, notes)
    for title, c in corpora:
        held = max(1, round(VAL_FRACTION * len(c.names))) if len(c.names) > 1 else 0
        print(f"{title}: {len(c.names):,} names, about {held:,} held out", file=sys.stderr)
    results = measure(corpora, rows, seconds, seed,
                      progress=lambda line: print(line, file=sys.stderr, flush=True))
    if results:
        out(format_tables(results, seconds))
    out("\nEach row's command (CORPUS: the list; the cuts are names.txt's first N names "
        f"after a shuffle by seed {CUT_SEED}):\n")
    out(commands(rows, seconds))
    out("")
    for note in [*notes, MAKEMORE_NOTE]:
        out(note)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m dinogui.bench.quality", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=DEFAULT_SECONDS,
                   help=f"training seconds per network row and corpus (default "
                        f"{DEFAULT_SECONDS:g})")
    p.add_argument("--corpus", action="append", metavar="PATH",
                   help="a name list to use instead of names.txt and its cuts (repeatable)")
    p.add_argument("--only", action="append", metavar="TEXT",
                   help="only rows whose label contains TEXT (repeatable): gram, classic, "
                        "default, quality, gru, lstm, hybrid, PyTorch")
    p.add_argument("--no-torch", action="store_true", help="skip PyTorch even when installed")
    p.add_argument("--seed", type=int, default=0, help="initialisation and split seed")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not (args.seconds > 0 and math.isfinite(args.seconds)):
        print("bench quality: --seconds must be a positive number", file=sys.stderr)
        return 2
    return section(args.corpus, args.seconds, not args.no_torch,
                   lambda line="": print(line, flush=True), args.only, args.seed)


if __name__ == "__main__":
    sys.exit(main())
