"""Timings for sampling controls, scoring and nearest-name search, measured in one run.

    python -m dinogui.bench.sampling [--names ../shared/data/names.txt]

Prints, for the name list given (32k first names by default, when present):
the nearest-name search by rapidfuzz (core.novelty, what the app uses) and by a
vectorised NumPy DP (dinogui.bench.nearest_dp), per query and for a 50-name
report, on the list itself and on a 100,000-name corpus padded with spliced
names, checking that both give the same answers; names scored per second; and
how long constrained draws and an unmeetable constraint take on a small model.
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

from dinogui.bench.nearest_dp import NumpyNearestNames
from dinogui.core.config import TrainConfig
from dinogui.core.corpus import load_corpus
from dinogui.core.novelty import NearestNames
from dinogui.core.sampling import ConstraintsUnmet, SampleSpec
from dinogui.core.trainer import Trainer

DEFAULT_NAMES = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "names.txt"


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def bench_nearest(names: list[str], queries: list[str], report: int = 50) -> None:
    """Both searches on the same corpus: build, per query, per report of `report` names."""
    print(f"  {len(set(names)):,} names, {len(queries)} queries:")
    answers = []
    for label, kind in (("rapidfuzz", NearestNames), ("NumPy DP ", NumpyNearestNames)):
        index, build = _timed(lambda kind=kind: kind(names))
        found, one_by_one = _timed(lambda index=index: [index.nearest(q) for q in queries])
        _, batch = _timed(lambda index=index: index.nearest_many(queries[:report]))
        answers.append(found)
        print(f"    {label}  index {build * 1e3:5.0f} ms   {one_by_one / len(queries) * 1e3:6.2f} "
              f"ms per query   {batch * 1e3:6.0f} ms per {report}-name report")
    same = sum(a == b for a, b in zip(*answers, strict=True))
    print(f"    same nearest name and distance for {same} of {len(queries)} queries")


def spliced_corpus(names: list[str], size: int, rng: random.Random) -> list[str]:
    """`names` padded to `size` distinct names with halves of two names spliced together."""
    out = dict.fromkeys(names)
    while len(out) < size:
        a, b = rng.choice(names), rng.choice(names)
        out[a[: len(a) // 2] + b[len(b) // 2 :]] = None
    return list(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--names", default=str(DEFAULT_NAMES))
    args = ap.parse_args(argv)
    if not Path(args.names).is_file():
        print(f"{args.names} is not here; nothing to measure")
        return 0
    corpus = load_corpus(args.names)
    rng = random.Random(0)
    names = corpus.names
    trainer = Trainer(corpus, TrainConfig.for_preset("default", hidden=64, samples=0,
                                                     val_fraction=0.0))
    trainer.run(300)
    sampler = trainer.sampler()
    queries = sampler.draw(200, seed=0, spec=SampleSpec(top_k=trainer.vocab.size)).names
    print(f"nearest corpus name of 200 sampled names, {args.names}:")
    bench_nearest(names, queries)
    bench_nearest(spliced_corpus(names, 100_000, rng), queries)

    scored, secs = _timed(lambda: sampler.loglik_per_char(names))
    print(f"scoring: {len(scored):,} names in {secs:.2f} s ({len(scored) / secs:,.0f} names/s; "
          f"GRU/LSTM cost more per step)")
    known = corpus.name_set()
    for label, spec in [("unconstrained (batched scheme)", SampleSpec()),
                        ("top-k 5, min length 5", SampleSpec(top_k=5, min_len=5)),
                        ("new names only", SampleSpec(new_only=True)),
                        ("suffix 'na', new only", SampleSpec(suffix="na", new_only=True))]:
        drawn, secs = _timed(lambda spec=spec: sampler.draw(100, 1, spec, known=known))
        print(f"draw 100, {label}: {secs * 1e3:.0f} ms, {drawn.drawn} drawn, "
              f"{drawn.not_new} not new, {drawn.wrong_ending} wrong ending")
    classic = Trainer(corpus, TrainConfig(samples=0)).sampler()
    for label, model in [("this model", sampler), ("a classic seed model", classic)]:
        (found, drawn), secs = _timed(lambda model=model: _unmet(model))
        print(f"unmeetable suffix 'qxqxq' on {label}: refused after {drawn:,} draws "
              f"in {secs * 1e3:.0f} ms")
    return 0


def _unmet(sampler) -> tuple[list[str], int]:
    try:
        drawn = sampler.draw(10, 0, SampleSpec(suffix="qxqxq"))
        return drawn.names, drawn.drawn
    except ConstraintsUnmet as e:
        return e.found, e.drawn


if __name__ == "__main__":
    raise SystemExit(main())
