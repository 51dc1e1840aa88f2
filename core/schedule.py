"""The learning rate of each step, from the run's settings: the one place it is computed.

TrainConfig.lr is the base rate. A warm-up of W iterations rises linearly to it (step i
takes lr * (i + 1) / W, so the first step already moves); after it, `constant` keeps it,
and `cosine` and `linear` take it down towards 0 at `schedule_iterations`, the run's planned
length, stored in the config so a resumed run continues on the same curve. Past the
horizon (a resumed run that goes on) the rate stays at its end value, 0.
"""

from __future__ import annotations

import math


def rate(config, iteration: int) -> float:
    """The learning rate of step `iteration` (0-based) under `config` (a core.config.TrainConfig).

    With the constant schedule and no warm-up this is config.lr itself, the same float, so
    runs made before schedules existed (and the classic preset) are unchanged to the bit.
    """
    base, warmup = config.lr, config.warmup
    if iteration < warmup:
        return base * (iteration + 1) / warmup
    horizon = config.schedule_iterations
    if config.lr_schedule == "constant" or horizon <= 0:
        return base
    progress = min(1.0, (iteration - warmup) / max(1, horizon - warmup))
    if config.lr_schedule == "cosine":
        return base * 0.5 * (1.0 + math.cos(math.pi * progress))
    return base * (1.0 - progress)


def problem(config) -> str | None:
    """Why a schedule cannot run as set (None: it can)."""
    horizon = config.schedule_iterations
    if config.lr_schedule != "constant" and horizon <= 0:
        return (f"a {config.lr_schedule} learning-rate schedule needs the run's number of "
                "iterations")
    if horizon > 0 and config.warmup > horizon:
        return (f"the warm-up ({config.warmup:,} iterations) is longer than the run "
                f"({horizon:,} iterations)")
    return None


def ended(config, iteration: int) -> str | None:
    """Why steps from `iteration` on would all take rate 0 (None: they would not): a cosine
    or linear schedule whose horizon has passed, as when a finished run is resumed as saved."""
    horizon = config.schedule_iterations
    if config.lr_schedule == "constant" or not 0 < horizon <= iteration:
        return None
    return (f"the {config.lr_schedule} learning-rate schedule ended at iteration {horizon:,}, "
            f"so from iteration {iteration:,} on the learning rate is 0 and nothing is learnt")
