"""Per-step training records in growable NumPy buffers."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

COLUMNS = {
    "loss": np.float64,  # loss summed over the step's names (nats)
    "chars": np.int32,  # predicted characters in the step
    "names": np.int32,  # names in the step
    "smooth": np.float64,  # the seed's smoothed per-name loss after the step
    "smooth_char": np.float64,  # smoothed per-character loss after the step
}


def room_for(buf: np.ndarray, filled: int, need: int) -> np.ndarray:
    """`buf` if it holds `need` entries, else a copy of its first `filled` in one that doubles
    (or more) in size: appends to a growable buffer stay O(1) on average."""
    if need <= len(buf):
        return buf
    grown = np.empty(max(need, 2 * len(buf)), dtype=buf.dtype)
    grown[:filled] = buf[:filled]
    return grown


@dataclass
class History:
    """One row per iteration; buffers double in size so appends stay O(1)."""

    size: int = 0
    data: dict[str, np.ndarray] = field(
        default_factory=lambda: {k: np.empty(1024, dtype=t) for k, t in COLUMNS.items()}
    )

    def append(self, **row: float) -> None:
        if self.size == len(self.data["loss"]):
            for k, arr in self.data.items():
                self.data[k] = room_for(arr, self.size, self.size + 1)
        for k in COLUMNS:
            self.data[k][self.size] = row[k]
        self.size += 1

    def __len__(self) -> int:
        return self.size

    def column(self, name: str) -> np.ndarray:
        """A view of the filled part of one column."""
        return self.data[name][: self.size]

    def per_char(self) -> np.ndarray:
        return self.column("loss") / self.column("chars")

    def per_name(self) -> np.ndarray:
        return self.column("loss") / self.column("names")

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {k: self.column(k).copy() for k in COLUMNS}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> History:
        n = len(arrays["loss"])
        if any(len(arrays[k]) != n for k in COLUMNS):
            raise ValueError("history columns differ in length")
        cap = max(1024, 1 << int(np.ceil(np.log2(max(n, 1)))))
        h = cls()
        for k, t in COLUMNS.items():
            buf = np.empty(cap, dtype=t)
            buf[:n] = arrays[k]
            h.data[k] = buf
        h.size = n
        return h
