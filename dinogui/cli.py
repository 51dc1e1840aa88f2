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
from dinogui.core import checkpoint, quality, recipe, schedule
from dinogui.core.blowup import BlowupWatch
from dinogui.core.checkpoint import CheckpointError
from dinogui.core.corpus import (
    Corpus,
    CorpusError,
    bundled_corpus_path,
    hold_out,
    load_corpora,
    load_corpus,
    quote,
)
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
from dinogui.core.trainer import (
    LIVE_FIELDS,
    PRESET_DEFAULTS,
    TrainConfig,
    Trainer,
    TrainingDiverged,
)
from dinogui.run_safety import (
    JsonLog,
    Printer,
    check_targets,
    interrupt_between_steps,
    save_or_rescue,
)

clock = time.perf_counter  # the wall clock of --seconds (tests drive a fake one)
# --seconds alone with a cosine or linear schedule: the schedule's length is the iterations
# that fit the budget, estimated from PROBE_STEPS timed steps (after an untimed first one) of a
# throwaway copy, times
# PROBE_MARGIN (held-out checks and reports take time the steps do not show)
PROBE_STEPS = 20
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
# what --help says each preset does with a setting it sets itself
PRESET_NOTES = {"preset": "classic: the original exercise, exactly; quality: trains --seconds "
                          f"(default {QUALITY_SECONDS:g}), everything picked for that time"}


def _add_setting(parser: argparse.ArgumentParser, setting) -> None:
    """A flag for a setting of core.settings: its type, limits and help from the table."""
    extra = "; ".join(f"the {p} preset: {d[setting.name]}" for p, d in PRESET_DEFAULTS.items()
                      if setting.name in d)
    extra = PRESET_NOTES.get(setting.name, extra)
    if setting.choices:
        parser.add_argument(setting.flag, choices=setting.choices,
                            help=help_for(setting, extra=extra))
    else:
        parser.add_argument(setting.flag, type=of(setting), help=help_for(setting, extra=extra))


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
    preset = args.preset or "default"
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
    check_targets(args)
    if args.warmup is not None and args.warmup > _iterations(args):
        raise UsageError(f"--warmup {args.warmup} is longer than the run "
                         f"(--iterations {_iterations(args)})")
    if args.resume:
        trainer = _resumed(args)
    else:
        corpus = load_corpora(args.corpus or [bundled_corpus_path()], not args.no_lowercase)
        config = _config_for(args, corpus)
        if args.val_file:  # read as the corpus is, lower-cased alike
            corpus = hold_out(corpus, load_corpus(args.val_file, corpus.lowercase))
        trainer = Trainer(corpus, config)
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
    ended = schedule.ended(trainer.config, trainer.iteration)
    if ended is not None:  # a resume as saved, past the schedule's end
        print(f"dinogui: warning: {ended}: to train on, give --lr-schedule constant, or "
              f"--lr-schedule {trainer.config.lr_schedule} for a new schedule to this run's end",
              file=sys.stderr, flush=True)
    out = Printer()
    say = (lambda *a, **k: None) if args.quiet else out
    st = trainer.corpus.stats()
    cfg = trainer.config
    say(f"corpus {trainer.corpus.title}: {st.names} names, {st.characters} characters, "
        f"vocabulary {st.vocab_size}, lengths {st.shortest}-{st.longest}"
        + (f", {st.duplicates} repeated" if st.duplicates else ""))
    if not args.resume and cfg.preset == "default" and recipe.applied(cfg, trainer.corpus):
        say(recipe.describe(trainer.corpus))
    if not args.resume and cfg.preset == "quality" and quality.applied(cfg, trainer.corpus):
        say(quality.describe(trainer.corpus, cfg.time_budget))
    if trainer.corpus.held_out:
        removed = len(trainer.corpus.names) - len(trainer.train_rows)
        say(f"held out: the {len(trainer.val_rows):,} names of "
            f"{quote(args.val_file or 'the checkpoint')}"
            + (f" ({removed:,} of the corpus's names among them, not trained on)"
               if removed else ""))
    if trainer.corpus.labelled:
        say("labels: " + ", ".join(f"{quote(k, 40)} {n}"
                                   for k, n in trainer.corpus.label_counts().items()))
    say(f"preset {cfg.preset}: {_describe_model(cfg)}, seed {cfg.seed}, starting at iteration "
        f"{trainer.iteration}")
    if cfg.counts_only and not len(trainer.val_rows):
        print("dinogui: note: no names are held out: the count model's discounts stay "
              "Chen & Goodman's estimates (give --val-fraction to tune them)", file=sys.stderr)

    log = JsonLog(args.log_jsonl) if args.log_jsonl else None
    chars0, seconds, error = trainer.state.total_chars, 0.0, None
    start = trainer.iteration
    # or why training ended before them: patience, interrupted, diverged, blowup
    stopped = "iterations"
    watch = BlowupWatch(trainer)  # only looks: the numbers stay the seed's

    def report(r) -> None:
        shown = [display_name(n) for n in r.samples]
        say(f"Iteration: {r.iteration}, Loss: {r.smooth:f} "
            f"(per character {r.smooth_char:.4f}), "
            f"{(trainer.state.total_chars - chars0) / max(seconds, 1e-9):,.0f} chars/s")
        if r.val_loss is not None:
            mixed = "" if not trainer.config.mixed else (
                f", mixed with the {trainer.config.mix_ngram}-gram at weight "
                f"{float(trainer.mix['weight'][0]):.3f} for the network")
            say(f"held-out loss per character {r.val_loss:.4f}{mixed} "
                f"(best {trainer.state.best_val:.4f} at iteration "
                f"{trainer.state.best_iteration})")
        say("\n".join(shown) + "\n", interrupt)
        if log:
            log.write({"iteration": r.iteration, "loss": r.loss,
                       "loss_per_char": r.loss / r.chars,
                       "smoothed_loss": r.smooth,
                       "smoothed_loss_per_char": r.smooth_char,
                       "samples": shown}
                      | ({} if r.val_loss is None else {"val_loss": r.val_loss}))

    with interrupt_between_steps() as interrupt:  # held through the save: it goes on
        started = clock()
        try:
            # the engine checks each step for NaN and inf itself: NumPy's warnings would repeat it;
            # BLAS at the model's thread count for the whole loop (core.threads.threads_for)
            with np.errstate(all="ignore"), training_threads(trainer.blas_threads):
                for _ in range(iterations):
                    if interrupt.is_set() or stopped != "iterations":  # patience: the step before
                        break
                    t0 = clock()
                    if args.seconds is not None and t0 - started >= args.seconds:
                        stopped = "seconds"
                        break
                    r = trainer.step(stop=interrupt.is_set)
                    seconds += clock() - t0
                    if log and r.val_loss is not None:
                        log.write({"event": "val", "iteration": r.iteration,
                                   "val_loss": r.val_loss})
                    if r.stopped is not None:  # its report (if any) is still printed
                        stopped = r.stopped
                    blowup = watch.observe(r)
                    if r.samples is not None:
                        report(r)
                    if blowup is not None:
                        trainer = _blown_up(blowup, trainer, args.stop_on_blowup)
                        if args.stop_on_blowup:
                            stopped = "blowup"
        except TrainingDiverged as e:
            error, stopped = str(e), "diverged"
        if interrupt.is_set() and stopped == "iterations":
            stopped = "interrupted"
        trainer.state.seconds += seconds
        chars = trainer.state.total_chars - chars0
        if log:
            log.write({"event": "done", "iterations": trainer.iteration - start,
                       "chars": chars, "seconds": seconds,
                       "chars_per_s": chars / seconds if seconds else 0.0, "stopped": stopped,
                       "best_val_loss": trainer.state.best_val,
                       "best_iteration": trainer.state.best_iteration})
            log.close()
        why = f" ({trainer.patience_message()})" if stopped == "patience" else ""
        out(f"trained to iteration {trainer.iteration}: {chars:,} characters in {seconds:.2f} s "
            f"({chars / seconds if seconds else 0:,.0f} chars/s), smoothed loss "
            f"{trainer.state.smooth:f}, per character {trainer.state.smooth_char:.4f}; "
            f"stopped: {stopped}{why}")
        if args.save:
            problem = save_or_rescue(trainer, args.save, out)
            if error is not None and problem is None:
                problem = f"{args.save} holds the last good weights"
            error = "; ".join(e for e in (error, problem) if e) or None
    if error is not None:
        print(f"dinogui: error: {quote(error, MAX_ERROR_LINE)}", file=sys.stderr)
        return 2
    return interrupt.exit_code() if interrupt.is_set() else 0


def _describe_model(cfg: TrainConfig) -> str:
    """What the header line says the model is."""
    if cfg.counts_only:
        return f"count model (interpolated Kneser-Ney), order {cfg.order}"
    model = "" if cfg.preset == "classic" else (
        f"{cfg.cell} x{cfg.layers}, batch {cfg.batch_size}, {cfg.optimizer}, "
        + (f"dropout {cfg.dropout}, " if cfg.dropout else ""))
    sched = "" if cfg.lr_schedule == "constant" and not cfg.warmup else (
        f" ({cfg.lr_schedule} to iteration {cfg.schedule_iterations}"
        + (f", warm-up {cfg.warmup}" if cfg.warmup else "") + ")")
    decay = f", weight decay {cfg.weight_decay:g}" if cfg.weight_decay else ""
    if cfg.time_budget:
        sched = f" ({cfg.lr_schedule} to the budget)" if cfg.lr_schedule != "constant" and \
            not cfg.schedule_iterations else sched
        decay += f", time budget {cfg.time_budget:g} s"
    mixed = f", mixed with a {cfg.mix_ngram}-gram count model" if cfg.mixed else ""
    return f"{model}hidden {cfg.hidden}, lr {cfg.lr}{sched}{decay}, clip {cfg.clip}{mixed}"


def _blown_up(blowup, trainer: Trainer, stop: bool) -> Trainer:
    """Warn once on stderr; with --stop-on-blowup, the trainer at the good weights."""
    good = blowup.good
    if good is None:
        hint = "no earlier weights were kept"
    elif stop:
        hint = "going back to them and stopping (--stop-on-blowup)"
    else:
        hint = "--stop-on-blowup stops there and goes back to them (for --save)"
    print(f"dinogui: warning: {blowup.summary()}: {hint}", file=sys.stderr, flush=True)
    return good.trainer(trainer) if stop and good is not None else trainer


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
