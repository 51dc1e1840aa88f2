"""How close healthy runs come to the blow-up rule, when it fires on one that blows up, and
what watching costs per step.

  python -m dinogui.bench.blowup [--only LABEL ...]

For each run: the iteration the watch fired at (or "-"), the largest share of the way
from the lowest recent loss to the threshold the run reached before firing
(1.0 fires), the copies of the weights it kept and the watch's time per step
(observe() alone, copies included) beside the step's own. towns-302's blow-up
depends on the BLAS kernel (chaotic training: OPENBLAS_CORETYPE=Haswell shows it
near iteration 38,200; SkylakeX does not blow up), so it may run healthy here.
Runs whose file is missing from ../shared/data are skipped with a note.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from dinogui.core.blowup import BlowupWatch
from dinogui.core.config import TrainConfig
from dinogui.core.corpus import bundled_corpus_path, load_corpus
from dinogui.core.threads import training_threads
from dinogui.core.trainer import Trainer

SHARED_DATA = Path(os.environ.get("DINOGUI_SHARED_DATA",
                                  Path(__file__).resolve().parents[3] / "shared" / "data"))
# label, corpus file (None: the bundled dinosaurs), preset, iterations
RUNS = (
    ("dinos classic", None, "classic", 35_000),
    ("dinos default", None, "default", 10_000),
    ("towns classic", "towns-302.txt", "classic", 45_000),
    ("towns default", "towns-302.txt", "default", 10_000),
    ("names classic", "names.txt", "classic", 35_000),
)


def measure(trainer: Trainer, iterations: int) -> dict:
    """Train with a watch; the figures of the module docstring."""
    watch = BlowupWatch(trainer)
    worst, fired, watching, stepping = 0.0, None, 0.0, 0.0
    clock = time.perf_counter
    for _ in range(iterations):
        t0 = clock()
        r = trainer.step()
        t1 = clock()
        blowup = watch.observe(r)
        watching += clock() - t1
        stepping += t1 - t0
        if blowup is not None:
            fired = blowup
            break
        worst = max(worst, (watch.fast - watch.low) / (watch.threshold() - watch.low))
    steps = trainer.iteration
    return {"fired": fired, "worst": worst, "copies": watch.copies,
            "watch_us": 1e6 * watching / steps, "step_us": 1e6 * stepping / steps}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m dinogui.bench.blowup", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", nargs="*", help="labels to run (default: all)")
    args = p.parse_args(argv)
    print(f"{'run':15} {'iters':>7} {'fired at':>9} {'worst':>6} {'copies':>6} "
          f"{'watch us/step':>13} {'step us':>8}  message")
    with training_threads():
        for label, name, preset, iterations in RUNS:
            if args.only and label not in args.only:
                continue
            path = bundled_corpus_path() if name is None else SHARED_DATA / name
            if not path.is_file():
                print(f"{label:15} skipped: {path} is missing")
                continue
            trainer = Trainer(load_corpus(path), TrainConfig.for_preset(preset))
            m = measure(trainer, iterations)
            b = m["fired"]
            print(f"{label:15} {iterations:7,} {'-' if b is None else f'{b.iteration:,}':>9} "
                  f"{m['worst']:6.2f} {m['copies']:6} {m['watch_us']:13.2f} "
                  f"{m['step_us']:8.1f}  {'' if b is None else b.summary()}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
