"""How good a model each cell trains in a fixed wall-time budget.

  python -m dinogui.bench.quality [--seconds S] [--corpus PATH ...] [--only LABEL ...]

For each corpus (by default the bundled dinosaurs and ../shared/data/names.txt,
skipped with a note when absent) and each contender (the seed's classic
settings as the baseline, then the vanilla RNN with one layer and with two
and dropout, the GRU and the LSTM of the default preset), train for S seconds
of training time and report the best per-character loss on held-out names.
The held-out names are min(1000, 10%) of the corpus, as makemore splits its
test set, drawn by the run's seed (0), so every contender is measured on the
same names. Evaluation time is not counted in the budget. The batched
contenders decay the learning rate along a cosine over the budget to 5% of its
start (the classic row keeps the seed's constant rate). Their settings are the
best of a few tried on names.txt at 300 s on a 2-core machine. Figures depend
on the machine and its load: read them side by side.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from dinogui.core.corpus import Corpus, CorpusError, bundled_corpus_path, load_corpus
from dinogui.core.trainer import TrainConfig, Trainer

SHARED_DATA = Path(os.environ.get("DINOGUI_SHARED_DATA",
                                  Path(__file__).resolve().parents[2] / "shared" / "data"))
MAKEMORE_NOTE = "makemore's transformer: ~1.92 nats/char on names.txt (its own test split)"
LR_FLOOR = 0.05  # the cosine schedule ends at this fraction of the starting rate
EVALS = 60  # held-out evaluations per budget (small corpora overfit within seconds)
PRINT_EVERY = 6  # evaluations per progress line


@dataclass(frozen=True)
class Contender:
    label: str
    settings: dict  # TrainConfig fields
    schedule: bool = True  # cosine-decay the learning rate over the budget

    def describe(self) -> str:
        s = self.settings
        if s["preset"] == "classic":
            return f"hidden {s.get('hidden', 50)}, batch 1, sgd lr {s.get('lr', 0.01)}, clip 5"
        layers = f" x{s['layers']}" if s.get("layers", 1) > 1 else ""
        dropout = f", dropout {s['dropout']}" if s.get("dropout") else ""
        return (f"hidden {s['hidden']}{layers}, batch {s['batch_size']}, "
                f"{s.get('optimizer', 'adam')} lr {s['lr']} cosine{dropout}")


CONTENDERS = (
    Contender("classic (seed)", {"preset": "classic"}, schedule=False),
    Contender("rnn", {"preset": "default", "cell": "rnn", "hidden": 512,
                      "batch_size": 128, "lr": 0.003}),
    Contender("rnn x2", {"preset": "default", "cell": "rnn", "hidden": 256, "layers": 2,
                         "batch_size": 128, "lr": 0.005, "dropout": 0.25}),
    Contender("gru", {"preset": "default", "cell": "gru", "hidden": 512,
                      "batch_size": 128, "lr": 0.004, "dropout": 0.35}),
    Contender("lstm", {"preset": "default", "cell": "lstm", "hidden": 384,
                       "batch_size": 128, "lr": 0.005, "dropout": 0.3}),
)


@dataclass
class Result:
    corpus: str
    contender: Contender
    best_val: float
    best_at: float  # training seconds when the best was measured
    iterations: int
    epochs: float
    chars_per_second: float
    train_loss: float  # smoothed per-character training loss at the end


def held_out_fraction(n_names: int) -> float:
    """makemore's test split, min(1000, 10%) of the names (at least one), as a fraction."""
    return max(1, min(1000, int(n_names * 0.1))) / n_names


def bench_one(title: str, corpus: Corpus, contender: Contender, seconds: float,
              seed: int = 0, progress=None) -> Result:
    """Train one contender for `seconds` of training time; its best held-out loss."""
    config = TrainConfig.for_preset(
        contender.settings["preset"],
        **{k: v for k, v in contender.settings.items() if k != "preset"},
        seed=seed, samples=0, sample_every=10**9, val_every=10**9,
        val_fraction=held_out_fraction(len(corpus.names)))
    trainer = Trainer(corpus, config)
    trainer.step()  # untimed: the trainer validates after its first step
    lr0 = config.lr
    trained = 0.0
    next_eval = seconds / EVALS
    best, best_at = math.inf, 0.0
    evals = 0
    while True:
        if contender.schedule:
            cos = 0.5 * (1.0 + math.cos(math.pi * min(1.0, trained / seconds)))
            trainer.set_live(lr=lr0 * (LR_FLOOR + (1.0 - LR_FLOOR) * cos))
        t0 = time.perf_counter()
        trainer.step()
        trained += time.perf_counter() - t0
        done = trained >= seconds
        if trained >= next_eval or done:
            val = trainer.validate()
            if val < best:
                best, best_at = val, trained
            next_eval += seconds / EVALS
            evals += 1
            if progress is not None and (evals % PRINT_EVERY == 0 or done):
                progress(f"  {contender.label:<15} {trained:6.0f}s  iteration "
                         f"{trainer.iteration:>7}  train {trainer.state.smooth_char:.3f}"
                         f"  held-out {val:.4f}  best {best:.4f}")
        if done:
            break
    n_train = len(trainer.train_rows)
    st = trainer.state  # the history keeps only some steps: count from the order's cursor
    names_seen = trainer.iteration if trainer.config.preset == "classic" else (
        st.epoch * len(st.order) + st.cursor)
    return Result(corpus=title, contender=contender, best_val=best, best_at=best_at,
                  iterations=trainer.iteration, epochs=names_seen / n_train,
                  chars_per_second=trainer.state.total_chars / trained,
                  train_loss=trainer.state.smooth_char)


def format_table(results: list[Result], seconds: float) -> str:
    head = ("| corpus | model | settings | best held-out loss (nats/char) | at | "
            "steps | epochs | chars/s |")
    lines = [f"Best held-out loss within {seconds:g} s of training", "", head,
             "|---|---|---|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {r.corpus} | {r.contender.label} | {r.contender.describe()} | "
                     f"{r.best_val:.4f} | {r.best_at:.0f} s | {r.iterations} | "
                     f"{r.epochs:.1f} | {r.chars_per_second:,.0f} |")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m dinogui.bench.quality", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=300.0,
                   help="training seconds per model and corpus (default 300)")
    p.add_argument("--corpus", action="append", metavar="PATH",
                   help="a name list to use instead of the defaults (repeatable)")
    p.add_argument("--only", action="append", metavar="LABEL",
                   choices=list(dict.fromkeys(c.label.split()[0] for c in CONTENDERS)),
                   help="run only these rows: classic, rnn, gru, lstm (repeatable)")
    p.add_argument("--seed", type=int, default=0, help="initialisation and split seed")
    return p


def _corpora(paths: list[str] | None) -> list[tuple[str, Path]]:
    if paths:
        return [(p, Path(p)) for p in paths]
    return [("bundled dinosaurs", bundled_corpus_path()), ("names.txt", SHARED_DATA / "names.txt")]


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not args.seconds > 0:
        print("bench_quality: --seconds must be positive", file=sys.stderr)
        return 2
    contenders = [c for c in CONTENDERS if not args.only or c.label.split()[0] in args.only]
    results = []
    notes = []
    for title, path in _corpora(args.corpus):
        if not path.is_file():
            notes.append(f"{title}: skipped, {path} is not here")
            continue
        try:
            corpus = load_corpus(path)
        except CorpusError as e:
            print(f"bench_quality: {e}", file=sys.stderr)
            return 2
        if len(corpus.names) < 2:
            print(f"bench_quality: {path}: needs at least 2 names (one to train on, one held "
                  f"out); it has {len(corpus.names)}", file=sys.stderr)
            return 2
        n_val = int(round(held_out_fraction(len(corpus.names)) * len(corpus.names)))
        print(f"{title}: {len(corpus.names)} names, {n_val} held out", file=sys.stderr)
        for contender in contenders:
            results.append(bench_one(
                title, corpus, contender, args.seconds, args.seed,
                progress=lambda line: print(line, file=sys.stderr, flush=True)))
    print(format_table(results, args.seconds))
    print()
    for note in [*notes, MAKEMORE_NOTE]:
        print(note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
