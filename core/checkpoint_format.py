"""The containers a checkpoint is stored in: safetensors (written and read) and, read only,
the .npz archives of earlier versions (core/legacy_npz.py).

safetensors (https://github.com/huggingface/safetensors): an 8-byte little-endian
header length, a JSON header naming each array's dtype, shape and byte range,
then the raw bytes. It holds no code and nothing compressed, and other tools
(Netron, the Hugging Face libraries) open it. Files are written by the
`safetensors` package, the format's reference implementation. They are read
here, not by the package, because loading a stranger's file needs more than it
checks: a bounded header, JSON of bounded depth without duplicate keys, only the
dtypes a checkpoint holds, byte ranges that tile the data exactly, and every
array's dtype and shape known (and judged by the caller) before any of its bytes
are read. Every fault is a Damaged error with a reason, never a library traceback.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .corpus import quote

SAFETENSORS_DTYPES = {"F64": "<f8", "F32": "<f4", "I64": "<i8", "I32": "<i4", "U8": "u1"}
SAFETENSORS_NAMES = {np.dtype(v): k for k, v in SAFETENSORS_DTYPES.items()}
MAX_HEADER = 100 * 2**20  # the reference implementation's limit too
MAX_DIMS = 8


class Damaged(ValueError):
    """The file's structure is broken (a reason, without the path)."""


@dataclass(frozen=True)
class Entry:
    """One array as the file declares it, before any of its bytes are read."""

    dtype: np.dtype
    shape: tuple[int, ...]

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * self.dtype.itemsize


def strict_json(text: str | bytes, what: str):
    """JSON without duplicate keys or NaN (infinities are kept: a diverged held-out loss is
    one); Damaged otherwise, and when nested too deeply."""

    def pairs(items):
        d = {}
        for k, v in items:
            if k in d:
                raise Damaged(f"{what} has the key '{quote(k, 80)}' twice")
            d[k] = v
        return d

    def constant(name):
        if name == "NaN":
            raise Damaged(f"{what} holds NaN")
        return float(name)

    try:
        return json.loads(text, object_pairs_hook=pairs, parse_constant=constant)
    except RecursionError:
        raise Damaged(f"{what} is nested too deeply") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise Damaged(f"{what} is not valid JSON ({e})") from None
    except ValueError as e:  # e.g. an integer of more than 4300 digits
        raise Damaged(f"{what}: {e}") from None


def to_safetensors(tensors: dict[str, np.ndarray], metadata: dict[str, str]) -> bytes:
    """The file's bytes (arrays in their dtype, little-endian; metadata strings in the header)."""
    from safetensors.numpy import save  # imported when saving only: reading does not need it

    return save({k: np.ascontiguousarray(v) for k, v in tensors.items()}, metadata=metadata)


class SafetensorsFile:
    """A safetensors file opened for reading: `metadata`, `entries`, then read() what is wanted.

    Use as a context manager (it keeps the file open between reads).
    """

    MAGIC_HINT = b"{"  # the header's first byte, after the 8-byte length

    def __init__(self, path: Path) -> None:
        self._f = open(path, "rb")  # noqa: SIM115 (closed by __exit__ / close)
        try:
            self._parse(os.fstat(self._f.fileno()).st_size)
        except BaseException:
            self._f.close()
            raise

    def __enter__(self) -> SafetensorsFile:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._f.close()

    def _parse(self, size: int) -> None:
        head = self._f.read(8)
        if len(head) < 8:
            raise Damaged("it ends inside its header")
        n = int.from_bytes(head, "little")
        if not 2 <= n <= MAX_HEADER or 8 + n > size:
            raise Damaged(f"its header length ({n:,} bytes) does not fit the file")
        header = strict_json(self._f.read(n), "its header")
        if not isinstance(header, dict):
            raise Damaged("its header is not a JSON object")
        meta = header.pop("__metadata__", {})
        if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
            raise Damaged("its header's __metadata__ is not a map of strings")
        self.metadata: dict[str, str] = meta
        self.entries: dict[str, Entry] = {}
        self._offsets: dict[str, int] = {}
        self._start = 8 + n
        spans = []
        for name, info in header.items():
            entry, (begin, end) = _entry(name, info)
            if end - begin != entry.nbytes:
                raise Damaged(f"the byte range of '{quote(name, 80)}' does not match its dtype "
                              "and shape")
            self.entries[name] = entry
            self._offsets[name] = begin
            spans.append((begin, end))
        position = 0  # the ranges must tile the data: no gaps, no overlaps, nothing after
        for begin, end in sorted(spans):
            if begin != position:
                raise Damaged("its arrays' byte ranges overlap or leave gaps")
            position = end
        if self._start + position != size:
            raise Damaged(f"it is {size:,} bytes long, its header describes "
                          f"{self._start + position:,}")

    def read(self, name: str) -> np.ndarray:
        """The array's values, in a fresh writable native-order array."""
        entry = self.entries[name]
        out = np.empty(entry.shape, dtype=entry.dtype)
        self._f.seek(self._start + self._offsets[name])
        if self._f.readinto(memoryview(out).cast("B")) != entry.nbytes:
            raise Damaged(f"it ends inside the array '{quote(name, 80)}'")
        return out.astype(entry.dtype.newbyteorder("="), copy=False)


def _entry(name: str, info) -> tuple[Entry, tuple[int, int]]:
    if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
        raise Damaged(f"its header entry '{quote(name, 80)}' is not an array's")
    dtype, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
    if dtype not in SAFETENSORS_DTYPES:
        raise Damaged(f"the array '{quote(name, 80)}' has the dtype '{quote(dtype, 20)}', which a "
                      "dinogui checkpoint never holds")
    if not (isinstance(shape, list) and len(shape) <= MAX_DIMS and all(_count(d) for d in shape)):
        raise Damaged(f"the array '{quote(name, 80)}' has a malformed shape")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(_count(o) for o in offsets)
            and offsets[0] <= offsets[1]):
        raise Damaged(f"the array '{quote(name, 80)}' has a malformed byte range")
    entry = Entry(np.dtype(SAFETENSORS_DTYPES[dtype]), tuple(shape))
    return entry, (offsets[0], offsets[1])


def _count(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool) and 0 <= x < 2**62
