"""`dinogui`: the window with no arguments (or on FILE, a name list or a checkpoint), headless
training and sampling with a subcommand."""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from dinogui import __version__, bench, export_cmd, lr_find_cmd, score_cmd
from dinogui.arguments import help_for, of
from dinogui.core import checkpoint, quality, recipe
from dinogui.core.blowup import BlowupWatch
from dinogui.core.checkpoint import CheckpointError
from dinogui.core.config import LIVE_FIELDS, PRESET_DEFAULTS, TrainConfig
from dinogui.core.corpus import (
    Corpus,
    CorpusError,
    bundled_corpus_path,
    hold_out,
    load_corpora,
    load_corpus,
    quote,
)
from dinogui.core.loop import BLOWUP, DIVERGED, STEPS, UNTIL, LoopEnd, StepLoop
from dinogui.core.novelty import NearestNames
from dinogui.core.sample_spec import ConstraintsUnmet, SampleSpec
from dinogui.core.sampling import display_name
from dinogui.core.settings import (
    ITERATIONS,
    MAX_INTERVAL,
    QUALITY_SECONDS,
    SAMPLING,
    SECONDS,
    TRAINING,
)
from dinogui.core.threads import training_threads
from dinogui.core.timebudget import PROBE_STEPS
from dinogui.core.trainer import Trainer, TrainingDiverged
from dinogui.run_safety import Printer, check_targets, interrupt_between_steps
from dinogui.train_report import TrainReport

clock = time.perf_counter  # the wall clock of --seconds (tests drive a fake one)
# --seconds alone with a cosine or linear schedule: the schedule's length is the iterations
# that fit the budget, estimated from PROBE_STEPS timed steps (after an untimed first one, as
# core.timebudget times a quality run's) of a throwaway copy, times PROBE_MARGIN (held-out
# checks and reports take time the steps do not show)
PROBE_MARGIN = 0.85
MAX_ERROR_LINE = 2000  # characters of an error line: whatever a file or argument held
DEFAULT_COUNT = SAMPLING["count"].default  # names `dinogui sample` prints
COMMANDS = ("train", "sample", "score", "export", "lr-find", "bench")


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    """One line on stderr and exit 2 for a bad argument, never a usage dump."""

    def error(self, message: str):  # type: ignore[override]
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="dinogui", description=__doc__,
        usage="dinogui [-h] [--version] [--install-desktop] "
              "[FILE | {train,sample,score,export,lr-find,bench} ...]",
        epilog="FILE: open the window on this name list (.txt) or checkpoint, recognised by "
               "its content.")
    parser.add_argument("--version", action="version", version=f"dinogui {__version__}")
    parser.add_argument("--install-desktop", action="store_true",
                        help="add dinogui to the desktop's application menu, with its icon "
                             "(Linux: ~/.local/share/applications)")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    t = sub.add_parser("train", help="train headless, printing reports like the seed")
    t.add_argument("--corpus", action="append", metavar="PATH",
                   help="text file, one name per line (default: bundled dinosaurs); give it "
                        "again for names by kind, each file's stem its label; a file of "
                        "name<TAB>label lines is labelled too")
    t.add_argument("--no-lowercase", action="store_true", help="keep the names' capitals")
    t.add_argument("--val-file", metavar="PATH",
                   help="hold out exactly the names in this file (one per line, read like "
                        "the corpus): never trained on, the held-out loss measured on them; "
                        "instead of --val-fraction")
    t.add_argument("--iterations", type=of(ITERATIONS), default=None,
                   help=help_for(ITERATIONS, extra="with --seconds alone: until the time is "
                                 "up"))
    t.add_argument(SECONDS.flag, type=of(SECONDS), default=None, metavar="S",
                   help=help_for(SECONDS, extra="with --iterations and --patience: whichever "
                                 f"comes first; the quality preset's budget (default "
                                 f"{QUALITY_SECONDS:g})"))
    for name in TRAIN_FLAGS:
        _add_setting(t, TRAINING[name])
    t.add_argument("--save", metavar="CKPT", help="write a checkpoint here at the end")
    t.add_argument("--resume", metavar="CKPT", help="continue from this checkpoint")
    t.add_argument("--log-jsonl", metavar="PATH", help="write one JSON object per report")
    t.add_argument("--quiet", action="store_true", help="print only the final line")
    t.add_argument("--stop-on-blowup", action="store_true",
                   help="when the loss blows up (a warning says so either way), stop and go "
                        "back to the last good weights (what --save then writes)")

    s = sub.add_parser("sample", help="draw names from a checkpoint")
    s.add_argument("--checkpoint", required=True, metavar="CKPT")
    s.add_argument("--count", type=of(SAMPLING["count"]), default=None,
                   help=help_for(SAMPLING["count"], extra="with --beam W: W"))
    for name in ("seed", "temperature", "max_len"):
        setting = SAMPLING[name]
        s.add_argument(setting.flag, type=of(setting), default=setting.default,
                       help=help_for(setting, "the model's" if name == "max_len" else None))
    s.add_argument("--best", action="store_true",
                   help="use the parameters with the best held-out loss (when validated)")
    s.add_argument("--top-k", type=of(SAMPLING["top_k"]), default=None, metavar="K",
                   help=help_for(SAMPLING["top_k"]))
    s.add_argument("--top-p", type=of(SAMPLING["top_p"]), default=None, metavar="P",
                   help=help_for(SAMPLING["top_p"]))
    s.add_argument("--beam", type=of(SAMPLING["beam"]), nargs="?", const=0, default=None,
                   metavar="W", help=help_for(SAMPLING["beam"], extra="alone: --count")
                   + ". Deterministic: --seed changes nothing. Ranked by the probability of "
                   "drawing them with --temperature, --top-k, --top-p and --min-len")
    s.add_argument("--label", metavar="L",
                   help="a labelled model: names of this kind, or a blend of kinds "
                        "\"a:0.7,b:0.3\" (positive weights, normalised to sum to 1); "
                        "default: every kind alike")
    s.add_argument("--prefix", default="", metavar="S", help="names start with S")
    s.add_argument("--suffix", default="", metavar="S",
                   help="names end with S (drawn whole, others redrawn)")
    s.add_argument("--min-len", type=of(SAMPLING["min_len"]), default=0, metavar="N",
                   help=help_for(SAMPLING["min_len"], extra="the end is held back until "
                                 "then"))
    s.add_argument("--new-only", action="store_true",
                   help="drop names already in the corpus and redraw (count on stderr)")
    s.add_argument("--scores", action="store_true",
                   help="print name, log-likelihood per character, nearest corpus name "
                        "(tab-separated)")
    s.add_argument("--corpus", metavar="PATH",
                   help="the names --new-only and --scores compare with "
                        "(default: the checkpoint's training names)")

    score_cmd.add_parser(sub)
    export_cmd.add_parser(sub)
    lr_find_cmd.add_parser(sub, _add_setting)
    bench.add_parser(sub)
    return parser


# the settings `train` takes as flags, in --help's order; the values come from core.settings
TRAIN_FLAGS = ("preset", "hidden", "lr", "lr_schedule", "warmup", "weight_decay", "clip",
               "seed", "batch_size", "cell", "order", "layers", "dropout", "optimizer",
               "mix_ngram", "val_fraction", "val_every", "patience", "sample_every", "samples")
# `train`'s preset when none is given: the window's first launch's (the settings table's
# default, "classic", is the seed's: what a checkpoint of version 1 without one trained with)
TRAIN_PRESET = "default"


def _add_setting(parser: argparse.ArgumentParser, setting) -> None:
    """A flag for a setting of core.settings: its type, limits and help from the table, and
    what each preset sets it to where that is not the table's default."""
    extra = "; ".join(f"the {p} preset: {d[setting.name]}" for p, d in PRESET_DEFAULTS.items()
                      if d.get(setting.name, setting.default) != setting.default)
    default = TRAIN_PRESET if setting.name == "preset" else None
    if setting.choices:
        parser.add_argument(setting.flag, choices=setting.choices,
                            help=help_for(setting, default, extra=extra))
    else:
        parser.add_argument(setting.flag, type=of(setting),
                            help=help_for(setting, default, extra=extra))


# flags the classic preset has no use for: it is the seed, one name per step with SGD
DEFAULT_PRESET_FLAGS = ("cell", "order", "layers", "dropout", "optimizer", "batch_size",
                        "mix_ngram", "weight_decay")
# flags the count model (cell ngram) has no use for: it counts, with no weights to train
NETWORK_FLAGS = ("hidden", "lr", "clip", "batch_size", "layers", "dropout", "optimizer",
                 "mix_ngram", "lr_schedule", "warmup", "weight_decay")


def _note_unused(args: argparse.Namespace) -> None:
    """Flags that do not apply to the chosen model are ignored, with one note saying so."""
    count_model = args.cell == "ngram"
    unused = NETWORK_FLAGS if count_model else ("order",)
    given = [f"--{k.replace('_', '-')}" for k in unused if getattr(args, k) is not None]
    if given:
        what = "the count model (--cell ngram)" if count_model else \
            "a network (--order is the count model's; --mix-ngram N mixes one in)"
        print(f"dinogui: note: {', '.join(given)} {'does' if len(given) == 1 else 'do'} not "
              f"apply to {what}; ignored", file=sys.stderr)


def _config_for(args: argparse.Namespace, corpus: Corpus | None = None) -> TrainConfig:
    """The run's settings: the preset's (the default preset's picked for `corpus` by
    core.recipe), with every flag given on top. Names by kind are read by the default
    preset's networks only, and not mixed with a count model."""
    modern = [f"--{k.replace('_', '-')}" for k in DEFAULT_PRESET_FLAGS
              if getattr(args, k) is not None]
    if modern and args.preset == "classic":
        raise UsageError(f"{', '.join(modern)} {'needs' if len(modern) == 1 else 'need'} "
                         "the default preset: "
                         "classic is the seed's RNN, one name per step with SGD")
    preset = args.preset or TRAIN_PRESET
    _note_unused(args)
    given = {k: v for k, v in _flags(args).items() if v is not None}
    val_file = bool(getattr(args, "val_file", None))
    if val_file:  # its names are the held-out ones: no fraction drawn
        if given.get("val_fraction"):
            raise UsageError("--val-file and --val-fraction both choose the held-out names: "
                             "give one or the other")
        given["val_fraction"] = 0.0
    # the recipe shapes the model unless a flag does: then the preset's plain defaults and the
    # flags given (so `--cell lstm --hidden 200` is exactly that, not a recipe's mix of both)
    shaped = [k for k in (quality.MODEL if preset == "quality" else recipe.MODEL)
              if k in given]
    picked = {}
    held_out = val_file or given.get("val_fraction") != 0
    if preset == "default" and corpus is not None and not shaped:
        picked = recipe.settings_for(corpus, held_out=held_out)
    if preset == "quality":  # the budget's picks always; the model's unless flags shape it
        budget = getattr(args, "seconds", None) or QUALITY_SECONDS
        picked = quality.settings_for(corpus, budget, held_out) if corpus is not None and \
            not shaped else quality.budget_settings(budget)
        if getattr(args, "iterations", None) is None:  # the budget sizes the schedule
            given.pop("schedule_iterations", None)
        elif getattr(args, "seconds", None) is None and "schedule_iterations" not in given:
            given["schedule_iterations"] = args.iterations  # it ends with them, as the run
    if val_file:
        picked.pop("val_fraction", None)
    try:
        return TrainConfig.for_preset(preset, **{**picked, **given})
    except ValueError as e:
        raise UsageError(str(e)) from None


def _flags(args: argparse.Namespace) -> dict:
    """The settings flags give (None: not given)."""
    return dict(
        hidden=args.hidden, lr=args.lr, clip=args.clip,
        lr_schedule=args.lr_schedule, warmup=args.warmup, weight_decay=args.weight_decay,
        schedule_iterations=_horizon(args, 0),
        seed=args.seed, batch_size=args.batch_size, sample_every=args.sample_every,
        samples=args.samples, cell=args.cell, layers=args.layers, dropout=args.dropout,
        optimizer=args.optimizer, val_fraction=args.val_fraction, val_every=args.val_every,
        patience=args.patience, order=args.order, mix_ngram=args.mix_ngram)


def _iterations(args: argparse.Namespace) -> int:
    """Steps this run may take: --iterations, or with --seconds alone as many as fit."""
    if args.iterations is not None:
        return args.iterations
    return MAX_INTERVAL if args.seconds is not None else ITERATIONS.default


def _horizon(args: argparse.Namespace, start: int) -> int | None:
    """The schedule's length for a run from `start` (None: keep the config's): the run's
    last iteration; with --seconds alone, an estimate (see PROBE_STEPS), set later."""
    if args.lr_schedule in (None, "constant"):
        return None
    if args.iterations is None and args.seconds is not None:
        return MAX_INTERVAL  # for now: _estimate_horizon sets it once the trainer exists
    return start + _iterations(args)


def _estimate_horizon(trainer: Trainer, seconds: float) -> int:
    """Iterations that fit in `seconds`, timed on a throwaway copy of the run."""
    probe = Trainer(trainer.corpus, replace(trainer.config, lr_schedule="constant",
                                            schedule_iterations=0, samples=0,
                                            sample_every=MAX_INTERVAL, val_every=MAX_INTERVAL))
    with np.errstate(all="ignore"):
        probe.step()  # untimed: it fits a hybrid's count model (~1 s on names.txt, ~100 steps)
        t0 = clock()
        for _ in range(PROBE_STEPS):
            probe.step()
    per_step = max(clock() - t0, 1e-9) / PROBE_STEPS
    return max(1, int(PROBE_MARGIN * seconds / per_step))


def _resumed(args: argparse.Namespace) -> Trainer:
    trainer = checkpoint.load(args.resume)
    fixed = {"--corpus": args.corpus, "--preset": args.preset, "--hidden": args.hidden,
             "--seed": args.seed, "--batch-size": args.batch_size, "--cell": args.cell,
             "--layers": args.layers, "--dropout": args.dropout,
             "--no-lowercase": args.no_lowercase or None,
             "--optimizer": args.optimizer, "--val-fraction": args.val_fraction,
             "--order": args.order, "--mix-ngram": args.mix_ngram,
             "--val-file": args.val_file}
    given = [flag for flag, v in fixed.items() if v is not None]
    if given:
        raise UsageError(f"{', '.join(given)} cannot change when resuming "
                         "(the checkpoint holds its corpus and model)")
    live = {k: getattr(args, k, None) for k in LIVE_FIELDS}
    live["schedule_iterations"] = _horizon(args, trainer.iteration)  # a new schedule: to its end
    if trainer.config.time_budget and args.seconds is not None:  # S more seconds, and any
        live["time_budget"] = trainer.state.seconds + args.seconds  # schedule sized to them
        if args.iterations is None:
            live["schedule_iterations"] = 0
    try:
        trainer.set_live(**live)
    except ValueError as e:
        raise UsageError(str(e)) from None
    return trainer


def _check_patience(trainer: Trainer, args: argparse.Namespace) -> None:
    if not trainer.config.patience or len(trainer.val_rows):
        return
    if not args.resume:
        raise UsageError("--patience needs held-out names: give --val-fraction or --val-file "
                         "(the default preset holds out 0.1; classic none)")
    # a resume keeps the checkpoint's names and split: --val-fraction cannot help here
    given = "--patience" if args.patience is not None else "its patience setting"
    raise UsageError(f"--resume {args.resume}: {given} ({trainer.config.patience}) needs "
                     "held-out names and this model has none (a resume cannot add them): "
                     "resume with --patience 0, or train anew with --val-fraction")


def cmd_train(args: argparse.Namespace) -> int:
    """Read the run (args -> trainer), train it through core.loop, report as it goes."""
    trainer, iterations = _prepared(args)
    report = TrainReport(trainer, args)
    report.header()
    with interrupt_between_steps() as interrupt:  # held through the save: it goes on
        report.interrupt = interrupt
        end, seconds = _train(trainer, iterations, args, report)
        if end.reason == BLOWUP and end.blowup.good is not None:  # --stop-on-blowup
            trainer = end.blowup.good.trainer(trainer)
        trainer.state.seconds += seconds
        stopped = CLI_REASONS.get(end.reason, end.reason)
        error = end.message if stopped == DIVERGED else None
        problem = report.done(trainer, stopped, end.message if stopped == "patience" else "",
                              seconds)
        if args.save and error is not None and problem is None:
            problem = f"{args.save} holds the last good weights"
        error = "; ".join(e for e in (error, problem) if e) or None
    if error is not None:
        print(f"dinogui: error: {quote(error, MAX_ERROR_LINE)}", file=sys.stderr)
        return 2
    return interrupt.exit_code() if interrupt.is_set() else 0


# what the final line and the JSONL log call the loop's reasons to stop
CLI_REASONS = {UNTIL: "iterations", STEPS: "iterations"}


def _prepared(args: argparse.Namespace) -> tuple[Trainer, int]:
    """The run's trainer, new or resumed, and the steps it may take; a bad combination of
    flags is refused (UsageError) before any training."""
    check_targets(args)
    by_time = args.preset == "quality" and args.iterations is None  # no count of iterations
    if args.warmup is not None and not by_time and args.warmup > _iterations(args):
        raise UsageError(f"--warmup {args.warmup} is longer than the run "
                         f"(--iterations {_iterations(args)})")
    trainer = _resumed(args) if args.resume else _new_trainer(args)
    iterations = _iterations(args)
    if trainer.config.time_budget:  # the trainer stops itself at its budget (and sizes any
        args.seconds = None         # schedule to it): no second clock
        iterations = MAX_INTERVAL if args.iterations is None else iterations
    if args.iterations is None and args.seconds is not None and \
            args.lr_schedule not in (None, "constant"):
        # the schedule ends at the estimate, and so does the run (or the time, if first)
        iterations = _estimate_horizon(trainer, args.seconds)
        try:
            trainer.set_live(schedule_iterations=trainer.iteration + iterations)
        except ValueError as e:
            raise UsageError(str(e)) from None
    _check_patience(trainer, args)
    return trainer, iterations


def _new_trainer(args: argparse.Namespace) -> Trainer:
    corpus = load_corpora(args.corpus or [bundled_corpus_path()], not args.no_lowercase)
    config = _config_for(args, corpus)
    if args.val_file:  # read as the corpus is, lower-cased alike
        corpus = hold_out(corpus, load_corpus(args.val_file, corpus.lowercase))
    return Trainer(corpus, config)


def _train(trainer: Trainer, iterations: int, args: argparse.Namespace,
           report: TrainReport) -> tuple[LoopEnd, float]:
    """Up to `iterations` steps (or --seconds, early stopping, Ctrl-C, a blow-up with
    --stop-on-blowup); returns why it ended and the seconds the steps took."""
    interrupt = report.interrupt
    loop = StepLoop(trainer, steps=iterations, seconds=args.seconds,
                    watch=BlowupWatch(trainer),  # only looks: the numbers stay the seed's
                    should_stop=lambda: "interrupted" if interrupt.is_set() else None,
                    on_step=lambda r, _health: report.step(r, loop.step_seconds),
                    on_blowup=report.blown_up, report_stop=interrupt.is_set, clock=clock)
    # the engine checks each step for NaN and inf itself: NumPy's warnings would repeat it;
    # BLAS at the model's thread count for the whole loop (core.threads.threads_for)
    with np.errstate(all="ignore"), training_threads(trainer.blas_threads):
        end = loop.run()
    return end, loop.step_seconds


def cmd_sample(args: argparse.Namespace) -> int:
    if args.corpus and not (args.new_only or args.scores):
        raise UsageError("--corpus is used only with --new-only or --scores")
    count_, width = _count_and_width(args)
    trainer = checkpoint.load(args.checkpoint)
    lower = trainer.corpus.lowercase  # the model knows lower-case names only: match them
    spec = SampleSpec(temperature=args.temperature, top_k=args.top_k, top_p=args.top_p,
                      prefix=args.prefix, suffix=args.suffix, min_len=args.min_len,
                      max_len=args.max_len, new_only=args.new_only).for_corpus(lower)
    corpus = load_corpus(args.corpus, lower).names if args.corpus else trainer.corpus.names
    # the quality preset keeps its best weights to draw from: they are the model it made
    best = args.best or trainer.config.preset == "quality"
    if args.best and trainer.best_params is None:
        print("dinogui: warning: --best: this model has no best weights (no names held out, "
              "or none measured yet); drawing from the latest", file=sys.stderr)
    try:
        sampler = trainer.sampler(best=best).with_label(args.label)
    except ValueError as e:
        raise UsageError(str(e)) from None
    nearest = NearestNames(corpus) if args.scores else None
    out = Printer(strict=True)  # names the terminal cannot show are printed escaped

    def show(names: list[str]) -> None:
        if nearest is None:
            out("\n".join(display_name(n) for n in names))
            return
        out("\n".join(f"{display_name(s.name)}\t{s.loglik_per_char:.4f}\t"
                      f"{display_name(s.nearest)}" for s in sampler.scores(names, nearest)))

    if width is not None:
        return _print_beam(sampler, count_, width, spec, frozenset(corpus), show, args)
    # drawn and printed block by block, so any --count runs in bounded memory
    stream = sampler.stream(count_, args.seed, spec, known=frozenset(corpus))
    for names in stream:
        show(names)
    _print_dropped(args, spec, stream.tally, count_)
    return 0


def _count_and_width(args: argparse.Namespace) -> tuple[int, int | None]:
    """(names to print, beam width or None): --beam W alone gives W names, --beam alone
    a beam as wide as --count, and a beam narrower than --count is refused."""
    if args.beam is None:
        return args.count or DEFAULT_COUNT, None
    width = args.beam or args.count or DEFAULT_COUNT
    count_ = args.count or width
    if count_ > width:
        raise UsageError(f"--beam {width} keeps {width} names at each length, fewer than "
                         f"--count {count_}: give --beam {count_} or more, or --beam alone")
    return count_, width


def _print_beam(sampler, count_: int, width: int, spec: SampleSpec, known: frozenset,
                show, args: argparse.Namespace) -> int:
    """The most likely names, then what was dropped; too few found: those, then the error."""
    try:
        result = sampler.beam(count_, spec, known=known, width=width)
    except ConstraintsUnmet as e:
        if e.found:
            show(e.found)
        raise
    show(result.names)
    _print_dropped(args, spec, result, count_, "finished")
    return 0


def _print_dropped(args: argparse.Namespace, spec: SampleSpec, tally, count_: int,
                   what: str = "drawn") -> None:
    if not (args.new_only or args.suffix):
        return
    kept = [f"dropped {tally.not_new} names already in the corpus"] if args.new_only else []
    if args.suffix:
        kept.append(f"rejected {tally.wrong_ending} not ending in {spec.suffix!r}")
    print(f"{'; '.join(kept)} ({tally.drawn} {what} for {count_})", file=sys.stderr)


def _file_argument(argv: list[str]) -> tuple[str | None, list[str]]:
    """`dinogui FILE`: take FILE out of argv before argparse sees the subcommands.

    The first word that is not an option is either a subcommand or the file to open;
    `dinogui -- train` opens a file named train.
    """
    if argv[:1] == ["--"]:
        rest = argv[1:]
        if len(rest) != 1:
            raise UsageError("give one file to open after --")
        return rest[0], []
    words = [i for i, a in enumerate(argv) if not a.startswith("-")]
    if not words or argv[words[0]] in COMMANDS:
        return None, argv
    if len(words) > 1:
        raise UsageError(f"give one file to open, or a command ({', '.join(COMMANDS)}) first; "
                         f"got {' '.join(argv[i] for i in words)}")
    i = words[0]
    file = argv[i]
    if not Path(file).exists() and not any(c in file for c in "./\\"):  # a mistyped command
        raise UsageError(f"invalid choice: {file!r} (choose from {', '.join(COMMANDS)}, "
                         "or give a file to open)")
    return file, argv[:i] + argv[i + 1:]


def _window(args: argparse.Namespace, file: str | None) -> int:
    if args.install_desktop:
        if file is not None:
            raise UsageError("--install-desktop takes no file")
        from dinogui.desktop import DesktopError, install_desktop

        try:
            written = install_desktop()
        except DesktopError as e:
            raise UsageError(str(e)) from None
        for path in written:
            print(f"wrote {path}")
        print("dinogui is in the applications menu (some desktops show it after a new login)")
        return 0
    from dinogui.app import run_app

    return run_app(open_file=file)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    try:
        file, argv = _file_argument(argv)
        args = parser.parse_args(argv)
        if args.command is None:
            return _window(args, file)
        if args.install_desktop:
            raise UsageError(f"--install-desktop goes alone, not with {args.command}")
        command = {"train": cmd_train, "sample": cmd_sample, "score": score_cmd.run,
                   "export": export_cmd.run, "lr-find": lr_find_cmd.run,
                   "bench": bench.run}[args.command]
        # one BLAS thread setting for the whole run, restored after
        if args.command in ("train", "lr-find"):
            with training_threads():
                return command(args)
        return command(args)
    except BrokenPipeError:  # output piped into `head`, say: not an error
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:  # Ctrl-C before training started: nothing to save
        return 130
    except (UsageError, CorpusError, CheckpointError, TrainingDiverged, ValueError,
            OSError) as e:
        if isinstance(e, OSError):
            reason = e.strerror or str(e)
            msg = f"{e.filename}: {reason}" if e.filename else reason
        else:
            msg = str(e)
        print(f"dinogui: error: {quote(msg, MAX_ERROR_LINE)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
