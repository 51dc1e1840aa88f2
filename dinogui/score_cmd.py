"""`dinogui score`: how likely a checkpoint's model finds each of some names.

One line per name, `name<TAB>log-likelihood per character` (nats, six decimals):
the number `dinogui sample --scores` prints in its second column, here computed
with the weights widened to float64, as the exported generators compute it. A
lower-case model reads the names lower-cased (as it read its corpus); the name is
printed as given. A name with a character the model does not know gets one line
on stderr instead, the other names are still scored, and the exit status is 1.

Labels: a labelled model prints one column per label, in the model's order, then the
most likely label: `name<TAB>ll_a<TAB>ll_b<TAB>best` (a header line `name<TAB>a<TAB>b<TAB>best`
comes first, on stdout). --label L (or a blend "a:0.7,b:0.3") scores under that kind
alone, in the two-column form; --label on an unlabelled model is refused with the list
of known labels (none).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys

import numpy as np

from dinogui.core import checkpoint
from dinogui.core.corpus import escape_controls, quote, read_text, split_lines
from dinogui.core.scoring import encode_for_scoring
from dinogui.core.trainer import Trainer
from dinogui.run_safety import Printer

MAX_ERROR_LINE = 2000


def add_parser(sub) -> None:
    p = sub.add_parser("score", help="print the log-likelihood per character of each NAME given "
                                     "(and of each line of --file)")
    p.add_argument("--checkpoint", required=True, metavar="CKPT")
    p.add_argument("names", nargs="*", metavar="NAME", help="names to score")
    p.add_argument("--file", metavar="PATH",
                   help="also score the names in this file, one per line (blank lines skipped)")
    p.add_argument("--best", action="store_true",
                   help="use the parameters with the best held-out loss (when validated)")
    p.add_argument("--label", metavar="L",
                   help="score as names of this kind (labelled models; refused otherwise)")


def sampler_for(trainer: Trainer, best: bool):
    """The latest or (--best) the best weights as a sampler; a warning when --best has none."""
    if best and trainer.best_params is None:
        print("dinogui: warning: --best: this model has no best weights (no names held out, "
              "or none measured yet); using the latest", file=sys.stderr)
    return trainer.sampler(best=best)


def widened(trainer: Trainer, best: bool):
    """The model as a sampler with float64 weights (copies: the checkpoint's stay as read).

    Only floating arrays are widened: a count model's n-grams and counts stay integers.
    """
    sampler = sampler_for(trainer, best)
    return dataclasses.replace(sampler, params={
        k: np.asarray(v, dtype=np.float64) if v.dtype.kind == "f" else v
        for k, v in sampler.params.items()})


def run(args: argparse.Namespace) -> int:
    names = list(args.names)
    if args.file:
        names += [line.strip() for line in split_lines(read_text(args.file)) if line.strip()]
    if not names:
        raise ValueError("give names to score, or --file with one name per line")
    trainer = checkpoint.load(args.checkpoint)
    labels = trainer.corpus.labels
    sampler = widened(trainer, args.best)
    if args.label is not None or not labels:
        kinds = [sampler.with_label(args.label)]  # ValueError naming the known labels
    else:
        kinds = [sampler.with_label(label) for label in labels]
    lower = trainer.corpus.lowercase
    read = [n.lower() if lower else n for n in names]
    known, refused = [], 0
    for as_read in read:
        try:
            encode_for_scoring(sampler.vocab, as_read)
            known.append(True)
        except ValueError as e:
            print(f"dinogui: {quote(e, MAX_ERROR_LINE)}", file=sys.stderr)
            known.append(False)
            refused += 1
    scorable = [r for r, k in zip(read, known, strict=True) if k]
    table = np.array([kind.loglik_per_char(scorable) for kind in kinds]).T  # (names, kinds)
    shown = [escape_controls(name) for name, k in zip(names, known, strict=True) if k]
    if len(kinds) == 1:
        lines = [f"{name}\t{row[0]:.6f}" for name, row in zip(shown, table, strict=True)]
    else:
        header = "\t".join(["name", *(escape_controls(x) for x in labels), "best"])
        lines = [header] * bool(shown) + [
            "\t".join([name, *(f"{v:.6f}" for v in row), escape_controls(labels[row.argmax()])])
            for name, row in zip(shown, table, strict=True)]
    if lines:
        Printer(strict=True)("\n".join(lines))
    return 1 if refused else 0
