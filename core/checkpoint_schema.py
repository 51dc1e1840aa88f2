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

from .checkpoint_format import Entry
from .config import TrainConfig
from .corpus import Vocab, quote
from .history import BUCKETS, CHUNK, COLUMNS, RECENT
from .models import MODELS
from .optim import Optimizer
from .trainer import TrainState

MAX_COUNT = 2**62
# TrainState fields every checkpoint made so far holds; a field added later takes its
# default when an older file lacks it
STATE_FIELDS_V1 = ("iteration", "smooth", "smooth_char", "total_chars", "order", "a_prev",
                   "rng_state", "epoch", "cursor", "seconds", "val_iterations", "val_losses",
                   "best_val", "best_iteration")
# settings added to TrainConfig after version 2 began: a file without one takes its default,
# which is what the run had (no count model, no hybrid; a constant rate, no warm-up or decay)
SETTINGS_ADDED = ("order", "mix_ngram", "lr_schedule", "warmup", "schedule_iterations",
                  "weight_decay", "time_budget")
# the count model's arrays (core.models.ngram.KneserNey.to_arrays) by dtype and number of axes;
# their contents are checked by KneserNey.from_arrays once read
COUNT_ARRAYS = {"grams": (np.dtype(np.int32), 2), "counts": (np.dtype(np.int64), 1),
                "discounts": (np.dtype(np.float64), 1), "vocab_size": (np.dtype(np.int64), 1)}
MIX_WEIGHT = "weight"  # the hybrid's mixing weight, (1,) float64, beside its count arrays


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
    return quote(repr(v), 40)


BY_ANNOTATION = {"int": count, "float": real, "int | None": optional(count),
                 "float | None": optional(real)}
# fields whose meaning asks for more than their annotation says
STATE_RULES = {"smooth": loss, "smooth_char": loss, "seconds": loss,
               "best_val": optional(held_out_loss), "rng_state": rng_state}
# TrainState fields stored as arrays, by annotation, with the dtype they are stored in
ARRAY_DTYPES = {"np.ndarray": None, "np.ndarray | None": None,
                "list[int]": np.dtype(np.int64), "list[float]": np.dtype(np.float64)}
FIELD_DTYPES = {"order": np.dtype(np.int64), "a_prev": np.dtype(np.float64)}


def array_dtype(name: str, annotation: str) -> np.dtype | None:
    """The dtype a TrainState array field is stored in (None: as it is)."""
    return FIELD_DTYPES.get(name, ARRAY_DTYPES[annotation])


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


def config_from(d, legacy: bool = False) -> TrainConfig:
    """TrainConfig from its dict, every field type-checked by its annotation, then ranged.

    legacy: a version 1 file, whose settings added since take their defaults; the current
    format holds every setting, so one missing is refused (a default could silently change
    the run, e.g. batch 32 where it used 48).
    """
    if not isinstance(d, dict):
        raise Invalid("its settings are not a table of values")
    values = {}
    for f in fields(TrainConfig):
        if f.name not in d:
            if not legacy and f.name not in SETTINGS_ADDED:
                raise Invalid(f"its settings have no {f.name}")
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
            if kind == "int" and not -MAX_COUNT < v < MAX_COUNT:
                raise Invalid(f"its setting {f.name} is out of range ({_show(v)})")
            values[f.name] = float(v) if kind == "float" else v
        else:
            raise Invalid(f"its setting {f.name} is {_show(v)}, not a {kind}")
    try:
        return TrainConfig(**values)
    except (ValueError, TypeError) as e:
        raise Invalid(f"its settings are out of range ({e})") from None


def optimizer_from(d, config: TrainConfig, legacy: bool = False) -> Optimizer | None:
    """The optimizer's settings (state slots come later); None for classic. As for
    config_from, only a version 1 file may leave one out."""
    if config.preset == "classic" or config.counts_only:
        if d is not None:
            raise Invalid(f"a {'classic' if config.preset == 'classic' else 'count'} model has "
                          "no optimizer, but it holds one")
        return None
    if not isinstance(d, dict):
        raise Invalid("its optimizer settings are missing or malformed")
    if d.get("kind") != config.optimizer:
        raise Invalid(f"its optimizer is {_show(d.get('kind'))}, its settings say "
                      f"{config.optimizer}")
    # files from before the rate had one home kept a copy here; one that disagrees with the
    # settings' rate would train at a rate the file does not say: which one is meant?
    if "lr" in d and real(d["lr"], "its optimizer's lr") != config.lr:
        raise Invalid(f"its optimizer's learning rate {_show(d['lr'])} is not its settings' "
                      f"{_show(config.lr)}")
    values = {}
    for f in fields(Optimizer):
        if not f.init or f.name in ("kind", "state"):
            continue
        if f.name not in d:
            if not legacy:
                raise Invalid(f"its optimizer's settings have no {f.name}")
            continue
        rule = count if f.type == "int" else real
        values[f.name] = rule(d[f.name], f"its optimizer's {f.name}")
    o = Optimizer(config.optimizer, **values)
    if not (0 <= o.beta1 < 1 and 0 <= o.beta2 < 1 and o.eps > 0):
        raise Invalid("its optimizer's settings are out of range")
    return o


# -- the arrays a checkpoint holds --------------------------------------------------
def param_floor(vocab: int, hidden: int, layers: int) -> int:
    """Fewer parameters than any model of these sizes has (input, output, recurrent weights)."""
    return 2 * vocab * hidden + layers * hidden * hidden


def param_shapes(config: TrainConfig, V: int, labels: int = 0) -> dict[str, tuple[int, ...]]:
    H = config.hidden
    if config.preset == "classic":
        return {"Wax": (H, V), "Waa": (H, H), "Wya": (V, H), "b": (H, 1), "by": (V, 1)}
    model = MODELS[config.cell].create(V, H, np.random.default_rng(0), layers=config.layers,
                                       labels=labels)
    return {k: v.shape for k, v in model.params.items()}


def param_dtype(config: TrainConfig) -> np.dtype:
    return np.dtype(np.float64 if config.preset == "classic" else config.dtype)


def slot_names(kind: str | None) -> tuple[str, ...]:
    """The optimizer's state slots per parameter, by kind: what resuming exactly needs."""
    return {None: (), "sgd": (), "adagrad": ("mem",), "adam": ("m", "v")}[kind]


def max_history_rows(steps: int) -> int:
    return min(steps, RECENT + CHUNK + 5 * BUCKETS)


HISTORY_DTYPES = {k: np.dtype(t) for k, t in COLUMNS.items()}


# -- judging a file's contents ----------------------------------------------------------
def vocab_from(chars) -> Vocab:
    if not isinstance(chars, str) or not 2 <= len(chars) <= 100_000:
        raise Invalid("its vocabulary is malformed")
    try:
        return Vocab(tuple(chars))
    except ValueError as e:
        raise Invalid(f"its vocabulary is malformed ({e})") from None


def state_from(d, config: TrainConfig) -> TrainState:
    """TrainState's metadata fields, each by its rule, and how they must agree."""
    if not isinstance(d, dict):
        raise Invalid("its training state is malformed")
    meta_fields, _ = state_fields()
    values = {}
    for name in meta_fields:
        if name not in d:
            if name in STATE_FIELDS_V1:
                raise Invalid(f"its training state has no {name}")
            continue
        values[name] = state_rule(name)(d[name], f"its {name.replace('_', ' ')}")
    st = TrainState(**values)
    classic = config.preset == "classic"
    if (st.rng_state is None) != (classic or config.counts_only):
        raise Invalid("its random generator state does not fit its preset")
    if classic and (st.epoch or st.cursor):
        raise Invalid("its epoch or cursor is set, which a classic model never does")
    if (st.best_val is None) != (st.best_iteration is None):
        raise Invalid("its best held-out loss and its iteration disagree")
    if st.total_chars < st.iteration:
        raise Invalid("its character count is below its iteration count")
    return st


def check_declared(e: dict[str, Entry], legacy: bool, config: TrainConfig, V: int,
                   state: TrainState, optimizer: Optimizer | None, n_train: int,
                   n_names: int = 0, labels: int = 0) -> list[str]:
    """Every array's dtype and shape, before any is read: nothing unexpected, none missing.
    Returns the arrays' names, parameters in the model's own order.

    legacy: a version 1 file (its history has no iteration column and every step).
    """
    if config.counts_only:
        want = count_arrays_wanted(e, "param/", config.order)
        if state.best_val is not None:
            want.update(count_arrays_wanted(e, "best/", config.order))
    else:
        want = network_arrays_wanted(e, config, V, state, labels)
    if config.mixed and state.best_val is not None:  # the hybrid, fitted at its first check
        for prefix in ("mix/", "best/mix/"):
            want.update(count_arrays_wanted(e, prefix, config.mix_ngram))
            want[prefix + MIX_WEIGHT] = (np.dtype(np.float64), (1,))
    if optimizer is not None and optimizer.t > 0:
        for slot in slot_names(optimizer.kind):
            want.update({f"opt/{slot}/{k[len('param/'):]}": v for k, v in list(want.items())
                         if k.startswith("param/")})
    want["state/order"] = (np.dtype(np.int64), (n_train,))
    if config.preset == "classic":
        want["state/a_prev"] = (np.dtype(np.float64), (config.hidden, 1))
    n_val = e["state/val_iterations"].shape if "state/val_iterations" in e else None
    want["state/val_iterations"] = (np.dtype(np.int64), None)
    want["state/val_losses"] = (np.dtype(np.float64), n_val)
    n_hist = e["hist/loss"].shape if "hist/loss" in e else None
    if n_hist is not None and len(n_hist) != 1:
        raise Invalid("its loss history is not a list of steps")
    for col, t in HISTORY_DTYPES.items():
        if not (legacy and col == "iteration"):
            want[f"hist/{col}"] = (t, n_hist)
    want["names"] = (np.dtype(np.uint8), None)
    if "held_out" in e:  # names held out apart (train --val-file): saved beside the names
        want["held_out"] = (np.dtype(np.uint8), None)
    if labels:
        want["name_labels"] = (np.dtype(np.int64), (n_names,))

    for name in e:
        if name not in want:
            if name.startswith("opt/"):
                raise Invalid(f"its optimizer state {name[4:]} does not fit a {config.optimizer} "
                              f"optimizer that has taken {optimizer.t if optimizer else 0} steps")
            if name.startswith("best/"):
                raise Invalid("it holds best parameters but no best held-out loss")
            raise Invalid(f"it holds an unexpected array '{quote(name, 80)}'")
    for name, (dtype, shape) in want.items():
        entry = e.get(name)
        if entry is None:
            if name.startswith("opt/"):
                raise Invalid(f"its optimizer state {name[4:]} is missing (resuming without "
                              "it would not continue the run exactly)")
            raise Invalid(f"it is incomplete: the array {name} is missing")
        if entry.dtype != dtype:
            raise Invalid(f"its array {name} holds {entry.dtype}, not {dtype}")
        if len(entry.shape) != 1 and shape is None or shape is not None and entry.shape != shape:
            what = {"state/a_prev": "its carried hidden state",
                    "state/order": "its example order"}.get(name, f"its array {name}")
            raise Invalid(f"{what} has the shape {entry.shape}, not {shape or '(n,)'}")
    rows = e["hist/loss"].shape[0]
    if (rows != state.iteration) if legacy else rows > max_history_rows(
            state.iteration):
        raise Invalid(f"its loss history ({rows:,} rows) does not match its iteration count "
                      f"({state.iteration:,})")
    if n_val[0] > state.iteration:
        raise Invalid("it holds more held-out measurements than iterations")
    return list(want)


def network_arrays_wanted(e: dict[str, Entry], config: TrainConfig, V: int,
                          state: TrainState,
                          labels: int = 0) -> dict[str, tuple[np.dtype, tuple | None]]:
    """A network's parameters (and best parameters) by dtype and shape."""
    params = {k[len("param/"):]: v for k, v in e.items() if k.startswith("param/")}
    declared = sum(int(np.prod(v.shape)) for v in params.values())
    floor = param_floor(V, config.hidden, config.layers)
    shapes = param_shapes(config, V, labels) if declared >= floor else None
    if shapes is None or {k: v.shape for k, v in params.items()} != shapes:
        layered = config.preset != "classic" and config.layers > 1
        stack = f"{config.layers}-layer " if layered else ""
        kinds = f" and {labels} labels" if labels else ""
        raise Invalid(f"its parameters do not fit a {stack}{config.cell} with "
                      f"{config.hidden} hidden units, {V} characters{kinds}")
    dtype = param_dtype(config)
    want: dict[str, tuple[np.dtype, tuple | None]] = {
        f"param/{k}": (dtype, s) for k, s in shapes.items()}
    if state.best_val is not None:
        want.update({f"best/{k}": (dtype, s) for k, s in shapes.items()})
    return want


def count_arrays_wanted(e: dict[str, Entry], prefix: str,
                        order: int) -> dict[str, tuple[np.dtype, tuple | None]]:
    """A count model's arrays under prefix by dtype and shape (the n-grams' number as
    declared; KneserNey.from_arrays checks the contents)."""
    grams = e.get(prefix + "grams")
    n = grams.shape[0] if grams is not None and len(grams.shape) == 2 else 0
    return {f"{prefix}grams": (COUNT_ARRAYS["grams"][0], (n, order)),
            f"{prefix}counts": (COUNT_ARRAYS["counts"][0], (n,)),
            f"{prefix}discounts": (COUNT_ARRAYS["discounts"][0], (order,)),
            f"{prefix}vocab_size": (COUNT_ARRAYS["vocab_size"][0], (1,))}


def check_state_arrays(st: TrainState, config: TrainConfig, train_rows: np.ndarray) -> None:
    if not np.array_equal(np.sort(st.order), train_rows):
        raise Invalid("its example order does not match its names")
    if config.preset != "classic" and not st.cursor < len(st.order):
        raise Invalid("its cursor is beyond its example order")
    if st.a_prev is not None and not np.isfinite(st.a_prev).all():
        raise Invalid("its carried hidden state holds NaN or infinite values")
    vi, vl = st.val_iterations, st.val_losses
    if len(vi) and (vi[0] < 0 or vi[-1] >= st.iteration or (np.diff(vi) <= 0).any()):
        raise Invalid("its held-out iterations are out of order or range")
    if np.isnan(vl).any() or (vl < 0).any():
        raise Invalid("its held-out losses hold NaN or negative values")
    if st.best_val is not None:
        at = np.flatnonzero(vi == st.best_iteration)
        if len(at) != 1 or vl[at[0]] != st.best_val:
            raise Invalid("its best held-out loss is not one of its held-out measurements")
