"""Choosing a kind for a labelled model: one label, or a blend of several.

A --label value is either a label ("elf") or a blend of labels with weights
("elf:0.7,dwarf:0.3"). A blend mixes the label embeddings: the model reads the
weighted sum of the labels' rows (core.models.reference). Weights must be
positive numbers; they are normalised to sum to 1, so "elf:2,dwarf:1" is
"elf:0.667,dwarf:0.333". A label without a weight in a blend weighs 1.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .corpus import quote


def known(labels: Sequence[str]) -> str:
    return ", ".join(quote(x, 40) for x in labels) if labels else "none: this model has no labels"


def label_weights(spec: str, labels: Sequence[str]) -> np.ndarray:
    """(L,) weights summing to 1 for a label or a blend; ValueError with one clear line."""
    if not labels:
        raise ValueError(f"--label {quote(spec, 80)!r}: unknown label (known labels: "
                         f"{known(labels)})")
    weights = np.zeros(len(labels))
    parts = [p.strip() for p in spec.split(",")]
    for part in parts:
        name, sep, number = part.rpartition(":") if ":" in part else (part, "", "")
        name = name.strip()
        if name not in labels:
            raise ValueError(f"--label: unknown label {quote(name, 80)!r} (known labels: "
                             f"{known(labels)})")
        w = 1.0
        if sep:
            try:
                w = float(number)
            except ValueError:
                raise ValueError(f"--label: the weight of {quote(name, 80)!r} is "
                                 f"{quote(number, 40)!r}, not a number") from None
            if not (math.isfinite(w) and w > 0):
                raise ValueError(f"--label: the weight of {quote(name, 80)!r} must be a "
                                 f"positive number, not {quote(number, 40)}")
        i = labels.index(name)
        if weights[i]:
            raise ValueError(f"--label: {quote(name, 80)!r} is given twice")
        weights[i] = w
    return weights / weights.sum()


def describe(weights: np.ndarray, labels: Sequence[str]) -> str:
    """"elf" for one label, "elf:0.7,dwarf:0.3" for a blend (the --label syntax)."""
    used = [(x, w) for x, w in zip(labels, weights, strict=True) if w > 0]
    if len(used) == 1:
        return used[0][0]
    return ",".join(f"{x}:{w:.3g}" for x, w in used)
