"""What the Health tab's measurements cost training: step time without the probe and with it
watching every K = 1, 10 and 100 steps.

    python -m dinogui.bench.health [--steps N] [--rounds R]

Per model: one trainer, warmed up, then R rounds that each train N steps in
every mode, one after the other (off, K = 1, K = 10, K = 100), so the
machine's swings fall on all modes alike; the median over rounds of the mean
time per step is printed, with its ratio to "off" and the probe's own time per
watched step (before_step and after_step: the copy of the weights, the
gradient norms, the update ratios and the forward pass for the saturation).
The loop is the worker's: the probe is called only on watched steps, so "off"
is the plain step.
"""

from __future__ import annotations

import argparse
import statistics
import time

from dinogui.arguments import positive_int
from dinogui.core.config import TrainConfig
from dinogui.core.corpus import bundled_corpus_path, load_corpus
from dinogui.core.health import HealthProbe, due
from dinogui.core.threads import training_threads
from dinogui.core.trainer import Trainer

MODELS = (  # label, preset, overrides
    ("classic rnn 50", "classic", {}),
    ("default rnn 50", "default", {}),
    ("default gru 128 x 2", "default", {"cell": "gru", "hidden": 128, "layers": 2}),
)
EVERY = (0, 1, 10, 100)  # 0: no probe


def train(trainer: Trainer, probe: HealthProbe, steps: int, every: int) -> tuple[float, float]:
    """(seconds per step, probe seconds per watched step), as the worker's loop trains."""
    clock = time.perf_counter
    probing, watched = 0.0, 0
    start = clock()
    for _ in range(steps):
        watch = due(trainer.iteration, every)
        if watch:
            t0 = clock()
            probe.before_step()
            probing += clock() - t0
        r = trainer.step()
        if watch:
            t0 = clock()
            probe.after_step(r.iteration)
            probing += clock() - t0
            watched += 1
    total = clock() - start
    return total / steps, probing / watched if watched else 0.0


def run(steps: int, rounds: int) -> None:
    corpus = load_corpus(bundled_corpus_path())
    print(f"bundled dinosaurs, {steps:,} steps per mode and round, {rounds} rounds "
          "(median of the rounds)")
    print(f"{'model':<22}{'K':>6}{'us/step':>10}{'vs off':>9}{'probe ms/watch':>16}")
    for label, preset, overrides in MODELS:
        trainer = Trainer(corpus, TrainConfig.for_preset(preset, val_fraction=0,
                                                         sample_every=10**9, **overrides))
        probe = HealthProbe(trainer)
        with training_threads():
            train(trainer, probe, 200, 0)  # warm up: buffers, caches
            per_step = {k: [] for k in EVERY}
            per_watch = {k: [] for k in EVERY}
            for _ in range(rounds):
                for every in EVERY:
                    s, w = train(trainer, probe, steps, every)
                    per_step[every].append(s)
                    per_watch[every].append(w)
        off = statistics.median(per_step[0])
        for every in EVERY:
            s = statistics.median(per_step[every])
            name = "off" if every == 0 else str(every)
            watch = f"{1e3 * statistics.median(per_watch[every]):.2f}" if every else "-"
            print(f"{label:<22}{name:>6}{1e6 * s:>10.0f}{s / off:>9.3f}{watch:>16}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=positive_int, default=1000)
    parser.add_argument("--rounds", type=positive_int, default=5)
    args = parser.parse_args(argv)
    run(args.steps, args.rounds)


if __name__ == "__main__":
    main()
