"""`dinogui lr-find`: sweep the learning rate on a copy of a model and suggest one.

The model is a fresh one from the same flags `dinogui train` takes, or a checkpoint's
(which is only read). The sweep itself is core.lr_find's.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from dinogui.arguments import help_for, of
from dinogui.core import checkpoint
from dinogui.core.corpus import bundled_corpus_path, load_corpus, quote
from dinogui.core.lr_find import DIVERGE, Sweep, find_lr
from dinogui.core.settings import LR_FIND
from dinogui.core.trainer import Trainer

# the model flags of `dinogui train` that lr-find takes (the rate is the sweep's)
MODEL_FLAGS = ("preset", "hidden", "clip", "seed", "batch_size", "cell", "layers", "dropout",
               "optimizer", "val_fraction")
TABLE_ROWS = 20  # the printed table shows about this many of the sweep's steps


def add_parser(sub, add_setting) -> None:
    """The subcommand; add_setting(parser, setting) adds a core.settings flag as train does."""
    from dinogui.core.settings import TRAINING

    p = sub.add_parser("lr-find", help="sweep the learning rate on a copy of a model and "
                                       "suggest one (Smith's range test)")
    p.add_argument("--corpus", help="text file, one name per line (default: bundled dinosaurs)")
    p.add_argument("--no-lowercase", action="store_true", help="keep the names' capitals")
    p.add_argument("--checkpoint", metavar="CKPT",
                   help="sweep on a copy of this saved model (the file is only read)")
    for name in MODEL_FLAGS:
        add_setting(p, TRAINING[name])
    for setting in LR_FIND.values():
        p.add_argument(setting.flag, type=of(setting), default=setting.default,
                       help=help_for(setting))
    p.add_argument("--csv", metavar="PATH",
                   help="write every step (rate, loss, smoothed loss) to this CSV file")


def run(args: argparse.Namespace) -> int:
    from dinogui.cli import TRAIN_FLAGS, UsageError, _config_for

    if not args.min_lr < args.max_lr:
        raise UsageError(f"--min-lr {args.min_lr:g} must be below --max-lr {args.max_lr:g}")
    if args.csv:
        _check_csv(Path(args.csv))
    if args.checkpoint:
        given = [f"--{k.replace('_', '-')}" for k in ("corpus", *MODEL_FLAGS)
                 if getattr(args, k) is not None] + (["--no-lowercase"] if args.no_lowercase
                                                     else [])
        if given:
            raise UsageError(f"{', '.join(given)} cannot go with --checkpoint (the checkpoint "
                             "holds its corpus and model)")
        trainer = checkpoint.load(args.checkpoint)
    else:
        flags = dict.fromkeys(TRAIN_FLAGS) | vars(args)
        corpus = load_corpus(args.corpus or bundled_corpus_path(), not args.no_lowercase)
        config = _config_for(argparse.Namespace(**flags), corpus)
        trainer = Trainer(corpus, config)
    cfg = trainer.config
    model = "" if cfg.preset == "classic" else f"{cfg.cell} x{cfg.layers}, batch " \
        f"{cfg.batch_size}, {cfg.optimizer}, "
    print(f"preset {cfg.preset}: {model}hidden {cfg.hidden}, clip {cfg.clip:g}, seed "
          f"{cfg.seed}, from iteration {trainer.iteration}; sweeping the learning rate "
          f"from {args.min_lr:g} to {args.max_lr:g} in {args.steps} steps on a copy")
    sweep = find_lr(trainer, args.min_lr, args.max_lr, args.steps)
    if len(sweep.rates):
        print(table(sweep))
    if args.csv:
        write_csv(sweep, Path(args.csv))
    if sweep.suggestion is None:
        raise UsageError(f"{ending(sweep)}: no rate to suggest (lower --min-lr)")
    print(ending(sweep))
    print(suggestion_line(sweep))
    return 0


def _check_csv(path: Path) -> None:
    """Refuse an unwritable --csv before the sweep (one line, through main's OSError)."""
    if path.is_dir():
        raise IsADirectoryError(21, "is a folder", str(path))
    if not path.parent.is_dir():
        raise FileNotFoundError(2, "its folder does not exist", str(path))


def table(sweep: Sweep) -> str:
    """About TABLE_ROWS steps (evenly spaced, the first and last and the lowest among them),
    as `rate  smoothed loss`."""
    n = len(sweep.rates)
    every = max(1, -(-n // TABLE_ROWS))
    shown = sorted({*range(0, n, every), n - 1, sweep.lowest})
    lines = [f"{'rate':>10}  smoothed loss per character"]
    for i in shown:
        mark = "  <- lowest" if i == sweep.lowest else ""
        lines.append(f"{sweep.rates[i]:>10.3g}  {sweep.smoothed[i]:.4f}{mark}")
    return "\n".join(lines)


def ending(sweep: Sweep) -> str:
    n, planned = len(sweep.rates), sweep.planned
    if sweep.stopped == "diverged":
        return (f"stopped after {n} of {planned} steps, at rate {sweep.rates[-1]:.3g}: the "
                f"smoothed loss passed {DIVERGE:g} times its lowest")
    if sweep.stopped == "nan":
        return (f"stopped after {n} of {planned} steps: the step at rate "
                f"{sweep.failed_rate:.3g} diverged (NaN or infinite weights or loss)")
    if sweep.stopped == "cancelled":
        return f"cancelled after {n} of {planned} steps"
    return f"swept all {n} rates"


def suggestion_line(sweep: Sweep) -> str:
    i = sweep.lowest
    if sweep.rates[i] / 10 < sweep.rates[0]:  # suggest() keeps to the rates swept
        return (f"suggested learning rate: {sweep.suggestion:g}, the lowest swept: the "
                f"smoothed loss was lowest near the start ({sweep.smoothed[i]:.4f} at "
                f"{sweep.rates[i]:.3g}), as on a model that has trained already; "
                f"train with --lr {sweep.suggestion:g} or sweep lower rates (--min-lr)")
    return (f"suggested learning rate: {sweep.suggestion:g} (a tenth of "
            f"{sweep.rates[i]:.3g}, where the smoothed loss was lowest: "
            f"{sweep.smoothed[i]:.4f}); train with --lr {sweep.suggestion:g}")


def write_csv(sweep: Sweep, path: Path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["step", "rate", "loss_per_char", "smoothed_loss_per_char"])
        for i, (rate, loss, sm) in enumerate(zip(sweep.rates, sweep.losses, sweep.smoothed,
                                                 strict=True)):
            w.writerow([i, repr(float(rate)), repr(float(loss)), repr(float(sm))])
    print(f"wrote {quote(path, 1000)} ({len(sweep.rates)} steps)", file=sys.stderr)
