"""What `dinogui train` tells the user: the header, the seed's reports, the blow-up
warning, the JSONL log (a line per report, per held-out check and at the end), the
final line and the save. The training itself is core.loop's; cli.cmd_train joins them."""

from __future__ import annotations

import argparse
import sys

from dinogui.core import quality, recipe, schedule
from dinogui.core.blowup import Blowup
from dinogui.core.config import TrainConfig
from dinogui.core.corpus import quote
from dinogui.core.sampling import display_name
from dinogui.core.trainer import StepResult, Trainer
from dinogui.run_safety import JsonLog, Printer, save_or_rescue


class TrainReport:
    """One run's output. --quiet keeps only the final line (and stderr's warnings)."""

    def __init__(self, trainer: Trainer, args: argparse.Namespace) -> None:
        self.trainer, self.args = trainer, args
        self.out = Printer()
        self.say = (lambda *a, **k: None) if args.quiet else self.out
        self.log: JsonLog | None = None
        self.interrupt = None  # run_safety.StopFlag: a report's names stop being printed
        self.chars0 = trainer.state.total_chars
        self.start = trainer.iteration

    def header(self) -> None:
        """The lines before training: corpus, held-out names, labels, preset and model."""
        trainer, args, say = self.trainer, self.args, self.say
        ended = schedule.ended(trainer.config, trainer.iteration)
        if ended is not None:  # a resume as saved, past the schedule's end
            print(f"dinogui: warning: {ended}: to train on, give --lr-schedule constant, or "
                  f"--lr-schedule {trainer.config.lr_schedule} for a new schedule to this "
                  "run's end", file=sys.stderr, flush=True)
        st, cfg = trainer.corpus.stats(), trainer.config
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
        say(f"preset {cfg.preset}: {describe_model(cfg)}, seed {cfg.seed}, starting at "
            f"iteration {trainer.iteration}")
        if cfg.counts_only and not len(trainer.val_rows):
            print("dinogui: note: no names are held out: the count model's discounts stay "
                  "Chen & Goodman's estimates (give --val-fraction to tune them)",
                  file=sys.stderr)
        self.log = JsonLog(args.log_jsonl) if args.log_jsonl else None

    def step(self, r: StepResult, seconds: float) -> None:
        """After each step (`seconds`: the run's steps so far): its held-out check in the
        log, and when it is a report, the seed's lines and the log's report line."""
        if self.log and r.val_loss is not None:
            self.log.write({"event": "val", "iteration": r.iteration, "val_loss": r.val_loss})
        if r.samples is not None:
            self._report(r, seconds)

    def _report(self, r: StepResult, seconds: float) -> None:
        trainer, say = self.trainer, self.say
        shown = [display_name(n) for n in r.samples]
        say(f"Iteration: {r.iteration}, Loss: {r.smooth:f} "
            f"(per character {r.smooth_char:.4f}), "
            f"{(trainer.state.total_chars - self.chars0) / max(seconds, 1e-9):,.0f} chars/s")
        if r.val_loss is not None:
            mixed = "" if not trainer.config.mixed else (
                f", mixed with the {trainer.config.mix_ngram}-gram at weight "
                f"{float(trainer.mix['weight'][0]):.3f} for the network")
            say(f"held-out loss per character {r.val_loss:.4f}{mixed} "
                f"(best {trainer.state.best_val:.4f} at iteration "
                f"{trainer.state.best_iteration})")
        say("\n".join(shown) + "\n", self.interrupt)
        if self.log:
            self.log.write({"iteration": r.iteration, "loss": r.loss,
                            "loss_per_char": r.loss / r.chars,
                            "smoothed_loss": r.smooth,
                            "smoothed_loss_per_char": r.smooth_char,
                            "samples": shown}
                           | ({} if r.val_loss is None else {"val_loss": r.val_loss}))

    def blown_up(self, blowup: Blowup) -> bool:
        """Warn once on stderr; True (stop there) with --stop-on-blowup."""
        stop = self.args.stop_on_blowup
        if blowup.good is None:
            hint = "no earlier weights were kept"
        elif stop:
            hint = "going back to them and stopping (--stop-on-blowup)"
        else:
            hint = "--stop-on-blowup stops there and goes back to them (for --save)"
        print(f"dinogui: warning: {blowup.summary()}: {hint}", file=sys.stderr, flush=True)
        return stop

    def done(self, trainer: Trainer, stopped: str, why: str, seconds: float) -> str | None:
        """The log's last line, the final line and --save, for the run's `trainer` (the good
        weights' after a blow-up with --stop-on-blowup); the error left to report, if any."""
        chars = trainer.state.total_chars - self.chars0
        per_s = chars / seconds if seconds else 0.0
        if self.log:
            self.log.write({"event": "done", "iterations": trainer.iteration - self.start,
                            "chars": chars, "seconds": seconds, "chars_per_s": per_s,
                            "stopped": stopped, "best_val_loss": trainer.state.best_val,
                            "best_iteration": trainer.state.best_iteration})
            self.log.close()
        self.out(f"trained to iteration {trainer.iteration}: {chars:,} characters in "
                 f"{seconds:.2f} s ({per_s:,.0f} chars/s), smoothed loss "
                 f"{trainer.state.smooth:f}, per character {trainer.state.smooth_char:.4f}; "
                 f"stopped: {stopped}{f' ({why})' if why else ''}")
        if not self.args.save:
            return None
        return save_or_rescue(trainer, self.args.save, self.out)


def describe_model(cfg: TrainConfig) -> str:
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
