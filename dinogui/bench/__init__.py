"""Benchmarks, the seed's algorithm (seed.py) and the README's screenshots.

Only `add_parser` and `run` live here, so that `dinogui` (whose `bench` subcommand
they define) starts without importing the benchmarks themselves.
"""

from __future__ import annotations

import argparse

from dinogui.arguments import positive_float, positive_int

SECTIONS = ("speed", "threads", "memory", "scaling", "window", "quality")
DEFAULT_SECTIONS = SECTIONS[:5]  # quality only when asked for: it trains ~40 models


def add_parser(sub) -> None:
    b = sub.add_parser("bench", help="measure training speed, quality and memory against the "
                                     "seed and PyTorch")
    b.add_argument("--corpus", help="names to train on (default: bundled dinosaurs)")
    b.add_argument("--seconds", type=positive_float, default=None,
                   help="training-time budget per contender (default 10, 2 with --quick; the "
                        "quality section's: 4, 1 with --quick)")
    b.add_argument("--quick", action="store_true", help="short budgets, for a first look")
    b.add_argument("--hidden", type=positive_int, default=None, help="hidden units (default 50)")
    b.add_argument("--batch-size", type=positive_int, default=None,
                   help="names per step for the default preset and PyTorch (default: the preset's)")
    b.add_argument("--no-torch", action="store_true", help="skip PyTorch even when installed")
    b.add_argument("--seeds", type=positive_int, default=None,
                   help="seeds whose best held-out losses are averaged for the default preset "
                        "and PyTorch (default 3, 1 with --quick)")
    b.add_argument("--sections", default=",".join(DEFAULT_SECTIONS),
                   help=f"comma-separated, any of: {', '.join(SECTIONS)} (default: all but "
                        "quality; window: the live window against headless training, run "
                        "last; quality: n-grams, presets, GRU, LSTM, the hybrid and PyTorch "
                        "on names.txt and its cuts, or on --corpus, --seconds each, default 4)")


def run(args: argparse.Namespace) -> int:
    from dinogui.bench.speed import run as run_speed

    return run_speed(args)
