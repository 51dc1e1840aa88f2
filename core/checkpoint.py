"""Checkpoints: one .npz of named arrays plus JSON metadata, never pickled.

Layout of the archive:
  meta              uint8 bytes of a JSON object (format, config, vocab, state)
  names             uint8 bytes of the training names joined by newlines
  param/<name>      model parameters
  opt/<slot>        optimizer state (Adam's m and v, Adagrad's memory)
  hist/<column>     per-iteration loss history
  best/<name>       parameters at the best validation loss, when validation ran
  state/order       example order;  state/a_prev  the carried hidden state (classic)
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np

from .atomic import write_atomic
from .corpus import Corpus, Vocab
from .history import COLUMNS, History
from .models import MODELS, current_name
from .optim import Optimizer
from .trainer import TrainConfig, Trainer, TrainState

FORMAT = "dinogui-checkpoint"
VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint that cannot be read, with a message fit for the user."""


def _json_bytes(obj) -> np.ndarray:
    return np.frombuffer(json.dumps(obj).encode("utf-8"), dtype=np.uint8)


def to_arrays(trainer: Trainer) -> dict[str, np.ndarray]:
    st = trainer.state
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "config": trainer.config.to_dict(),
        "vocab": "".join(trainer.vocab.chars),
        "corpus": {"source": trainer.corpus.source, "lowercase": trainer.corpus.lowercase},
        "state": {
            "iteration": st.iteration,
            "smooth": st.smooth,
            "smooth_char": st.smooth_char,
            "total_chars": st.total_chars,
            "epoch": st.epoch,
            "cursor": st.cursor,
            "seconds": st.seconds,
            "rng_state": st.rng_state,
            "val_iterations": st.val_iterations,
            "val_losses": st.val_losses,
            "best_val": st.best_val,
            "best_iteration": st.best_iteration,
        },
        "optimizer": None if trainer.optimizer is None else {
            "kind": trainer.optimizer.kind, "lr": trainer.optimizer.lr, "t": trainer.optimizer.t},
    }
    arrays = {
        "meta": _json_bytes(meta),
        "names": np.frombuffer("\n".join(trainer.corpus.names).encode("utf-8"), dtype=np.uint8),
        "state/order": st.order,
    }
    if st.a_prev is not None:
        arrays["state/a_prev"] = st.a_prev
    arrays.update({f"param/{k}": v for k, v in trainer.params.items()})
    if trainer.best_params is not None:
        arrays.update({f"best/{k}": v for k, v in trainer.best_params.items()})
    if trainer.optimizer is not None:
        arrays.update({f"opt/{k}": v for k, v in trainer.optimizer.state.items()})
    arrays.update({f"hist/{k}": v for k, v in trainer.history.to_arrays().items()})
    return arrays


def save(trainer: Trainer, path: str | os.PathLike) -> Path:
    """Write atomically: a crash mid-save leaves any previous file intact."""
    path = Path(path)
    buf = io.BytesIO()
    np.savez(buf, **to_arrays(trainer))
    write_atomic(path, buf.getbuffer())
    return path


def _read_arrays(path: Path) -> dict[str, np.ndarray]:
    if not path.exists():
        raise CheckpointError(f"{path}: no such file")
    if path.is_dir():
        raise CheckpointError(f"{path}: is a folder, not a checkpoint")
    try:
        with open(path, "rb") as f:
            magic = f.read(4)
    except OSError as e:
        raise CheckpointError(f"{path}: cannot be read ({e.strerror or e})") from None
    if magic != b"PK\x03\x04":  # every .npz is a zip archive
        raise CheckpointError(f"{path}: is not a dinogui checkpoint (not an .npz archive)")
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except ValueError as e:
        if "pickle" in str(e).lower():
            raise CheckpointError(
                f"{path}: holds pickled Python objects; refusing to load it "
                "(checkpoints never need them, and unpickling can run code)") from None
        raise CheckpointError(f"{path}: is not a dinogui checkpoint ({e})") from None
    except (OSError, zipfile.BadZipFile, EOFError, KeyError) as e:
        raise CheckpointError(f"{path}: is not a readable checkpoint ({e})") from None


def _meta(arrays: dict[str, np.ndarray], path: Path) -> dict:
    if "meta" not in arrays or arrays["meta"].dtype != np.uint8:
        raise CheckpointError(f"{path}: is not a dinogui checkpoint (no metadata)")
    try:
        meta = json.loads(arrays["meta"].tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise CheckpointError(f"{path}: its metadata is damaged") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{path}: is not a dinogui checkpoint")
    if meta.get("version") != VERSION:
        raise CheckpointError(
            f"{path}: checkpoint format version {meta.get('version')} is not supported "
            f"(this dinogui reads version {VERSION})")
    return meta


def load(path: str | os.PathLike) -> Trainer:
    """Rebuild a trainer that continues exactly where the saved one stopped."""
    path = Path(path)
    arrays = _read_arrays(path)
    meta = _meta(arrays, path)
    try:
        return _rebuild(arrays, meta)
    except CheckpointError:
        raise
    except (KeyError, ValueError, TypeError, AttributeError, IndexError) as e:
        raise CheckpointError(f"{path}: is incomplete or damaged ({e})") from None


def _rebuild(arrays: dict[str, np.ndarray], meta: dict) -> Trainer:
    arrays = {current_name(k): v for k, v in arrays.items()}  # files from before the rename
    config = TrainConfig.from_dict(meta["config"])
    vocab = Vocab(tuple(meta["vocab"]))
    names = arrays["names"].tobytes().decode("utf-8").split("\n")
    corpus = Corpus(names, vocab, meta["corpus"]["source"], meta["corpus"]["lowercase"])
    if vocab.missing("".join(names)):  # a subset: a model may go on with other names
        raise CheckpointError("its names do not match its vocabulary")

    params = {k[len("param/"):]: v for k, v in arrays.items() if k.startswith("param/")}
    _check_shapes(params, config, vocab.size)
    optimizer = None
    if config.preset != "classic":
        om = meta["optimizer"]
        slots = {k[len("opt/"):]: v for k, v in arrays.items() if k.startswith("opt/")}
        for name, slot in slots.items():  # "m/Wax": shaped like the parameter Wax
            like = params.get(name.partition("/")[2])
            if like is None or slot.shape != like.shape:
                raise CheckpointError(f"its optimizer state {name} does not fit the parameters")
        optimizer = Optimizer(om["kind"], om["lr"], t=om["t"], state=slots)
    a_prev = arrays.get("state/a_prev")
    if config.preset == "classic" and (a_prev is None or a_prev.shape != (config.hidden, 1)):
        raise CheckpointError("its carried hidden state does not fit the model")
    s = meta["state"]
    state = TrainState(
        iteration=s["iteration"], smooth=s["smooth"], smooth_char=s["smooth_char"],
        total_chars=s["total_chars"], order=arrays["state/order"],
        a_prev=a_prev, rng_state=s["rng_state"], epoch=s["epoch"],
        cursor=s["cursor"], seconds=s["seconds"],
        val_iterations=list(s["val_iterations"]), val_losses=list(s["val_losses"]),
        best_val=s["best_val"], best_iteration=s["best_iteration"])
    history = History.from_arrays({k: arrays[f"hist/{k}"] for k in COLUMNS})
    if len(history) != state.iteration:
        raise CheckpointError("its loss history does not match its iteration count")
    order = state.order
    if (order.ndim != 1 or not len(order) or len(np.unique(order)) != len(order)
            or not 0 <= order.min() <= order.max() < len(names)):
        raise CheckpointError("its example order does not match its names")
    best = {k[len("best/"):]: v for k, v in arrays.items() if k.startswith("best/")} or None
    if best is not None:
        _check_shapes(best, config, vocab.size)
    return Trainer.restore(corpus, config, params, optimizer, state, history, best)


def _check_shapes(params: dict[str, np.ndarray], config: TrainConfig, V: int) -> None:
    H = config.hidden
    if config.preset == "classic":
        expected = {"Wax": (H, V), "Waa": (H, H), "Wya": (V, H), "b": (H, 1), "by": (V, 1)}
    else:
        expected = {k: v.shape for k, v in MODELS[config.cell].create(
            V, H, np.random.default_rng(0), layers=config.layers).params.items()}
    got = {k: v.shape for k, v in params.items()}
    if got != expected:
        layered = config.preset != "classic" and config.layers > 1
        stack = f"{config.layers}-layer " if layered else ""
        raise CheckpointError(
            f"its parameters do not fit a {stack}{config.cell} with {H} hidden units "
            f"and {V} characters")
    for k, v in params.items():
        if not np.isfinite(v).all():
            raise CheckpointError(f"its parameter {k} holds NaN or infinite values")
