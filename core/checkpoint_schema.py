"""What a checkpoint holds and the rules every value must meet, derived from the dataclasses.

TrainState's fields are stored by their annotation: arrays and lists as arrays
(`state/<field>`), the rest in the JSON metadata. Each field is checked by a rule
from its annotation (e.g. `int`: a whole number >= 0), tightened per field where
the meaning asks for it (a loss is never negative). TrainConfig's fields are
type-checked from their annotations, then ranged by TrainConfig itself.
"""

from __future__ import annotations

import math
from dataclasses import fields

import numpy as np

from .history import BUCKETS, CHUNK, COLUMNS, RECENT
from .models import MODELS
from .optim import Optimizer
from .trainer import TrainConfig, TrainState

MAX_COUNT = 2**62


class Invalid(ValueError):
    """A value breaks a rule (the reason, without the path)."""


# -- scalar rules --------------------------------------------------------------------
def count(v, what: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < MAX_COUNT:
        raise Invalid(f"{what} is {_show(v)}, not a whole number of 0 or more")
    return v


def real(v, what: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise Invalid(f"{what} is {_show(v)}, not a finite number")
    return float(v)


def loss(v, what: str) -> float:
    """A loss: finite and never negative."""
    if real(v, what) < 0:
        raise Invalid(f"{what} is {_show(v)}, a loss is never negative")
    return float(v)


def held_out_loss(v, what: str) -> float:
    """A held-out loss: never negative, infinite when the model diverged on those names."""
    if v == math.inf:
        return math.inf
    return loss(v, what)


def optional(rule):
    return lambda v, what: None if v is None else rule(v, what)


def rng_state(v, what: str) -> dict | None:
    """None (classic) or a PCG64 state, as np.random.Generator's bit_generator.state."""
    if v is None:
        return None
    ok = (isinstance(v, dict) and set(v) == {"bit_generator", "state", "has_uint32", "uinteger"}
          and v["bit_generator"] == "PCG64" and isinstance(v["state"], dict)
          and set(v["state"]) == {"state", "inc"}
          and all(_int_below(x, 2**128) for x in v["state"].values())
          and v["has_uint32"] in (0, 1) and not isinstance(v["has_uint32"], bool)
          and _int_below(v["uinteger"], 2**32))
    if ok:
        try:
            np.random.PCG64().state = v
        except (ValueError, TypeError, OverflowError):
            ok = False
    if not ok:
        raise Invalid(f"{what} is not a random generator's state")
    return v


def _int_below(x, high: int) -> bool:
    return isinstance(x, int) and not isinstance(x, bool) and 0 <= x < high


def _show(v) -> str:
    text = repr(v)
    return text if len(text) <= 40 else text[:37] + "..."


BY_ANNOTATION = {"int": count, "float": real, "int | None": optional(count),
                 "float | None": optional(real)}
# fields whose meaning asks for more than their annotation says
STATE_RULES = {"smooth": loss, "smooth_char": loss, "seconds": loss,
               "best_val": optional(held_out_loss), "rng_state": rng_state}
# TrainState fields stored as arrays, with the dtype they are stored in
ARRAY_DTYPES = {"np.ndarray": None, "np.ndarray | None": None,
                "list[int]": np.dtype(np.int64), "list[float]": np.dtype(np.float64)}


def state_fields() -> tuple[list[str], list[str]]:
    """(names stored in the metadata, names stored as arrays) of TrainState's fields."""
    meta, arrays = [], []
    for f in fields(TrainState):
        (arrays if f.type in ARRAY_DTYPES else meta).append(f.name)
    return meta, arrays


def state_rule(name: str):
    """The rule for one of TrainState's metadata fields (KeyError: the annotation has none)."""
    f = next(f for f in fields(TrainState) if f.name == name)
    return STATE_RULES.get(name) or BY_ANNOTATION[f.type]


def config_from(d) -> TrainConfig:
    """TrainConfig from its dict, every field type-checked by its annotation, then ranged."""
    if not isinstance(d, dict):
        raise Invalid("its settings are not a table of values")
    values = {}
    for f in fields(TrainConfig):
        if f.name not in d:
            continue  # saved before the setting existed: its default
        v, kind = d[f.name], f.type
        if kind.endswith(" | None") and v is None:
            values[f.name] = None
            continue
        kind = kind.removesuffix(" | None")
        if kind == "str" and isinstance(v, str):
            values[f.name] = v
        elif kind in ("int", "float") and not isinstance(v, bool) and (
                isinstance(v, int) if kind == "int" else isinstance(v, (int, float))):
            if not (-MAX_COUNT < v < MAX_COUNT):
                raise Invalid(f"its setting {f.name} is out of range ({_show(v)})")
            values[f.name] = float(v) if kind == "float" else v
        else:
            raise Invalid(f"its setting {f.name} is {_show(v)}, not a {kind}")
    try:
        return TrainConfig(**values)
    except (ValueError, TypeError) as e:
        raise Invalid(f"its settings are out of range ({e})") from None


def optimizer_from(d, config: TrainConfig) -> Optimizer | None:
    """The optimizer's settings (state slots come later); None for classic."""
    if config.preset == "classic":
        if d is not None:
            raise Invalid("a classic model has no optimizer, but it holds one")
        return None
    if not isinstance(d, dict):
        raise Invalid("its optimizer settings are missing or malformed")
    if d.get("kind") != config.optimizer:
        raise Invalid(f"its optimizer is {_show(d.get('kind'))}, its settings say "
                      f"{config.optimizer}")
    values = {}
    for f in fields(Optimizer):
        if not f.init or f.name in ("kind", "state") or f.name not in d:
            continue
        rule = count if f.type == "int" else real
        values[f.name] = rule(d[f.name], f"its optimizer's {f.name}")
    o = Optimizer(config.optimizer, **values)
    if not (o.lr > 0 and 0 <= o.beta1 < 1 and 0 <= o.beta2 < 1 and o.eps > 0):
        raise Invalid("its optimizer's settings are out of range")
    return o


# -- the arrays a checkpoint holds --------------------------------------------------
def param_floor(vocab: int, hidden: int, layers: int) -> int:
    """Fewer parameters than any model of these sizes has (input, output, recurrent weights)."""
    return 2 * vocab * hidden + layers * hidden * hidden


def param_shapes(config: TrainConfig, V: int) -> dict[str, tuple[int, ...]]:
    H = config.hidden
    if config.preset == "classic":
        return {"Wax": (H, V), "Waa": (H, H), "Wya": (V, H), "b": (H, 1), "by": (V, 1)}
    model = MODELS[config.cell].create(V, H, np.random.default_rng(0), layers=config.layers)
    return {k: v.shape for k, v in model.params.items()}


def param_dtype(config: TrainConfig) -> np.dtype:
    return np.dtype(np.float64 if config.preset == "classic" else config.dtype)


def slot_names(kind: str | None) -> tuple[str, ...]:
    """The optimizer's state slots per parameter, by kind: what resuming exactly needs."""
    return {None: (), "sgd": (), "adagrad": ("mem",), "adam": ("m", "v")}[kind]


def max_history_rows(steps: int) -> int:
    return min(steps, RECENT + CHUNK + 5 * BUCKETS)


HISTORY_DTYPES = {k: np.dtype(t) for k, t in COLUMNS.items()}
