"""The rules for settings changed while a model exists: what a change is called, the trace a
learning-rate or clip change leaves, and how the trainer takes it (on the worker)."""

from __future__ import annotations

from dinogui.core.config import TrainConfig


def live_change_text(before: TrainConfig, changes: dict) -> tuple[str, str] | None:
    """For a learning-rate or clip change: a line for the log and a short label for the plot
    ("learning rate 0.01 → 0.005", "lr 0.005"); None for other settings."""
    parts, short = [], []
    for name, label, abbrev in (("lr", "learning rate", "lr"), ("clip", "gradient clip", "clip")):
        if name in changes and changes[name] != getattr(before, name):
            parts.append(f"{label} {getattr(before, name):g} → {changes[name]:g}")
            short.append(f"{abbrev} {changes[name]:g}")
    return ("; ".join(parts), ", ".join(short)) if parts else None


SETTING_NAMES = {"preset": "the preset", "cell": "the cell", "layers": "the layers",
                 "hidden": "the hidden units", "optimizer": "the optimizer",
                 "batch_size": "the batch size", "seed": "the seed",
                 "order": "the n-gram order", "mix_ngram": "the mixed n-gram"}


def plain_settings(changed: list[str]) -> str:
    """Settings as a user calls them: "the preset" (whose own settings follow from it), or
    "the hidden units and the seed"."""
    if "preset" in changed:
        return SETTING_NAMES["preset"]
    names = [SETTING_NAMES.get(k, "the " + k.replace("_", " ")) for k in changed]
    return " and ".join(names) if len(names) < 3 else ", ".join(names[:-1]) + " and " + names[-1]


def apply_live(trainer, changes: dict) -> int:
    """Give the trainer the changed live settings (on the worker, between steps); returns the
    iteration they take effect at, for the trace."""
    trainer.set_live(**changes)
    return trainer.iteration
