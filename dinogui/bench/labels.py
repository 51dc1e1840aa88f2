"""Does one model over all kinds beat one model per kind? Held-out loss per kind, measured.

  python -m dinogui.bench.labels [--seconds S] [--cell gru --hidden 128 --dropout 0.3]

Kinds (from ../shared/data; an absent file is skipped with a note): towns-302.txt,
300 names of dinos.txt and 300 of names.txt (each a seeded shuffle's first 300).
The joint model trains on all kinds at once, labelled (a label embedding, see
core.models.reference); its held-out names are its stratified split (10% of each
kind). Each kind's own model trains on exactly that kind's training names and is
measured on exactly that kind's held-out names, so both sides see the same names.
Same preset and recipe for all; the joint model gets the sum of the separate
models' time (S per kind), i.e. the same total compute. Both are checked every
quarter epoch (at least MIN_EVERY iterations) and train for their whole time (or
stop after --patience checks without a new best of any kind); each side's best
held-out loss per character (nats) is reported for each kind, averaged over
--seeds seeds (each seed its own split, initial weights and order).
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from dinogui.bench.ngram import CUT_SEED, SHARED_DATA
from dinogui.core.config import TrainConfig
from dinogui.core.corpus import CorpusError, corpus_from_names, load_corpus, with_labels
from dinogui.core.models import MODELS
from dinogui.core.threads import training_threads
from dinogui.core.trainer import Trainer
from dinogui.core.validation import Evaluator

KINDS = (("towns", "towns-302.txt", None), ("dinos", "dinos.txt", 300),
         ("names", "names.txt", 300))
MIN_EVERY = 5


def kinds() -> list[tuple[str, list[str]]]:
    out = []
    for label, file, cut in KINDS:
        try:
            names = load_corpus(SHARED_DATA / file).names
        except (CorpusError, OSError) as e:
            print(f"skipped {file}: {e}", file=sys.stderr)
            continue
        if cut is not None:
            order = np.random.default_rng(CUT_SEED).permutation(len(names))
            names = [names[i] for i in order[:cut]]
        out.append((label, names))
    return out


def config(args: argparse.Namespace) -> TrainConfig:
    return TrainConfig.for_preset("default", cell=args.cell, hidden=args.hidden,
                                  dropout=args.dropout, seed=args.seed, sample_every=10**9,
                                  samples=0)


def train(trainer: Trainer, seconds: float, check,
          patience: int = 0) -> tuple[np.ndarray, int, float]:
    """Steps until the time or the patience runs out; check() -> losses (one per kind)
    at every check. (the best of each, iterations, seconds)."""
    epoch = max(1, len(trainer.train_rows) // trainer.config.batch_size)
    every = max(MIN_EVERY, epoch // 4)
    best, quiet, start = None, 0, time.perf_counter()
    while time.perf_counter() - start < seconds and not (patience and quiet >= patience):
        trainer.step()
        if trainer.iteration % every:
            continue
        losses = np.asarray(check(), dtype=float)
        improved = best is None or (losses < best).any()
        best = losses if best is None else np.minimum(best, losses)
        quiet = 0 if improved else quiet + 1
    return best, trainer.iteration, time.perf_counter() - start


def measure(args: argparse.Namespace, data: list[tuple[str, list[str]]]) -> list[dict]:
    labels = [label for label, names in data for _ in names]
    joint_corpus = with_labels(corpus_from_names([n for _, ns in data for n in ns]), labels)
    joint = Trainer(joint_corpus, config(args))
    joint.set_live(val_every=10**9)  # the bench checks, per kind
    K, held_rows = len(data), set(joint.val_rows.tolist())
    split = []  # per kind: its training names, its held-out names (those its own model can read)
    for k in range(K):
        rows_k = np.flatnonzero(joint_corpus.name_labels == k)
        train_names = [joint_corpus.names[i] for i in rows_k if i not in held_rows]
        seen = set("".join(train_names))
        held = [joint_corpus.names[i] for i in rows_k if i in held_rows]
        split.append((train_names, [n for n in held if set(n) <= seen], len(held)))
    joint_evals = [Evaluator.for_names([np.array(joint.vocab.encode(n)) for n in held],
                                       np.full(len(held), k), K)
                   for k, (_, held, _) in enumerate(split)]

    def joint_check():
        model = MODELS[args.cell](joint.params)
        return [ev.loss_per_char(model) for ev in joint_evals]

    joint_best, joint_its, joint_s = train(joint, K * args.seconds, joint_check, args.patience)
    rows = []
    for k, (label, _) in enumerate(data):
        train_names, held, n_held = split[k]
        own = Trainer(corpus_from_names(train_names), TrainConfig.from_dict(
            {**config(args).to_dict(), "val_fraction": 0.0}))
        own.set_live(val_every=10**9)
        ev = Evaluator.for_names([np.array(own.vocab.encode(n)) for n in held])
        best, its, secs = train(own, args.seconds, lambda own=own, ev=ev: [
            ev.loss_per_char(MODELS[args.cell](own.params))], args.patience)
        rows.append({"kind": label, "train": len(train_names), "held": len(held),
                     "unseen": n_held - len(held), "own": float(best[0]), "own_its": its,
                     "own_s": secs, "joint": float(joint_best[k]),
                     "joint_its": joint_its, "joint_s": joint_s})
    return rows


def table(rows: list[dict]) -> str:
    head = (f"{'kind':<8} {'train':>5} {'held':>4} {'own model':>9} {'joint':>7} "
            f"{'joint - own':>11}")
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(f"{r['kind']:<8} {r['train']:>5} {r['held']:>4} {r['own']:>9.4f} "
                     f"{r['joint']:>7.4f} {r['joint'] - r['own']:>+11.4f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m dinogui.bench.labels")
    p.add_argument("--seconds", type=float, default=30.0, help="per kind (the joint: K times)")
    p.add_argument("--cell", default="gru")
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--dropout", type=float, default=0.3)
    p.add_argument("--seeds", type=int, default=2, help="runs averaged (seeds 0, 1, ...)")
    p.add_argument("--patience", type=int, default=0,
                   help="stop after this many checks without a new best (0: use all the time)")
    args = p.parse_args(argv)
    data = kinds()
    if len(data) < 2:
        print("needs at least two kinds from ../shared/data", file=sys.stderr)
        return 1
    print(f"{args.cell} {args.hidden}, dropout {args.dropout}, {args.seeds} seeds; {args.seconds:g}"
          f" s per kind's own model, {len(data) * args.seconds:g} s for the joint one; best "
          "held-out loss per character (nats) on the same held-out names")
    runs = []
    with training_threads():
        for seed in range(args.seeds):
            args.seed = seed
            runs.append(measure(args, data))
            r = runs[-1][0]
            print(f"seed {seed}: joint {r['joint_its']:,} iterations in {r['joint_s']:.1f} s; "
                  "own " + ", ".join(f"{x['kind']} {x['own_its']:,} in {x['own_s']:.1f} s"
                                     for x in runs[-1]) + "; joint - own: "
                  + ", ".join(f"{x['kind']} {x['joint'] - x['own']:+.4f}" for x in runs[-1]),
                  flush=True)
    rows = [{**first, "own": float(np.mean([run[k]["own"] for run in runs])),
             "joint": float(np.mean([run[k]["joint"] for run in runs]))}
            for k, first in enumerate(runs[0])]
    print(table(rows))
    if any(x["unseen"] for x in rows):
        print("held-out names left out of both sides (a letter their kind's own model never "
              "saw): " + ", ".join(f"{x['kind']} {x['unseen']}" for x in rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
