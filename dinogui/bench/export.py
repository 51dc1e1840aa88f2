"""Size and speed of the exported generators (dinogui export).

  python -m dinogui.bench.export [--iterations N] [--names N] [--corpus PATH]

Trains the `default` preset on the bundled dinosaurs (rnn, one layer, 50 units;
for comparison a 2-layer lstm, a 5-gram count model and the hybrid of the rnn
with a 5-gram), exports each as py, js and json, and prints each file's size
and how many names per second the Python generator (under `python3 -I -S`) and
the JavaScript one (under node, when installed) draw, and how many names per
second they score. The times include starting the interpreter and reading the
model once; --names sets how many names each run draws. --corpus adds the
5-gram's sizes on another list (e.g. names.txt, 32,000 names).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from dinogui.core import export
from dinogui.core.config import TrainConfig
from dinogui.core.corpus import bundled_corpus_path, load_corpus
from dinogui.core.trainer import Trainer

SUFFIX = {"py": ".py", "js": ".mjs", "json": ".json"}
MODELS = {"default (rnn x1, 50)": {}, "lstm x2, 50": {"cell": "lstm", "layers": 2},
          "5-gram count model": {"cell": "ngram", "order": 5},
          "hybrid (rnn x1, 50 + 5-gram)": {"mix_ngram": 5}}


def timed(cmd: list[str]) -> tuple[float, str]:
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return time.perf_counter() - t0, done.stdout


def bench_model(label: str, config: TrainConfig, iterations: int, count: int,
                folder: Path, corpus_path: Path | None = None) -> None:
    trainer = Trainer(load_corpus(corpus_path or bundled_corpus_path()), config)
    trainer.run(iterations)
    sampler = trainer.sampler()
    print(f"\n{label}: trained {trainer.iteration} iterations, held-out loss per character "
          f"{trainer.state.best_val:.3f}")
    names = sampler.sample(200, seed=1)
    runners = {"py": [sys.executable, "-I", "-S"]}
    if shutil.which("node"):
        runners["js"] = [shutil.which("node")]
    for fmt in export.FORMATS:
        path = folder / f"gen{SUFFIX[fmt]}"
        t0 = time.perf_counter()
        size = export.export(sampler, fmt, path, trainer.corpus.lowercase)
        took = time.perf_counter() - t0
        line = f"  {fmt:4}  {size:>9,} bytes  exported in {took * 1000:5.1f} ms"
        if fmt in runners:
            seconds, out = timed(runners[fmt] + [str(path), "--count", str(count)])
            assert len(out.splitlines()) == count
            scored, _ = timed(runners[fmt] + [str(path), "--score", *names])
            line += (f"  draws {count / seconds:>8,.0f} names/s  scores "
                     f"{len(names) / scored:>8,.0f} names/s")
        print(line)
    if "js" not in runners:
        print("  (node not installed: no js figures)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=3000)
    parser.add_argument("--names", type=int, default=2000)
    parser.add_argument("--corpus", type=Path, default=None,
                        help="also the 5-gram count model on this list")
    args = parser.parse_args(argv)
    node = shutil.which("node")
    version = subprocess.run([node, "--version"], capture_output=True,
                             text=True).stdout.strip() if node else "absent"
    print(f"python {sys.version.split()[0]}, node {version}")
    with tempfile.TemporaryDirectory() as folder:
        for label, extra in MODELS.items():
            config = TrainConfig.for_preset("default", **extra)
            bench_model(label, config, args.iterations, args.names, Path(folder))
        if args.corpus is not None:
            bench_model(f"5-gram count model on {args.corpus.name}",
                        TrainConfig.for_preset("default", cell="ngram", order=5),
                        args.iterations, args.names, Path(folder), args.corpus)
    return 0


if __name__ == "__main__":
    sys.exit(main())
