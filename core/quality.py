"""The quality preset's recipe: every setting picked for the list and a time budget.

The default preset's recipe (core.recipe) picks the model by the characters of the list
and stops by patience; given a time instead, a run does better to spend all of it and let
the learning rate fall to 0 as it ends. So the quality preset keeps the recipe's model and
mixture, adds a second layer where the budget pays for it (DEEPER), trains until the budget
is spent (no patience), its cosine schedule sized to end with it (core.timebudget), and keeps
the weights of its lowest held-out loss: those are saved, and sampled (`dinogui sample` draws
from them).

Measured with `dinogui train --preset quality --seconds S` and model flags, one run each on
the shared 2 cores (docs/presets.md, "quality", has the table and the commands); best
held-out loss per character on names.txt in 300 s: the default preset's constant rate
1.8984, a cosine schedule 1.8950, with weight decay 0.1 1.8984 (so none), dropout 0.2
1.8973, lr 0.005 1.8931, GRU 384 1.8922, 2 layers 1.8918, 2 layers at lr 0.005 1.8878.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from . import recipe
from .corpus import Corpus
from .settings import QUALITY_SECONDS

if TYPE_CHECKING:
    from .config import TrainConfig

# what the budget adds to the recipe's model: a schedule that ends with it, no early stop
PICKS = {"lr_schedule": "cosine", "weight_decay": 0.0, "patience": 0}


@dataclass(frozen=True)
class Deeper:
    """A second layer (and what goes with it) for lists of one of the recipe's tiers, given
    at least `from_seconds`."""

    tier: int  # index into core.recipe.TIERS
    from_seconds: float
    settings: dict


# names.txt (the last tier): at 120 s one layer 1.8970, two 1.9043; at 300 s two layers at
# lr 0.005 1.8878, the best one-layer run 1.8922 (GRU 384). towns-302 (the first tier): two
# layers 1.1585 / 1.1563 at 5 / 20 s, one 1.1766 / 1.1760. The middle tier's 3,000 names of
# names.txt at 60 s: one layer 2.0981, two 2.0998 (none picked)
DEEPER = (Deeper(0, 5.0, {"layers": 2}), Deeper(2, 200.0, {"layers": 2, "lr": 5e-3}))
# the settings that shape the model (a flag for any of them: the user shapes it)
MODEL = (*recipe.MODEL, "layers")


def budget_settings(seconds: float = QUALITY_SECONDS) -> dict:
    """What the budget alone sets, whatever the model (the preset's own settings,
    core.config.PRESET_DEFAULTS, hold PICKS too): kept when flags shape the model."""
    return {**PICKS, "time_budget": float(seconds), "schedule_iterations": 0}


def settings_for(corpus: Corpus, seconds: float = QUALITY_SECONDS,
                 held_out: bool = True) -> dict:
    """The quality preset's settings for this list and budget (seconds of training)."""
    picked = {**recipe.settings_for(corpus, held_out), "layers": 1, **budget_settings(seconds)}
    tier = recipe.TIERS.index(recipe.tier_for(corpus))
    for deeper in DEEPER:
        if deeper.tier == tier and seconds >= deeper.from_seconds:
            picked.update(deeper.settings)
    return picked


def apply(config: TrainConfig, corpus: Corpus) -> TrainConfig:
    """A quality-preset config with the model picked for this list and its budget (the rest
    kept), as core.recipe.apply does for the default preset."""
    picked = settings_for(corpus, config.time_budget, held_out=config.val_fraction > 0)
    return replace(config, **{k: v for k, v in picked.items()
                              if k in (*MODEL, "val_fraction")})


def applied(config: TrainConfig, corpus: Corpus) -> bool:
    """True when the config's model is the one picked for this list and its budget."""
    picked = settings_for(corpus, config.time_budget,
                          held_out=config.val_fraction > 0 or bool(corpus.held_out))
    return all(getattr(config, k) == v for k, v in picked.items() if k in MODEL)


def describe(corpus: Corpus, seconds: float) -> str:
    """One line for the log: what the preset picked for this list and budget."""
    s, st = settings_for(corpus, seconds), corpus.stats()
    return (f"the quality preset for {st.names:,} names ({st.characters:,} characters) in "
            f"{seconds:g} s: {s['cell'].upper()} of {s['hidden']}"
            + (f" x{s['layers']}" if s.get("layers", 1) > 1 else "")
            + f", dropout {s['dropout']:g}, batch {s['batch_size']}, learning rate "
            f"{s['lr']:g} on a {s['lr_schedule']} schedule to the budget"
            + (f", weight decay {s['weight_decay']:g}" if s["weight_decay"] else "")
            + (f", mixed with a {s['mix_ngram']}-gram" if s["mix_ngram"] else ""))
