"""`dinogui bench`: the seed, both presets and PyTorch, measured side by side in one run.

Everything printed is measured in this run on this machine, as Markdown tables:

1. speed and quality: characters per second, the ratio to the seed's plain
   algorithm (dinogui/bench/seed.py), and the best held-out loss per
   character reached within a fixed training-time budget, for the seed, the
   classic preset, the default preset and PyTorch (same model, same batches;
   skipped with a note when torch is not installed, never a dependency);
2. BLAS threads: the default preset at one and two OpenBLAS threads;
3. peak memory (RSS) for a 100,000-name corpus, each preset in a fresh process;
4. time per iteration as the hidden size grows (50, 100, 200, 400).

All contenders train on the same names and are scored on the same held-out
names (a fixed 10%; the default preset and PyTorch over several seeds too),
each name from a zero hidden state, by one float64
evaluator; scoring happens every quarter epoch (at least every EVAL_CHARS
trained characters) and is not counted as training time. The best held-out
point is kept: on the small dinosaur list every model overfits within
seconds. The contenders take turns in short slices, so a busy machine slows
them alike.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from importlib import metadata
from pathlib import Path

import numpy as np

from dinogui.bench import SECTIONS
from dinogui.bench.contenders import (
    EVAL_CHARS,
    HeldOutScorer,
    Result,
    Split,
    classic_trainer,
    default_config,
    reference_contender,
    run_budgets,
    take_turns,
    torch_contender,
    trainer_contender,
)
from dinogui.core import checkpoint
from dinogui.core.config import TrainConfig
from dinogui.core.corpus import Corpus, bundled_corpus_path, load_corpus
from dinogui.core.threads import training_threads
from dinogui.core.trainer import Trainer

MEMORY_NAMES = 100_000
HIDDEN_SIZES = (50, 100, 200, 400)



# -- sections ---------------------------------------------------------------------------
def speed_section(corpus: Corpus, seconds: float, hidden: int | None, batch: int | None,
                  with_torch: bool, seeds: int, out) -> None:
    split = Split.of(corpus)
    score = HeldOutScorer(split.held_out)
    cfg = default_config(hidden, batch)
    H = cfg.hidden
    epoch_chars = sum(len(n) + 1 for n in split.train.names)
    eval_chars = max(EVAL_CHARS, epoch_chars // 4)
    out(f"Training names: {len(split.train.names):,}; held out: {len(split.held_out):,} "
        f"names ({int(score.chars):,} characters). Each row trains {seconds:g} s, the rows "
        f"taking turns in quarter-second slices; held-out loss scored every {eval_chars:,} "
        "trained characters (off the clock), best point kept.\n")
    classic = classic_trainer(split, H)
    contenders = [
        reference_contender(split, H),
        trainer_contender("classic preset", classic, 20,
                          "batch 1, SGD 0.01, float64, exact to the seed"),
        trainer_contender("default preset", Trainer(split.train, cfg), 2,
                          f"batch {cfg.batch_size}, {cfg.optimizer.capitalize()} {cfg.lr}, "
                          f"{cfg.dtype}, length-bucketed"),
    ]
    skipped, alone = None, []
    if with_torch:
        try:
            import torch
        except ImportError:
            skipped = "PyTorch is not installed: its rows are skipped (`pip install torch`)."
        else:
            contenders.append(torch_contender(split, cfg, 1))
            if torch.get_num_threads() > 1:  # its idle threads spin: it runs last, alone
                alone.append(torch_contender(split, cfg, torch.get_num_threads()))
    else:
        skipped = "PyTorch skipped (--no-torch)."
    print(f"  training {len(contenders)} contenders for {seconds:g} s each, taking turns ...",
          file=sys.stderr, flush=True)
    results = run_budgets(contenders, seconds, score, eval_chars)
    for c in alone:
        print(f"  training {c.name} for {seconds:g} s ...", file=sys.stderr, flush=True)
        results += run_budgets([c], seconds, score, eval_chars)
        results[-1].name += " (run alone, after the others)"
    base = results[0].chars_per_s
    out("| contender | settings | chars/s | x seed | best held-out loss/char (reached at) "
        "| held-out at the end |")
    out("|---|---|---:|---:|---:|---:|")
    for r in results:
        out(f"| {r.name} | {r.note} | {r.chars_per_s:,.0f} | {r.chars_per_s / base:.1f} "
            f"| {r.best:.4f} ({r.best_at / r.chars_per_s:.1f} s) | {r.final:.4f} |")
    torch_rows = [r for r in results if r.name.startswith("PyTorch")]
    ours = results[2]
    if torch_rows:
        fastest = max(torch_rows, key=lambda r: r.chars_per_s)
        speedup = ours.chars_per_s / fastest.chars_per_s
        out(f"\nDefault preset vs PyTorch's fastest row: {speedup:.1f}x the characters per "
            "second.")
    if skipped:
        out("\n" + skipped)
    if seeds > 1:
        torch_1 = next((r for r in torch_rows if r.name.endswith(", 1 thread")), None)
        out("\n" + seed_spread(split, score, cfg, seconds, eval_chars, seeds, ours, torch_1))
    out("\n" + sampling_costs(classic, results[1]))


def seed_spread(split: Split, score: HeldOutScorer, cfg: TrainConfig, seconds: float,
                eval_chars: int, seeds: int, ours: Result, torch_1: Result | None) -> str:
    """Best held-out loss over several seeds: one run's figure moves by ~0.01 from seed to seed."""
    mine, theirs = [ours.best], [torch_1.best] if torch_1 else []
    for seed in range(1, seeds):
        c = replace(cfg, seed=seed)
        contenders = [trainer_contender("default preset", Trainer(split.train, c), 2, "")]
        if torch_1:
            contenders.append(torch_contender(split, c, 1))
        print(f"  seed {seed}: training {len(contenders)} rows for {seconds:g} s each ...",
              file=sys.stderr, flush=True)
        results = run_budgets(contenders, seconds, score, eval_chars)
        mine.append(results[0].best)
        if torch_1:
            theirs.append(results[1].best)

    def summary(xs: list[float]) -> str:
        return f"{np.mean(xs):.4f} (seeds 0-{seeds - 1}: {', '.join(f'{x:.4f}' for x in xs)})"

    line = f"Best held-out loss per character, mean over {seeds} seeds: default preset " \
           f"{summary(mine)}"
    return line + (f"; PyTorch, 1 thread, {summary(theirs)}." if theirs else ".")


def sampling_costs(trainer: Trainer, classic: Result) -> str:
    """What the seed's report (7 names every 2000 iterations) costs the trained classic preset."""
    t0 = time.perf_counter()
    for _ in range(5):
        trainer.sample(7, seed=0)
    sample = (time.perf_counter() - t0) / 5
    iteration_chars = np.mean([len(n) + 1 for n in trainer.corpus.names])
    interval = 2000 * iteration_chars / classic.chars_per_s
    return (f"Report sampling (classic preset, the seed's exact scheme): 7 names take "
            f"{sample * 1e3:.1f} ms, {sample / interval:.1%} of the {interval:.2f} s that the "
            f"2000 iterations between two reports train.")


THREAD_SIZES = (("rnn", 50, 32), ("rnn", 50, 48), ("rnn", 50, 256), ("rnn", 128, 64),
                ("rnn", 128, 256), ("rnn", 256, 64), ("rnn", 256, 128), ("rnn", 256, 256),
                ("rnn", 512, 128), ("gru", 128, 128), ("gru", 256, 128))


def threads_section(corpus: Corpus, seconds: float, out) -> None:
    """Characters per second at 1 and 2 BLAS threads across sizes, and the rule's choice."""
    from dinogui.core import threads
    from dinogui.core.models.reference import GATES

    idle = threads.idle_cores()
    out("Each pair takes turns on the same names; the recurrent product is "
        "(batch, hidden) @ (hidden, gates x hidden), once per time step. Idle cores at the "
        f"start (cores less the 1-minute load average): {idle:.1f}.\n")
    out("| cell | hidden | names per step | recurrent MFLOP | 1 thread chars/s "
        "| 2 threads chars/s | 2 vs 1 | rule picks |")
    out("|---|---:|---:|---:|---:|---:|---:|---:|")
    for cell, H, B in THREAD_SIZES:
        def worker(n: int, trainer: Trainer) -> Callable[[], int]:
            def work() -> int:
                before = trainer.state.total_chars
                with threads.using(n):
                    trainer.run(2)
                return trainer.state.total_chars - before
            return work

        cfg = replace(default_config(H, B), cell=cell)
        workers = [worker(n, Trainer(corpus, cfg)) for n in (1, 2)]
        for w in workers:
            w()  # warm up
        (c1, s1), (c2, s2) = take_turns(workers, seconds)
        one, two = c1 / s1, c2 / s2
        mflop = 2 * B * H * GATES[cell] * H / 1e6
        pick = threads.threads_for(B, H, GATES[cell], idle)
        out(f"| {cell} | {H} | {B} | {mflop:.1f} | {one:,.0f} | {two:,.0f} | {two / one:.2f} "
            f"| {pick} |")
    out(f"\nThe rule (core/threads.py, threads_for): 2 threads from "
        f"{threads.TWO_THREADS_FLOPS / 1e6:g} MFLOP per recurrent product when "
        f"{threads.IDLE_FOR_TWO:g} or more cores are idle, else "
        f"{threads.TRAINING_THREADS}; the process's own setting is restored after every "
        "training call. The window keeps one thread (dinogui/worker.py, pin_blas_threads).")


def synthetic_corpus(corpus: Corpus, n: int, path: Path) -> Path:
    """n names spliced from two of corpus's names each (seeded): realistic lengths and letters."""
    rng = np.random.default_rng(7)
    src = corpus.names
    a, b = rng.integers(0, len(src), n), rng.integers(0, len(src), n)
    cut_a = rng.random(n)
    cut_b = rng.random(n)
    names = []
    for i in range(n):
        x, y = src[a[i]], src[b[i]]
        head = x[: max(1, int(len(x) * cut_a[i]))]
        tail = y[int(len(y) * cut_b[i]) :]
        names.append((head + tail)[:30])
    path.write_text("\n".join(names) + "\n", encoding="utf-8")
    return path


def memory_probe(kind: str, corpus_path: str, seconds: float) -> None:
    """Run in a fresh process: load, train, checkpoint; print peak RSS as JSON."""
    corpus = load_corpus(corpus_path)
    if kind != "baseline":
        cfg = (TrainConfig(preset="classic", samples=0) if kind == "classic"
               else TrainConfig.for_preset("default", samples=0))
        trainer = Trainer(corpus, cfg)
        with training_threads():
            t0 = time.perf_counter()
            while time.perf_counter() - t0 < seconds:
                trainer.run(20)
        with tempfile.TemporaryDirectory() as tmp:
            checkpoint.save(trainer, Path(tmp) / f"c{checkpoint.SUFFIX}")
    print(json.dumps({"kind": kind, "peak_mb": peak_rss_mb()}))


def peak_rss_mb() -> float:
    """This process's peak resident memory.

    Linux's VmHWM starts afresh at exec; ru_maxrss would still count the
    parent's memory that a forked child shared before it exec'd.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB elsewhere
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


def memory_section(corpus: Corpus, seconds: float, out) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = synthetic_corpus(corpus, MEMORY_NAMES, Path(tmp) / "names100k.txt")
        big = load_corpus(path)
        st = big.stats()
        out(f"A synthetic corpus of {st.names:,} names ({st.characters:,} characters, "
            f"vocabulary {st.vocab_size}, spliced from {corpus.title}'s names); each row is "
            f"a fresh Python process that loads it, trains {seconds:g} s and saves a checkpoint.\n")
        out("| process | peak RSS (MB) |")
        out("|---|---:|")
        rows = {"baseline": "Python + NumPy + dinogui, corpus loaded, no training",
                "classic": "classic preset", "default": "default preset"}
        for kind, label in rows.items():
            code = ("from dinogui.bench.speed import memory_probe; "
                    f"memory_probe({kind!r}, {str(path)!r}, {seconds!r})")
            done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                  cwd=str(Path(__file__).resolve().parent.parent), check=False)
            if done.returncode != 0:
                out(f"| {label} | failed: {done.stderr.strip().splitlines()[-1:]} |")
                continue
            peak = json.loads(done.stdout.strip().splitlines()[-1])["peak_mb"]
            out(f"| {label} | {peak:,.0f} |")


def iterations(train: Callable[[], object], n: int) -> Callable[[], int]:
    """A take_turns worker that counts iterations: train() runs n of them."""
    def work() -> int:
        train()
        return n
    return work


def scaling_section(corpus: Corpus, seconds: float, batch: int | None, out) -> None:
    split = Split.of(corpus)
    B = default_config(None, batch).batch_size
    out(f"Milliseconds per iteration (one name for the seed and classic, {B} names for the "
        "default preset), and the growth from hidden 50.\n")
    out("| hidden | seed ms/it | classic ms/it | default ms/it | seed growth | classic growth "
        "| default growth |")
    out("|---:|---:|---:|---:|---:|---:|---:|")
    first = None
    for H in HIDDEN_SIZES:
        workers = [iterations(partial(reference_contender(split, H).advance, 1), 1),
                   iterations(partial(classic_trainer(split, H).run, 5), 5),
                   iterations(partial(Trainer(split.train, default_config(H, batch)).run, 1), 1)]
        with training_threads():  # the same BLAS threads for all three
            for w in workers:
                w()  # warm up: buffers, caches
            times = [s / n * 1e3 for n, s in take_turns(workers, seconds)]
        first = first or times
        out(f"| {H} | {times[0]:.3f} | {times[1]:.3f} | {times[2]:.3f} | "
            + " | ".join(f"{t / f:.1f}x" for t, f in zip(times, first, strict=True)) + " |")


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from threadpoolctl import threadpool_info

    blas = ", ".join(f"{i['internal_api']} {i['version']} ({i.get('architecture', '?')})"
                     for i in threadpool_info() if i["user_api"] == "blas")
    try:
        torch_v = f", torch {metadata.version('torch')}"
    except metadata.PackageNotFoundError:
        torch_v = ", torch not installed"
    return (f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}; "
            f"Python {platform.python_version()}, NumPy {np.__version__}, {blas}{torch_v}")


def run(args: argparse.Namespace) -> int:
    seconds = args.seconds or (2.0 if args.quick else 10.0)
    if not seconds > 0:
        raise ValueError("--seconds must be a positive number")
    if args.seeds is not None and args.seeds < 1:
        raise ValueError("--seeds must be at least 1")
    corpus = load_corpus(args.corpus or bundled_corpus_path())
    sections = {s.strip() for s in args.sections.split(",") if s.strip()}
    unknown = sections - set(SECTIONS)
    if unknown:
        raise ValueError(f"unknown bench section(s): {', '.join(sorted(unknown))}")
    split = sorted(sections & {"speed", "scaling", "quality"})
    if split and len(corpus.names) < 2:
        raise ValueError(f"{corpus.source}: the {' and '.join(split)} section"
                         f"{'s need' if len(split) > 1 else ' needs'} at least 2 names (one to "
                         f"train on, one held out); it has {len(corpus.names)}")

    def out(line: str = "") -> None:
        print(line, flush=True)

    st = corpus.stats()
    out(f"# dinogui bench\n\nMachine: {machine()}\n")
    out(f"Corpus: {corpus.title} ({st.names:,} names, {st.characters:,} characters, "
        f"vocabulary {st.vocab_size})\n")
    short = min(seconds, 1.0 if args.quick else 3.0)
    if "speed" in sections:
        out("## Speed and held-out quality\n")
        speed_section(corpus, seconds, args.hidden, args.batch_size, not args.no_torch,
                      args.seeds or (1 if args.quick else 3), out)
    if "threads" in sections:
        out("\n## BLAS threads (default preset)\n")
        threads_section(corpus, short, out)
    if "memory" in sections:
        out("\n## Peak memory, 100,000 names\n")
        memory_section(corpus, short, out)
    if "scaling" in sections:
        out("\n## Time per iteration vs hidden size\n")
        scaling_section(corpus, short / 2, args.batch_size, out)
    if "quality" in sections:
        from dinogui.bench import quality

        out("\n## Held-out quality in a fixed time\n")
        code = quality.section([args.corpus] if args.corpus else None,
                               args.seconds or (1.0 if args.quick else quality.DEFAULT_SECONDS),
                               not args.no_torch, out)
        if code:
            return code
    if "window" in sections:  # last: the window pins this process's BLAS threads, as the app does
        from dinogui.bench import window as bench_window

        out("\n## Training in the window vs headless\n")
        window_args = ["--repeats", "1" if args.quick else "3"]
        if args.quick:
            window_args += ["--iterations", "2000"]
        return bench_window.main(window_args + ["--corpus", str(corpus.source)])
    return 0

