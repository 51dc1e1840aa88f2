"""Does the hybrid help? The network alone, the count model alone and the two mixed, on the
held-out names of short lists and of names.txt.

  python -m dinogui.bench.hybrid [--seconds S] [--cell gru --hidden 128 --dropout 0.3]

One run per corpus (towns-302.txt, names.txt cut to 300, 1,000 and 3,000 names as
dinogui.bench.ngram cuts it, and names.txt), trained through the Trainer with
`mix_ngram` set: the network trains exactly as it would alone (the mixture only
changes what a check measures), so each check gives both the network's own held-out
loss and the mixture's. Checks come every quarter of an epoch (at least every
MIN_EVERY iterations); the run stops after S seconds or PATIENCE checks without a
new best of the network's own loss. The table shows each one's best held-out loss
per character (nats), the count model's (order 5, discounts tuned on the same
held-out names), the mixing weight at the mixture's best, and the share of 50 names
drawn from the best weights that are not in the list (network alone, mixed).
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from dinogui.bench.ngram import corpora
from dinogui.core.config import TrainConfig
from dinogui.core.corpus import corpus_from_names
from dinogui.core.models import as_batched
from dinogui.core.models.mixture import target_probs
from dinogui.core.sampling import NameSampler
from dinogui.core.threads import training_threads
from dinogui.core.trainer import Trainer

PATIENCE = 8  # checks without a new best of the network alone
MIN_EVERY = 5  # iterations between checks at the least
DRAWN = 50  # names drawn from the best weights for the share of new ones


def measure(names: list[str], args: argparse.Namespace) -> dict:
    cfg = TrainConfig.for_preset("default", cell=args.cell, hidden=args.hidden,
                                 dropout=args.dropout, mix_ngram=args.order, seed=args.seed)
    t = Trainer(corpus_from_names(names), cfg)
    epoch = max(1, len(t.train_rows) // cfg.batch_size)
    every = max(MIN_EVERY, epoch // 4)
    t.set_live(val_every=every, sample_every=10**9, samples=0)
    val = t._names(t.val_rows)
    best_net, quiet, start = np.inf, 0, time.perf_counter()
    net_best_params = None
    while time.perf_counter() - start < args.seconds and quiet < PATIENCE:
        r = t.step()
        if r.val_loss is None:
            continue
        net = as_batched("default", cfg.cell, t.params)
        own = float(-np.log(target_probs(net, val)).mean())
        if own < best_net:
            best_net, quiet = own, 0
            net_best_params = {k: v.copy() for k, v in t.params.items()}
        else:
            quiet += 1
    count = t.mix_count().held_out_loss(val)
    known = set(names)
    new = [sum(n not in known for n in NameSampler("default", cfg.cell, p, t.vocab).sample(
        DRAWN, seed=1)) / DRAWN for p in (net_best_params, t.best_params)]
    return {"count": count, "net": best_net, "mixed": t.state.best_val,
            "weight": float(t.best_params["mix/weight"][0]), "iterations": t.iteration,
            "seconds": time.perf_counter() - start, "new": new}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m dinogui.bench.hybrid")
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--cell", default="gru")
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--dropout", type=float, default=0.3)
    p.add_argument("--order", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--only", help="corpus labels containing this text")
    args = p.parse_args(argv)
    print(f"{args.cell} {args.hidden}, dropout {args.dropout}, mixed with a {args.order}-gram; "
          f"at most {args.seconds:g} s per corpus; held-out loss per character (nats)")
    print(f"{'corpus':<22} {'names':>6} {'count':>7} {'net':>7} {'mixed':>7} "
          f"{'mixed-count':>11} {'weight':>6} {'iters':>6} {'s':>5} {'new net/mixed':>13}",
          flush=True)
    with training_threads():
        for label, names, _vocab in corpora():
            if args.only and args.only not in label:
                continue
            m = measure(names, args)
            print(f"{label:<22} {len(names):>6,} {m['count']:>7.4f} {m['net']:>7.4f} "
                  f"{m['mixed']:>7.4f} {m['mixed'] - m['count']:>+11.4f} {m['weight']:>6.3f} "
                  f"{m['iterations']:>6,} {m['seconds']:>5.0f} "
                  f"{m['new'][0]:>6.0%}/{m['new'][1]:<6.0%}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
