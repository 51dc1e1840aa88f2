"""Checkpoints: a safetensors file of named arrays plus JSON metadata; never pickled.

Arrays (see core/checkpoint_schema.py for the rules each meets):
  names               uint8: the training names, UTF-8, joined by newlines
  held_out            uint8: names held out apart (train --val-file), as names; only then
  param/<name>        model parameters;  best/<name>  those at the lowest held-out loss
  opt/<slot>/<name>   optimizer state (Adam's m and v, Adagrad's mem), once it has stepped
  state/<field>       TrainState's arrays and lists (order, a_prev, val_iterations, ...)
  hist/<column>       the bounded loss history (core/history.py)
The header's __metadata__ holds format, version and `dinogui`: a JSON object with
the config, vocabulary, corpus fields, TrainState's other fields and the optimizer's
settings. The .npz archives of version 1 are still read (core/legacy_npz.py).

Loading checks everything before building a trainer, so a file either loads whole
or is refused with one message naming it; the format is told by content, not name.
"""

from __future__ import annotations

import json
import os
import stat
import struct
import zlib
from dataclasses import fields
from pathlib import Path

import numpy as np

from . import checkpoint_schema as schema
from .atomic import write_atomic
from .checkpoint_format import (
    MAX_HEADER,
    Damaged,
    Entry,
    SafetensorsFile,
    strict_json,
    to_safetensors,
)
from .checkpoint_schema import Invalid
from .config import label_problem
from .corpus import MAX_CORPUS_BYTES, Corpus, CorpusError, Vocab, check_label_text, quote
from .guard import MAX_MAGNITUDE
from .history import COLUMNS, History
from .legacy_npz import MAGIC as NPZ_MAGIC
from .legacy_npz import LegacyNpz, Pickled
from .models import MIX, as_batched, current_name
from .optim import Optimizer
from .trainer import Trainer, TrainState
from .validation import split_rows

FORMAT = "dinogui-checkpoint"
VERSION = 2  # safetensors; 1 was the .npz archive
SUFFIX = ".safetensors"  # what file dialogs propose; any name loads and saves the same
MAX_META_BYTES = 100 * 2**20


class CheckpointError(ValueError):
    """A checkpoint that cannot be read, with a message fit for the user."""


# == writing ========================================================================
def to_meta(trainer: Trainer) -> dict:
    st, opt = trainer.state, trainer.optimizer
    meta_fields, _ = schema.state_fields()
    return {
        "config": trainer.config.to_dict(),
        "vocab": "".join(trainer.vocab.chars),
        "corpus": {"source": trainer.corpus.source, "lowercase": trainer.corpus.lowercase,
                   **({"labels": list(trainer.corpus.labels)} if trainer.corpus.labelled
                      else {})},
        "state": {k: getattr(st, k) for k in meta_fields},
        "optimizer": None if opt is None else {
            f.name: getattr(opt, f.name) for f in fields(Optimizer)
            if f.init and f.name != "state"},
    }


def to_arrays(trainer: Trainer) -> dict[str, np.ndarray]:
    st = trainer.state
    arrays = {"names": _utf8(trainer.corpus.names)}
    if trainer.corpus.held_out:
        arrays["held_out"] = _utf8(trainer.corpus.held_out)
    if trainer.corpus.labelled:
        arrays["name_labels"] = np.asarray(trainer.corpus.name_labels, dtype=np.int64)
    for f in fields(TrainState):
        if f.type in schema.ARRAY_DTYPES and getattr(st, f.name) is not None:
            arrays[f"state/{f.name}"] = np.asarray(getattr(st, f.name),
                                                   dtype=schema.array_dtype(f.name, f.type))
    arrays.update({f"param/{k}": v for k, v in trainer.params.items()})
    if trainer.best_params is not None:
        arrays.update({f"best/{k}": v for k, v in trainer.best_params.items()})
    if trainer.optimizer is not None:
        arrays.update({f"opt/{k}": v for k, v in trainer.optimizer.state.items()})
    if trainer.mix is not None and trainer.config.mixed:
        arrays.update({f"{MIX}{k}": v for k, v in trainer.mix.items()})
    arrays.update({f"hist/{k}": v for k, v in trainer.history.to_arrays().items()})
    return arrays


def _utf8(names: list[str]) -> np.ndarray:
    return np.frombuffer("\n".join(names).encode("utf-8"), dtype=np.uint8)


def to_bytes(trainer: Trainer) -> bytes:
    """The trainer as a checkpoint file's bytes (run between steps)."""
    meta = json.dumps(to_meta(trainer), default=_plain, allow_nan=True)
    return to_safetensors(to_arrays(trainer),
                          {"format": FORMAT, "version": str(VERSION), "dinogui": meta})


def _plain(v):
    if isinstance(v, np.generic):
        return v.item()
    raise TypeError(f"{type(v).__name__} is not JSON")


def save(trainer: Trainer, path: str | os.PathLike) -> Path:
    """Write exactly `path` (whatever its extension), atomically: a crash mid-save leaves
    any previous file intact."""
    path = Path(path)
    write_atomic(path, to_bytes(trainer))
    return path


# == reading ========================================================================
def load(path: str | os.PathLike) -> Trainer:
    """Rebuild a trainer that continues exactly where the saved one stopped."""
    path = Path(path)
    try:
        with _open(path) as source:
            return _rebuild(source)
    except Exception as e:
        raise _refusal(path, e) from None


def describe(path: str | os.PathLike) -> str:
    """'iteration 12,000 on dinosaurs' from the file's metadata, without loading the model."""
    path = Path(path)
    try:
        with _open(path) as source:
            state, corpus = source.meta.get("state"), source.meta.get("corpus")
            if not isinstance(state, dict) or not isinstance(corpus, dict) \
                    or not isinstance(corpus.get("source"), str):
                raise Invalid("its metadata is incomplete")
            iteration = schema.count(state.get("iteration"), "its iteration")
            return f"iteration {iteration:,} on {quote(Path(corpus['source']).stem)}"
    except Exception as e:
        raise _refusal(path, e) from None


MAX_PATH_SHOWN = 1000  # characters of a path in a message


def _where(path: Path) -> str:
    """The path as a message shows it (escaped, bounded)."""
    return quote(path, MAX_PATH_SHOWN)


def _refusal(p: Path, e: Exception) -> Exception:
    """The one message for a failed read (unexpected errors: returned as they are)."""
    if isinstance(e, CheckpointError):
        return e
    if isinstance(e, Pickled):
        return CheckpointError(
            f"{_where(p)}: holds pickled Python objects; refusing to load it "
            "(checkpoints never need them, and unpickling can run code)")
    if isinstance(e, (Damaged, Invalid)):
        return CheckpointError(f"{_where(p)}: damaged checkpoint: {e}")
    if isinstance(e, OSError):
        return CheckpointError(f"{_where(p)}: cannot be read ({e.strerror or e})")
    if isinstance(e, MemoryError):
        return CheckpointError(f"{_where(p)}: damaged checkpoint: it declares more data than fits "
                               "in memory")
    if isinstance(e, (ValueError, TypeError, KeyError, IndexError, AttributeError,
                      ArithmeticError, RuntimeError, struct.error, zlib.error)):
        return CheckpointError(f"{_where(p)}: damaged checkpoint "
                               f"({type(e).__name__}: {quote(e, 120)})")
    return e


class _Source:
    """A checkpoint opened for reading: its metadata, its arrays' declarations, read()."""

    def __init__(self, meta: dict, entries: dict[str, Entry], read, close,
                 legacy: bool) -> None:
        self.meta, self.entries, self.read, self.close, self.legacy = \
            meta, entries, read, close, legacy

    def __enter__(self) -> _Source:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _open(path: Path) -> _Source:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise CheckpointError(f"{_where(path)}: no such file") from None
    except OSError as e:
        raise CheckpointError(f"{_where(path)}: cannot be read ({e.strerror or e})") from None
    if stat.S_ISDIR(mode):
        raise CheckpointError(f"{_where(path)}: is a folder, not a checkpoint")
    if not stat.S_ISREG(mode):  # a pipe would block the open until something writes to it
        raise CheckpointError(f"{_where(path)}: is a device or a pipe, not a checkpoint file")
    try:
        kind = _kind(path)
    except OSError as e:
        raise CheckpointError(f"{_where(path)}: cannot be read ({e.strerror or e})") from None
    if kind == "npz":
        return _open_npz(path)
    if kind == "safetensors":
        return _open_safetensors(path)
    raise CheckpointError(f"{_where(path)}: is not a dinogui checkpoint "
                          "(neither a safetensors file nor an .npz archive)")


def _kind(path: Path) -> str | None:
    """"npz" or "safetensors" by the file's first bytes, None for anything else."""
    with open(path, "rb") as f:
        head = f.read(9)
    if head.startswith(NPZ_MAGIC):
        return "npz"
    if len(head) == 9 and head[8:9] == SafetensorsFile.MAGIC_HINT:
        return "safetensors"
    return None


def looks_like_checkpoint(path: str | os.PathLike) -> bool:
    """True when a regular file starts like a checkpoint (reads 9 bytes; never a pipe's)."""
    path = Path(path)
    try:
        kind = path.is_file() and _kind(path)
        if kind == "safetensors":  # and a header length that fits: not text that starts "{"
            with open(path, "rb") as f:
                n = int.from_bytes(f.read(8), "little")
            return 2 <= n <= min(MAX_HEADER, path.stat().st_size - 8)
        return kind == "npz"
    except OSError:
        return False


def _open_safetensors(path: Path) -> _Source:
    f = SafetensorsFile(path)
    try:
        md = f.metadata
        if md.get("format") != FORMAT:
            raise CheckpointError(f"{_where(path)}: is a safetensors file but not a dinogui "
                                  "checkpoint")
        _check_version(path, md.get("version"), str(VERSION))
        meta = strict_json(md.get("dinogui", ""), "its metadata")
        if not isinstance(meta, dict):
            raise Damaged("its metadata is not a JSON object")
        return _Source(meta, f.entries, f.read, f.close, legacy=False)
    except BaseException:
        f.close()
        raise


def _open_npz(path: Path) -> _Source:
    z = LegacyNpz(path)
    try:
        e = z.entries.get("meta")
        if e is None:
            raise CheckpointError(f"{_where(path)}: is not a dinogui checkpoint (an .npz archive "
                                  "without dinogui's metadata)")
        if e.dtype != np.uint8 or len(e.shape) != 1 or e.nbytes > MAX_META_BYTES:
            raise Damaged("its metadata is not a block of text")
        meta = strict_json(z.read("meta").tobytes(), "its metadata")
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise CheckpointError(f"{_where(path)}: is not a dinogui checkpoint")
        _check_version(path, meta.get("version"), 1)
        return _Source(*_from_v1(meta, z), z.close, legacy=True)
    except BaseException:
        z.close()
        raise


def _check_version(path: Path, found, wanted) -> None:
    if found != wanted:
        shown = quote(found, 20)
        raise CheckpointError(f"{_where(path)}: checkpoint format version {shown} is not supported "
                              f"(this dinogui reads versions 1 and {VERSION})")


def _from_v1(meta: dict, z: LegacyNpz):
    """Version 1 as version 2: held-out points were JSON lists, the history had every step,
    some parameters had other names."""
    state = meta.get("state")
    lists = {}
    if isinstance(state, dict):
        for name in ("val_iterations", "val_losses"):
            values = state.pop(name, None)
            if not isinstance(values, list) or not all(
                    isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
                raise Invalid(f"its {name.replace('_', ' ')} are not a list of numbers")
            kind = np.int64 if name == "val_iterations" else np.float64
            try:
                lists[f"state/{name}"] = np.array(values, dtype=kind)
            except OverflowError:
                raise Invalid(f"its {name.replace('_', ' ')} are out of range") from None
    # one-layer rnn parameters were renamed since (W_xh -> W_x, ...): today's names
    stored = {current_name(k): k for k in z.entries if k != "meta"}
    if len(stored) != len(z.entries) - ("meta" in z.entries):
        raise Invalid("it holds a parameter under both its former and its current name")
    entries = {k: z.entries[old] for k, old in stored.items()}
    entries.update({k: Entry(v.dtype, v.shape) for k, v in lists.items()})

    def read(name: str) -> np.ndarray:
        return lists[name].copy() if name in lists else z.read(stored[name])

    return meta, entries, read


def _rebuild(src: _Source) -> Trainer:
    m = src.meta
    for key in ("config", "vocab", "corpus", "state", "optimizer"):
        if key not in m:
            raise Invalid(f"its metadata has no {key}")
    config = schema.config_from(m["config"], src.legacy)
    vocab = schema.vocab_from(m["vocab"])
    corpus_fields = m["corpus"]
    if not (isinstance(corpus_fields, dict) and isinstance(corpus_fields.get("source"), str)
            and isinstance(corpus_fields.get("lowercase"), bool)):
        raise Invalid("its corpus fields (source, lowercase) are malformed")
    state = schema.state_from(m["state"], config)
    optimizer = schema.optimizer_from(m["optimizer"], config, src.legacy)

    names = _names(src, vocab)
    held_out = _names(src, vocab, "held_out") if "held_out" in src.entries else []
    labels = _labels(corpus_fields, config)
    name_labels = None
    if labels:
        e = src.entries.get("name_labels")
        if e is None or e.shape != (len(names),) or e.dtype != np.int64:
            raise Invalid("its labels of the names are missing or malformed")
        name_labels = src.read("name_labels")
        if len(names) and not (0 <= name_labels.min() and name_labels.max() < len(labels)):
            raise Invalid("its labels of the names are not among its labels")
    corpus = Corpus(names, vocab, corpus_fields["source"], corpus_fields["lowercase"],
                    held_out=held_out, labels=labels, name_labels=name_labels)
    try:
        train_rows, _ = split_rows(names, held_out, config.val_fraction, config.seed,
                                   name_labels)
    except ValueError as e:
        raise Invalid(f"its names cannot be split as its settings say ({e})") from None
    stored = schema.check_declared(src.entries, src.legacy, config, vocab.size, state,
                                   optimizer, len(train_rows), len(names), len(labels))
    _, array_fields = schema.state_fields()
    for name in array_fields:
        if f"state/{name}" in src.entries:
            setattr(state, name, src.read(f"state/{name}"))
    schema.check_state_arrays(state, config, train_rows)
    state.val_iterations = state.val_iterations.tolist()
    state.val_losses = state.val_losses.tolist()

    params = _finite_arrays(src, stored, "param/", "parameter")
    best = _finite_arrays(src, stored, "best/", "best parameter") if state.best_val is not None \
        else None
    if optimizer is not None:
        optimizer.state = _finite_arrays(src, stored, "opt/", "optimizer state")
        for k, v in optimizer.state.items():
            if not k.startswith("m/") and (v < 0).any():
                raise Invalid(f"its optimizer state {k} holds negative values (it is a sum "
                              "of squares)")
    history = _history(src, state.iteration)
    mix = _finite_arrays(src, stored, MIX, "mixed count model") if config.mixed \
        and state.best_val is not None else None
    checked = {"parameters": params, "best parameters": best} if config.counts_only else \
        {"mixed count model": mix and {**params, **_prefixed(mix)}, "best parameters": best}
    for what, arrays in checked.items():
        if arrays is not None and (config.counts_only or config.mixed):
            try:  # the count model's arrays and the mixing weight, checked as a model
                as_batched(config.preset, config.cell, arrays)
            except ValueError as e:
                raise Invalid(f"its {what}: {e}") from None
    return Trainer.restore(corpus, config, params, optimizer, state, history, best, mix)


def _labels(corpus_fields: dict, config) -> tuple[str, ...]:
    """A labelled checkpoint's labels (checked as a corpus's are), () for a plain one."""
    labels = corpus_fields.get("labels", [])
    if not (isinstance(labels, list) and all(isinstance(x, str) for x in labels)
            and len(set(labels)) == len(labels)):
        raise Invalid("its labels are malformed")
    try:
        labels = [check_label_text(x, "label") for x in labels]
    except CorpusError as e:
        raise Invalid(f"its labels are malformed ({e})") from None
    if labels and label_problem(config) is not None:
        raise Invalid("it has labels, but its settings cannot use them")
    return tuple(labels)


def _prefixed(mix: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {MIX + k: v for k, v in mix.items()}


def _names(src: _Source, vocab: Vocab, key: str = "names") -> list[str]:
    what = "names" if key == "names" else "held-out names"
    e = src.entries.get(key)
    if e is None or e.dtype != np.uint8 or len(e.shape) != 1:
        raise Invalid(f"its {what} are missing or malformed")
    if e.nbytes > MAX_CORPUS_BYTES:
        raise Invalid(f"its {what} are longer than any corpus dinogui reads")
    try:
        names = src.read(key).tobytes().decode("utf-8").split("\n")
    except UnicodeDecodeError:
        raise Invalid(f"its {what} are not UTF-8 text") from None
    if not all(names) or vocab.missing("".join(names)):
        raise Invalid(f"its {what} do not match its vocabulary")
    return names


def _finite_arrays(src: _Source, names: list[str], prefix: str,
                   what: str) -> dict[str, np.ndarray]:
    out = {}
    for name in names:
        if name.startswith(prefix):
            v = src.read(name)
            if not np.isfinite(v).all():
                raise Invalid(f"its {what} {quote(name[len(prefix):], 80)} holds NaN or "
                              "infinite values")
            if v.size and np.abs(v).max() > MAX_MAGNITUDE:  # training never keeps such values
                raise Invalid(f"its {what} {quote(name[len(prefix):], 80)} holds values "
                              f"beyond \u00b1{MAX_MAGNITUDE:g}, which no dinogui training keeps")
            out[name[len(prefix):]] = v
    return out


def _history(src: _Source, steps: int) -> History:
    cols = {k: src.read(f"hist/{k}") for k in COLUMNS if f"hist/{k}" in src.entries}
    try:
        if src.legacy:
            return History.from_every_step(cols)
        return History.from_arrays(cols, steps=steps)
    except ValueError as e:
        raise Invalid(f"its loss history is damaged ({e})") from None
