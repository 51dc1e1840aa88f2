"""A run's settings (TrainConfig) and what each preset makes of them.

The limits, defaults and help of every setting are core.settings.TRAINING's; this module
holds the dataclass that is checked against them, each preset's own values, and the few
rules that join two settings (dropout needs a gated cell, a time budget a batched preset...).

Three presets:
- `classic`: the seed exactly. One name per step, the hidden state carried from
  name to name, SGD with clip-by-value, legacy NumPy seeding, the seed's
  smoothed per-name loss and its sampling scheme.
- `default`: mini-batches of names, float32, Adam, per-character loss, and
  np.random.Generator; each name starts from a zero hidden state, as sampling
  does. Equally deterministic from its seed.
- `quality`: the default preset's engine with every setting picked for a time budget
  (core.quality); it stops at the budget, its schedule sized to end there (core.timebudget).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from . import quality, schedule, settings
from .models import NGRAM

PRESETS = settings.PRESETS
# the settings that may change between steps (Trainer.set_live); any other needs a new model
LIVE_FIELDS = ("lr", "lr_schedule", "warmup", "schedule_iterations", "weight_decay", "clip",
               "sample_every", "samples", "val_every", "patience", "time_budget")
# each preset's smoothed losses: smooth = smooth * keep + loss * take. The seed's take is
# 0.001, which is not 1 - 0.999 in floats; the batched preset takes ~35x fewer steps per epoch
SMOOTHING: dict[str, tuple[float, float]] = {
    p: (0.999, 0.001) if p == "classic" else (0.99, 0.01) for p in PRESETS}
# 48 names per step: the best held-out loss for the training time (docs/presets.md);
# held-out checks by epochs (val_every auto), so that the best weights of a 300-name list are
# not those of a memorised list
BATCHED = {"val_fraction": 0.1, "batch_size": 48, "val_every": 0}
# what each preset changes from TrainConfig's field defaults (which are the seed's); the
# quality preset is the default preset's, trained for a time (core.quality picks the rest)
PRESET_DEFAULTS: dict[str, dict] = {
    "classic": {}, "default": BATCHED, "quality": {**BATCHED, **quality.budget_settings()}}


def label_problem(config: TrainConfig) -> str | None:
    """Why a labelled corpus cannot train with these settings, or None."""
    if config.preset == "classic":
        return ("labelled names (several --corpus files or name<TAB>label lines) need the "
                "default preset: classic is the seed's RNN, exactly")
    if config.counts_only or config.mixed:
        return ("labelled names need a network cell (rnn, gru or lstm) without a mixed "
                "n-gram: the count model does not condition on labels")
    return None


def _default(name: str):
    return settings.TRAINING[name].default


@dataclass(frozen=True)
class TrainConfig:
    """A run's settings; their types, limits and defaults are core.settings.TRAINING's."""

    preset: str = _default("preset")
    hidden: int = _default("hidden")
    lr: float = _default("lr")  # the base rate: core.schedule.rate gives each step's
    lr_schedule: str = _default("lr_schedule")
    warmup: int = _default("warmup")
    schedule_iterations: int = _default("schedule_iterations")  # the schedule's horizon
    weight_decay: float = _default("weight_decay")
    time_budget: float = _default("time_budget")  # seconds of training in all (0: none)
    clip: float = _default("clip")
    seed: int = _default("seed")
    sample_every: int = _default("sample_every")  # report every this many iterations
    samples: int = _default("samples")  # names drawn at each report
    max_len: int = _default("max_len")
    # the default preset only
    batch_size: int = _default("batch_size")
    optimizer: str = _default("optimizer")
    cell: str = _default("cell")
    order: int = _default("order")  # cell ngram only
    layers: int = _default("layers")  # stacked recurrent layers
    dropout: float = _default("dropout")  # training only: between layers and into the head
    # > 0: the network mixed with a count model of this order (the hybrid, see validate)
    mix_ngram: int = _default("mix_ngram")
    dtype: str = _default("dtype")
    # a held-out fraction of the names, measured every `val_every` iterations (0: auto,
    # Trainer.val_interval) and at every report; 0 trains on all names (the seed does)
    val_fraction: float = _default("val_fraction")
    val_every: int = _default("val_every")
    # early stopping: stop after this many validations in a row without a new best held-out
    # loss; 0 (or None) never stops, nor does a run without held-out names
    patience: int = _default("patience")

    def __post_init__(self) -> None:
        if self.patience is None:  # "off", as 0
            object.__setattr__(self, "patience", 0)
        problems = settings.check(settings.TRAINING, asdict(self))
        if (self.dropout > 0 and not problems
                and self.preset != "classic" and (self.cell, self.layers) == ("rnn", 1)):
            problems.append("dropout needs a gru or lstm cell, or 2 or more rnn layers")
        if not problems and self.preset == "classic" and self.cell == NGRAM:
            problems.append("the count model (cell ngram) needs the default preset: "
                            "classic is the seed's RNN")
        if not problems and self.preset == "classic" and self.mix_ngram:
            problems.append("mixed n-gram order needs the default preset: classic is the "
                            "seed's RNN, exactly")
        if self.weight_decay > 0 and self.preset == "classic" and not problems:
            problems.append("weight decay needs the default preset (classic is the seed's SGD)")
        if self.time_budget > 0 and self.preset == "classic" and not problems:
            problems.append("a time budget needs the default or quality preset (classic is "
                            "the seed's, by iterations)")
        sized = self.time_budget > 0 and self.schedule_iterations == 0  # by core.timebudget
        if not problems and not sized and (why := schedule.problem(self)) is not None:
            problems.append(why)
        if problems:
            raise ValueError("; ".join(problems))

    @property
    def counts_only(self) -> bool:
        """The count model: fitted in one step, no gradients (hidden, lr, ... do not apply)."""
        return self.cell == NGRAM

    @property
    def mixed(self) -> bool:
        """A network mixed with a count model of order mix_ngram (the hybrid)."""
        return self.mix_ngram > 0 and self.cell != NGRAM

    @classmethod
    def for_preset(cls, preset: str, **overrides) -> TrainConfig:
        """The preset's settings, with any given (non-None) values on top."""
        if preset not in PRESETS:
            raise ValueError(f"preset must be one of {', '.join(PRESETS)}")
        given = {k: v for k, v in overrides.items() if v is not None}
        return cls(**{"preset": preset, **PRESET_DEFAULTS[preset], **given})

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})

    def to_dict(self) -> dict:
        return asdict(self)
