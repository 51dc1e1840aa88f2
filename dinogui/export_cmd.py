"""`dinogui export`: a checkpoint's model as a generator that runs without dinogui.

json: the weights, vocabulary, labels and architecture; py: one standard-library
Python file; js: one ES module for browsers and Node (core.export, docs/export.md).
The file is written atomically: a failure leaves any old file as it was.
"""

from __future__ import annotations

import argparse
import sys

from dinogui.core import checkpoint, export
from dinogui.core.trainer import Trainer
from dinogui.document.file_kinds import same_file
from dinogui.score_cmd import sampler_for


def add_parser(sub) -> None:
    p = sub.add_parser("export", help="write the model as a generator: a Python script, an "
                                      "ES module or JSON")
    p.add_argument("--checkpoint", required=True, metavar="CKPT")
    p.add_argument("--format", required=True, choices=export.FORMATS,
                   help="py: one Python file (standard library only); js: one ES module "
                        "(browser and Node); json: the weights for your own loader")
    p.add_argument("--out", required=True, metavar="PATH", help="the file to write")
    p.add_argument("--best", action="store_true",
                   help="use the parameters with the best held-out loss (when validated)")


def source_of(trainer: Trainer) -> str:
    """What the export says it was trained on, for a reader of the file."""
    return f"{trainer.corpus.title}, iteration {trainer.iteration}"


def run(args: argparse.Namespace) -> int:
    if same_file(args.out, args.checkpoint):
        raise ValueError(f"--out {args.out}: that is the checkpoint itself; choose another file")
    trainer = checkpoint.load(args.checkpoint)
    sampler = sampler_for(trainer, args.best)
    size = export.export(sampler, args.format, args.out, trainer.corpus.lowercase,
                         source_of(trainer))
    what = "the model as JSON" if args.format == "json" else f"a {args.format} generator"
    print(f"wrote {args.out}: {what}, {size:,} bytes")
    if args.format == "js" and not args.out.endswith(".mjs"):
        print("dinogui: note: Node runs the module as it is when its name ends in .mjs "
              "(browsers take any name)", file=sys.stderr)
    return 0
