"""Reading and writing checkpoint files by hand, to craft damaged ones in tests."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from safetensors import safe_open
from safetensors.numpy import save


def read(path: Path) -> tuple[dict, dict[str, np.ndarray]]:
    """(the dinogui metadata, the arrays) of a safetensors checkpoint, read by the library."""
    with safe_open(str(path), framework="numpy") as f:
        meta = json.loads(f.metadata()["dinogui"])
        return meta, {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (not a dict)


def write(path: Path, meta: dict | str, arrays: dict[str, np.ndarray], **header: str) -> Path:
    """meta: the metadata, or its JSON text as it is (to write what json.dumps cannot)."""
    header = {"format": "dinogui-checkpoint", "version": "2", **header,
              "dinogui": meta if isinstance(meta, str) else json.dumps(meta)}
    path.write_bytes(save({k: np.ascontiguousarray(v) for k, v in arrays.items()}, header))
    return path


def read_npz(path: Path) -> tuple[dict, dict[str, np.ndarray]]:
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    return json.loads(arrays.pop("meta").tobytes()), arrays


def write_npz(path: Path, meta: dict | str, arrays: dict[str, np.ndarray]) -> Path:
    text = meta if isinstance(meta, str) else json.dumps(meta)
    np.savez(path, meta=np.frombuffer(text.encode(), dtype=np.uint8), **arrays)
    return path


def rewrite(path: Path, out: Path, edit_meta=None, edit_arrays=None) -> Path:
    """A copy of a checkpoint (either format, kept) with its metadata or arrays edited."""
    legacy = path.read_bytes()[:2] == b"PK"
    meta, arrays = (read_npz if legacy else read)(path)
    if edit_meta:
        edit_meta(meta)
    if edit_arrays:
        edit_arrays(arrays)
    return (write_npz if legacy else write)(out, meta, arrays)


def as_version_1(meta: dict, arrays: dict[str, np.ndarray]) -> tuple[dict, dict]:
    """A version 2 checkpoint's contents laid out as version 1 had them (for write_npz)."""
    meta = {**meta, "format": "dinogui-checkpoint", "version": 1,
            "state": dict(meta["state"])}
    arrays = dict(arrays)
    for name in ("val_iterations", "val_losses"):
        meta["state"][name] = arrays.pop(f"state/{name}").tolist()
    arrays.pop("hist/iteration")  # version 1 kept every step
    return meta, arrays


def split_safetensors(raw: bytes) -> tuple[dict, bytes]:
    """(the header as a dict, the data bytes) of a safetensors file's bytes."""
    n = int.from_bytes(raw[:8], "little")
    return json.loads(raw[8 : 8 + n]), raw[8 + n :]


def join_safetensors(header: dict | str, data: bytes) -> bytes:
    """A safetensors file's bytes from a header (a dict, or JSON text as it is) and data."""
    text = (header if isinstance(header, str) else json.dumps(header)).encode("utf-8",
                                                                          "surrogatepass")
    return len(text).to_bytes(8, "little") + text + data
