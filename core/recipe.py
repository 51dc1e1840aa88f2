"""The default preset's recipe: the model's settings picked from the list it trains on.

A 300-name list and a 30,000-name list want different models: the small one is memorised
by anything large, the large one starves a small one. The table below picks the cell, size,
dropout, batch and learning rate by the characters the list holds (names x their mean length,
so long names count for what they are), and every tier mixes the network with a 5-gram count
model (the hybrid), which was below both parts on every list measured. Held-out checks are by
data seen (four per epoch); patience counts those checks, so 12 of them is three epochs
without a new best.

Measured with `python -m dinogui.bench.recipe` (docs/presets.md has the table and the
command): on 300-500-name lists the first tier's GRU 64 with the 5-gram is 0.06-0.17 nats per
character below the best Kneser-Ney order alone, in about a second; bigger models (GRU 128/256,
dropout 0.3-0.5) did no better there and took 2-3x longer; from ~2,000 names GRU 128 gains,
from ~20,000 GRU 256.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from .corpus import Corpus

if TYPE_CHECKING:
    from .config import TrainConfig


@dataclass(frozen=True)
class Tier:
    up_to_chars: int | None  # the tier serves lists of at most this many characters
    settings: dict


TIERS = (
    Tier(15_000, {"cell": "gru", "hidden": 64, "dropout": 0.2, "batch_size": 32, "lr": 3e-3}),
    Tier(150_000, {"cell": "gru", "hidden": 128, "dropout": 0.3, "batch_size": 32,
                   "lr": 3e-3}),
    Tier(None, {"cell": "gru", "hidden": 256, "dropout": 0.3, "batch_size": 64, "lr": 3e-3}),
)
# what every tier shares: the hybrid, checks by epochs, three epochs of patience
COMMON = {"mix_ngram": 5, "val_every": 0, "patience": 12}
# below this many names none are held out (a split needs one name on each side)
MIN_NAMES_HELD_OUT = 2
# the settings that shape the model: a flag for any of them means the user shapes it
MODEL = tuple(sorted({*(k for t in TIERS for k in t.settings), "mix_ngram"}))


def tier_for(corpus: Corpus) -> Tier:
    chars = corpus.stats().characters
    return next(t for t in TIERS if t.up_to_chars is None or chars <= t.up_to_chars)


def settings_for(corpus: Corpus, held_out: bool = True) -> dict:
    """The recipe's settings for this list. Without held-out names (none asked for, or a
    list too short to spare any) there is nothing to fit the mixture on or to be patient
    about, so neither is picked."""
    picked = {**COMMON, **tier_for(corpus).settings}
    if len(corpus.names) < MIN_NAMES_HELD_OUT:
        picked["val_fraction"] = 0.0
        held_out = False
    if not held_out:
        picked.update(mix_ngram=0, patience=0)
    if corpus.labelled:  # the count model reads no kinds: names by kind train the network alone
        picked["mix_ngram"] = 0
    return picked


def apply(config: TrainConfig, corpus: Corpus) -> TrainConfig:
    """A default-preset config with the model this list's recipe picks (the rest kept)."""
    picked = settings_for(corpus, held_out=config.val_fraction > 0)
    model = {k: v for k, v in picked.items() if k in (*MODEL, "val_fraction")}
    if not picked.get("mix_ngram", 0):
        model["mix_ngram"] = 0
    return replace(config, **model)


def applied(config, corpus: Corpus) -> bool:
    """True when the config's picked settings are this list's recipe."""
    picked = settings_for(corpus, held_out=config.val_fraction > 0 or bool(corpus.held_out))
    picked.pop("val_fraction", None)
    return all(getattr(config, k) == v for k, v in picked.items())


def describe(corpus: Corpus) -> str:
    """One line for the log: what the recipe picked, and why."""
    s, st = settings_for(corpus), corpus.stats()
    return (f"the default recipe for {st.names:,} names ({st.characters:,} characters): "
            f"{s['cell'].upper()} of {s['hidden']}, dropout {s['dropout']:g}, batch "
            f"{s['batch_size']}, learning rate {s['lr']:g}"
            + (f", mixed with a {s['mix_ngram']}-gram" if s["mix_ngram"] else ""))
