"""The default preset's recipe against the best count model, on short and longer lists.

  python -m dinogui.bench.recipe [--seconds 20] [--sizes 300,500,1000,3000]

For each list (towns-302.txt, cuts of names.txt after a fixed shuffle, a 400-name cut of
dinos.txt; files from ../shared/data beside the checkout, skipped when absent) it trains the
recipe's model (core.recipe: the CLI's and the window's first run) and, for comparison, the
default preset's plain RNN, each until its patience or the time budget, on the Trainer's split
(a tenth held out, seed 0). It prints the best held-out loss per character, the best
interpolated Kneser-Ney count model of orders 2-5 (discounts tuned on the same held-out names),
the difference (negative: the recipe is better), the share of 50 names drawn from the best
weights that are not in the list, and the seconds taken.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from dinogui.core import recipe
from dinogui.core.config import TrainConfig
from dinogui.core.corpus import Corpus, corpus_from_names, load_corpus
from dinogui.core.models.ngram import KneserNey
from dinogui.core.trainer import Trainer

SHARED_DATA = Path(os.environ.get("DINOGUI_SHARED_DATA",
                                  Path(__file__).resolve().parents[3] / "shared" / "data"))
SAMPLES = 50


def lists(sizes: list[int]) -> list[tuple[str, Corpus]]:
    out = []
    if (SHARED_DATA / "towns-302.txt").exists():
        out.append(("towns-302", load_corpus(SHARED_DATA / "towns-302.txt")))
    if (SHARED_DATA / "names.txt").exists():
        names = load_corpus(SHARED_DATA / "names.txt").names
        order = np.random.default_rng(0).permutation(len(names))
        out += [(f"names, {n:,}", corpus_from_names([names[i] for i in order[:n]]))
                for n in sizes]
    if (SHARED_DATA / "dinos.txt").exists():
        dinos = load_corpus(SHARED_DATA / "dinos.txt").names
        pick = np.random.default_rng(1).permutation(len(dinos))[:400]
        out.append(("dinos, 400", corpus_from_names([dinos[i] for i in pick])))
    return out


def best_count_model(trainer: Trainer) -> tuple[int, float]:
    """(order, held-out loss) of the best Kneser-Ney model of orders 2-5 on this split."""
    train = trainer._names(trainer.train_rows)
    held = trainer._names(trainer.val_rows)
    losses = {o: KneserNey.fit(train, trainer.vocab.size, o).tune(held) for o in range(2, 6)}
    order = min(losses, key=losses.get)
    return order, losses[order]


def run(corpus: Corpus, config: TrainConfig, seconds: float) -> tuple[Trainer, float]:
    trainer = Trainer(corpus, config)
    t0 = time.perf_counter()
    with np.errstate(all="ignore"):
        while time.perf_counter() - t0 < seconds:
            if trainer.step().stopped is not None:
                break
    return trainer, time.perf_counter() - t0


def new_share(trainer: Trainer) -> float:
    names = trainer.sampler(best=True).sample(SAMPLES, seed=0)
    known = trainer.corpus.name_set()
    return sum(n not in known for n in names) / SAMPLES


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dinogui.bench.recipe",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="budget per run (20)")
    parser.add_argument("--sizes", default="300,500,1000,3000",
                        help="cuts of names.txt (300,500,1000,3000)")
    args = parser.parse_args(argv)
    found = lists([int(s) for s in args.sizes.split(",") if s])
    if not found:
        print(f"no lists in {SHARED_DATA}: nothing to measure")
        return 0
    base = dict(samples=0, sample_every=10**9)
    print(f"{'list':<12} {'model':<38} {'best':>7} {'count (order)':>14} {'vs count':>9} "
          f"{'new':>5} {'s':>5}")
    for label, corpus in found:
        contenders = {
            recipe.describe(corpus).split(": ", 1)[1]: TrainConfig.for_preset(
                "default", **base, **recipe.settings_for(corpus)),
            "default preset, plain RNN of 50, patience 12": TrainConfig.for_preset(
                "default", **base, patience=recipe.COMMON["patience"]),
        }
        count = None
        for name, config in contenders.items():
            trainer, took = run(corpus, config, args.seconds)
            count = count or best_count_model(trainer)
            best = trainer.state.best_val
            print(f"{label:<12} {name[:38]:<38} {best:7.4f} {count[1]:9.4f} ({count[0]}) "
                  f"{best - count[1]:+9.4f} {new_share(trainer):5.0%} {took:5.1f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
