"""Every setting a user can give, once: its type, limits, default, unit and one line of help.

TrainConfig and SampleSpec validate against this table; the command line's argument types
(dinogui.arguments), the window's fields (dinogui.widgets.fields) and checkpoint loading
(through TrainConfig) read it. A limit written anywhere else is a bug: tests walk the table
and check every option and field against it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .models import CELLS, MAX_LAYERS
from .models.ngram import MAX_ORDER
from .optim import Optimizer

MAX_SEED = 2**32 - 1  # RandomState's range, which the classic schemes use
# Counts saved in checkpoints stay far below 2**53, so they survive JSON and float readers,
# and a report or check interval this large already means "never".
MAX_INTERVAL = 1_000_000_000
# "a positive number" starts here: far below any useful rate, and a value every reader and
# widget keeps exactly (Qt's spin boxes lose the last bits of subnormal-adjacent doubles)
TINY = 1e-300


@dataclass(frozen=True)
class Setting:
    """One setting. Numbers lie in [low, high]; `positive` excludes 0 as the low end and
    leaves the top open (a rate: any positive finite number)."""

    name: str
    kind: type  # int, float or str
    default: object
    label: str  # as a sentence names it: "hidden units"
    help: str
    low: float | None = None
    high: float | None = None
    positive: bool = False
    choices: tuple[str, ...] = ()
    off: str | None = None  # what the lowest value means when it is special ("off")
    unit: str = ""

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def rule(self) -> str:
        """The values it takes, as an error or a tooltip says them."""
        if self.choices:
            return "one of " + ", ".join(self.choices)
        if self.positive:
            return "a positive number"
        low = _number(self.low) + (f" ({self.off})" if self.off else "")
        if self.high is None:
            return "zero or more" if self.low == 0 else f"at least {low}"
        return f"between {low} and {_number(self.high)}"

    def problem(self, value: object) -> str | None:
        """Why `value` is refused, or None when it is fine."""
        if self.choices:
            return None if value in self.choices else f"{self.label} must be {self.rule()}"
        ok_type = (int,) if self.kind is int else (int, float)
        if isinstance(value, bool) or not isinstance(value, ok_type):
            return f"{self.label} must be {'a whole number' if self.kind is int else 'a number'}"
        if not self.accepts(value):
            return f"{self.label} must be {self.rule()}"
        return None

    def accepts(self, value: float) -> bool:
        if not math.isfinite(value):
            return False
        if self.positive:
            return value >= TINY
        return (self.low is None or value >= self.low) and (
            self.high is None or value <= self.high)


def _number(x: float | None) -> str:
    """1000000 and 0.9 (not 1e+06 or 0.90000): as a user would type it."""
    if x is None:
        return ""
    return f"{int(x)}" if float(x).is_integer() else f"{x:g}"


def _table(*settings: Setting) -> dict[str, Setting]:
    return {s.name: s for s in settings}


PRESETS = ("classic", "default", "quality")
# the quality preset's time budget when none is given (`train --preset quality`, the window's
# Budget): five minutes reach 1.89 nats/char on names.txt here (docs/presets.md, "quality")
QUALITY_SECONDS = 300.0
SCHEDULES = ("constant", "cosine", "linear")
# val_every 0 ("auto"): this many held-out checks per epoch of training names, at least one
# iteration and at most AUTO_VAL_MAX apart (core.trainer.Trainer.val_interval)
AUTO_VAL_CHECKS = 4
AUTO_VAL_MAX = 500

# what a model is and how it trains (core.config.TrainConfig). The defaults are the
# original exercise's; each preset's own changes are core.config.PRESET_DEFAULTS.
TRAINING = _table(
    Setting("preset", str, "classic", "preset", "the training recipe: classic (the original "
            "exercise, exactly), default (mini-batches, a model picked for the list) or "
            "quality (the default preset's engine, everything picked for a time budget)",
            choices=PRESETS),
    Setting("hidden", int, 50, "hidden units", "hidden units per layer", 1, 4096),
    Setting("lr", float, 0.01, "learning rate", "the step size of each update",
            positive=True),
    Setting("lr_schedule", str, "constant", "learning-rate schedule",
            "how the learning rate changes over the run, after any warm-up: constant, or "
            "down to 0 at the run's last iteration along a cosine or a straight line",
            choices=SCHEDULES),
    Setting("warmup", int, 0, "warm-up", "the learning rate rises linearly from lr/N to lr "
            "over the first N iterations", 0, MAX_INTERVAL, off="none", unit="iterations"),
    # the schedule's horizon: set from the run's iterations (`train --iterations`, the window's
    # Iterations), saved so that a resumed run follows the same schedule
    Setting("schedule_iterations", int, 0, "schedule length",
            "the iterations a cosine or linear schedule spans", 0, MAX_INTERVAL,
            off="none", unit="iterations"),
    Setting("weight_decay", float, 0.0, "weight decay",
            "shrinks the weights each step: decoupled (AdamW) for adam, L2 added to the "
            "gradient for sgd and adagrad", 0.0, 1.0),
    # a run's training time in all (its steps' own time, a resumed run's earlier time
    # included): reached, the trainer stops; a cosine or linear schedule without a length is
    # sized to end with it (core.timebudget). The quality preset's is QUALITY_SECONDS
    Setting("time_budget", float, 0.0, "time budget",
            "stop after this many seconds of training in all; a cosine or linear schedule "
            "ends with it", 0.0, float(MAX_INTERVAL), off="none", unit="seconds"),
    Setting("clip", float, 5.0, "gradient clip", "gradients are clipped to [-clip, clip]",
            positive=True),
    Setting("seed", int, 0, "seed", "seeds the initial weights and the order of the names",
            0, MAX_SEED),
    Setting("sample_every", int, 2000, "report interval", "report every this many iterations",
            1, MAX_INTERVAL, unit="iterations"),
    Setting("samples", int, 7, "names per report", "names drawn at each report", 0, 1000,
            unit="names"),
    Setting("max_len", int, 50, "maximum name length", "the most letters a drawn name has",
            1, 1000, unit="letters"),
    Setting("batch_size", int, 32, "batch size", "names per training step", 1, 1_000_000,
            unit="names"),
    Setting("optimizer", str, "adam", "optimizer", "how the gradients update the weights",
            choices=Optimizer.KINDS),
    Setting("cell", str, "rnn", "cell", "the recurrent cell, or ngram: a count model",
            choices=CELLS),
    # 5: the lowest held-out loss of orders 1-6 on the three reference lists and names.txt
    # (README.md, "The count model and the hybrid")
    Setting("order", int, 5, "n-gram order", "the count model's order (cell ngram): it "
            "predicts each letter from the order - 1 before it", 1, MAX_ORDER),
    Setting("layers", int, 1, "layers", "stacked recurrent layers", 1, MAX_LAYERS),
    Setting("dropout", float, 0.0, "dropout", "dropout between layers and into the output",
            0.0, 0.9),
    Setting("mix_ngram", int, 0, "mixed n-gram order", "mix the network with a count model "
            "of this order, the weight fitted on the held-out names", 0, MAX_ORDER, off="off"),
    Setting("dtype", str, "float32", "dtype", "floating-point type of the weights",
            choices=("float32", "float64")),
    Setting("val_fraction", float, 0.0, "validation fraction", "fraction of the names held out",
            0.0, 0.5),
    Setting("val_every", int, 500, "validation interval",
            "measure the held-out loss every this many iterations; auto: "
            f"{AUTO_VAL_CHECKS} times per epoch of training names, at most every "
            f"{AUTO_VAL_MAX}", 0, MAX_INTERVAL, off="auto", unit="iterations"),
    Setting("patience", int, 0, "patience",
            "stop after this many held-out checks in a row without a new best",
            0, 1_000_000, off="off", unit="checks"),
)

# a run's wall-clock budget (the command line's --seconds)
SECONDS = Setting("seconds", float, None, "time budget",
                  "stop after this many seconds of training", positive=True, unit="seconds")

# how names are drawn (core.sample_spec.SampleSpec) and how many
SAMPLING = _table(
    # below the minimum, logits / temperature can overflow; above the maximum every letter
    # is equally likely whatever the model says
    Setting("temperature", float, 1.0, "temperature",
            "divides the logits: below 1 bolder, above 1 wilder", 0.001, 1000.0),
    Setting("top_k", int, None, "top-k", "draw each letter from the K most likely only "
            "(1: greedy)", 1, 1000),
    Setting("top_p", float, None, "top-p", "draw each letter from the fewest most likely "
            "letters whose probability reaches P (nucleus sampling; after top-k)", 0.01, 1.0),
    Setting("beam", int, None, "beam width", "the most likely names instead of drawn ones, "
            "most likely first, by a beam search keeping W names at each length", 1, 10_000),
    Setting("min_len", int, 0, "minimum length", "at least this many letters", 0, 1000,
            unit="letters"),
    Setting("max_len", int, None, "maximum length", "at most this many letters", 1, 1000,
            unit="letters"),
    Setting("count", int, 10, "count", "names to draw", 1, MAX_INTERVAL, unit="names"),
    Setting("seed", int, 0, "seed", "the same seed gives the same names", 0, MAX_SEED),
)

# the Health tab's K: the steps whose iteration is a multiple of it are measured; a watched
# step costs 0.5-10 ms, so 100 is 1-5% of the training time (docs/window.md, Health)
HEALTH_EVERY = Setting("health_every", int, 100, "health interval",
                       "measure the steps whose iteration is a multiple of this", 1,
                       1_000_000, unit="iterations")

# how long a run goes on (the command line's --iterations, the window's Iterations)
ITERATIONS = Setting("iterations", int, 35_000, "iterations",
                     "steps to train (the original exercise: 35,000)", 0, MAX_INTERVAL,
                     unit="iterations")


# the learning-rate finder's sweep (core.lr_find; `dinogui lr-find`, the window's finder):
# fastai's lr_find bounds and step count, which bracket every rate our optimizers train at
LR_FIND = _table(
    Setting("min_lr", float, 1e-5, "lowest rate", "the sweep's first learning rate",
            positive=True),
    Setting("max_lr", float, 1.0, "highest rate", "the sweep's last learning rate",
            positive=True),
    Setting("steps", int, 100, "sweep steps",
            "training steps of the sweep, one rate each, spaced evenly on a log scale",
            10, 100_000, unit="steps"),
)


def check(table: dict[str, Setting], values: dict[str, object]) -> list[str]:
    """The problems of these values (None means unset and passes), in the table's order."""
    return [p for name, s in table.items()
            if name in values and values[name] is not None
            and (p := s.problem(values[name])) is not None]
