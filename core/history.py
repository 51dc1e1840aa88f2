"""Per-step training records, bounded: every step of the recent past, a thinned record of the rest.

Each row is one real step (its iteration, loss, characters, names and smoothed
losses). The last RECENT to RECENT + CHUNK iterations keep every row. Older
iterations are cut into buckets of `bucket` iterations (a power of two, doubled
so that there are at most BUCKETS of them), and a bucket keeps only its first
row and the rows with the lowest and highest step loss per character and per
name: what the loss plot's min/max overview draws, and the smoothed curve the
runs compare. So a checkpoint's history stays under ~1.3 MB however long the run.

The thinning is a function of the iteration count alone, and thinning thinned
rows again gives what thinning the full rows would (first, min and max compose
over buckets; ties go to the earliest row). A run saved, loaded and continued
therefore holds the very same rows as one trained straight through.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

COLUMNS = {
    "iteration": np.int64,  # the step's 0-based iteration
    "loss": np.float64,  # loss summed over the step's names (nats)
    "chars": np.int32,  # predicted characters in the step
    "names": np.int32,  # names in the step
    "smooth": np.float64,  # the seed's smoothed per-name loss after the step
    "smooth_char": np.float64,  # smoothed per-character loss after the step
}
RECENT = 16384  # at least this many latest iterations keep every step
CHUNK = 4096  # older steps are thinned this many at a time
BUCKETS = 2048  # at most this many buckets for all the thinned iterations


def room_for(buf: np.ndarray, filled: int, need: int) -> np.ndarray:
    """`buf` if it holds `need` entries, else a copy of its first `filled` in one that doubles
    (or more) in size: appends to a growable buffer stay O(1) on average."""
    if need <= len(buf):
        return buf
    grown = np.empty(max(need, 2 * len(buf)), dtype=buf.dtype)
    grown[:filled] = buf[:filled]
    return grown


def thinned_below(steps: int) -> int:
    """Iterations [0, this) are thinned once `steps` iterations are recorded."""
    return max(0, (steps - RECENT) // CHUNK * CHUNK)


def bucket_for(thinned: int) -> int:
    """Iterations per bucket: the smallest power of two giving at most BUCKETS buckets."""
    size = 1
    while -(-thinned // size) > BUCKETS:
        size *= 2
    return size


def keep_rows(iteration: np.ndarray, loss: np.ndarray, chars: np.ndarray,
              names: np.ndarray, bucket: int) -> np.ndarray:
    """Sorted indices of the rows a bucketed record keeps: in each bucket the first row and
    the earliest rows with the lowest and highest loss per character and per name."""
    if not len(iteration):
        return np.zeros(0, dtype=np.int64)
    group = iteration // bucket  # (n,) ascending
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])  # (groups,)
    sizes = np.diff(np.r_[starts, len(group)])
    keep = [starts]
    for value in (loss / chars, loss / names):
        for reduce in (np.minimum, np.maximum):
            hits = np.flatnonzero(value == np.repeat(reduce.reduceat(value, starts), sizes))
            keep.append(hits[np.r_[True, group[hits][1:] != group[hits][:-1]]])  # earliest
    return np.unique(np.concatenate(keep))


@dataclass
class History:
    """The rows, in growable buffers so appends stay O(1); see the module docstring."""

    size: int = 0  # rows held
    steps: int = 0  # iterations recorded (the trainer's iteration count)
    data: dict[str, np.ndarray] = field(
        default_factory=lambda: {k: np.empty(1024, dtype=t) for k, t in COLUMNS.items()}
    )

    def append(self, **row: float) -> None:
        """One step's row (all columns but `iteration`, which is the next one)."""
        if self.size == len(self.data["loss"]):
            for k, arr in self.data.items():
                self.data[k] = room_for(arr, self.size, self.size + 1)
        row["iteration"] = self.steps
        for k in COLUMNS:
            self.data[k][self.size] = row[k]
        self.size += 1
        self.steps += 1
        if self.steps % CHUNK == 0 and thinned_below(self.steps):
            self._thin()

    def _thin(self) -> None:
        """Thin every row below thinned_below(steps) to its bucket's kept rows."""
        below = thinned_below(self.steps)
        n_old = int(np.searchsorted(self.column("iteration"), below))
        c = {k: self.column(k)[:n_old] for k in ("iteration", "loss", "chars", "names")}
        kept = keep_rows(c["iteration"], c["loss"], c["chars"], c["names"], bucket_for(below))
        if len(kept) == n_old:
            return
        order = np.r_[kept, np.arange(n_old, self.size)]
        for arr in self.data.values():
            arr[: len(order)] = arr[order]
        self.size = len(order)

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
    def from_arrays(cls, arrays: dict[str, np.ndarray], steps: int | None = None) -> History:
        """Rows as to_arrays() gives them; ValueError unless they are what `steps` recorded
        iterations leave (every recent row, and older rows exactly as thinning keeps them).

        steps defaults to one past the last row's iteration.
        """
        n = len(arrays["loss"])
        if any(len(arrays[k]) != n or arrays[k].ndim != 1 for k in COLUMNS):
            raise ValueError("history columns differ in length")
        it = np.asarray(arrays["iteration"], dtype=np.int64)
        if steps is None:
            steps = int(it[-1]) + 1 if n else 0
        below = thinned_below(steps)
        recent = np.arange(below, steps)
        if n < len(recent) or not np.array_equal(it[n - len(recent):], recent):
            raise ValueError("history does not hold every recent step")
        old = slice(0, n - len(recent))
        if np.any(it[old] < 0) or np.any(np.diff(it[old]) <= 0) or np.any(it[old] >= below):
            raise ValueError("history iterations are out of order")
        losses = [np.asarray(arrays[k], dtype=np.float64) for k in ("loss", "smooth",
                                                                      "smooth_char")]
        if np.any(arrays["chars"] <= 0) or np.any(arrays["names"] <= 0) \
                or not all(np.all(np.isfinite(v) & (v >= 0)) for v in losses):
            raise ValueError("it holds impossible steps (a count below 1, or a loss that is "
                             "negative, NaN or infinite)")
        kept = keep_rows(it[old], np.asarray(arrays["loss"][old], dtype=np.float64),
                         arrays["chars"][old], arrays["names"][old], bucket_for(below))
        if len(kept) != len(it[old]):
            raise ValueError("history holds more old steps than thinning keeps")
        cap = max(1024, 1 << int(np.ceil(np.log2(max(n, 1)))))
        h = cls(size=n, steps=steps)
        for k, t in COLUMNS.items():
            buf = np.empty(cap, dtype=t)
            buf[:n] = arrays[k]
            h.data[k] = buf
        return h

    @classmethod
    def from_every_step(cls, arrays: dict[str, np.ndarray]) -> History:
        """A history from one row per iteration (without `iteration`: the row's index),
        thinned as if recorded step by step (checkpoints of version 1 held every step)."""
        n = len(arrays["loss"])
        if any(k not in arrays or len(arrays[k]) != n for k in COLUMNS if k != "iteration"):
            raise ValueError("history columns differ in length")
        full = {**arrays, "iteration": np.arange(n, dtype=np.int64)}
        below = thinned_below(n)
        kept = np.r_[keep_rows(full["iteration"][:below], full["loss"][:below],
                               full["chars"][:below], full["names"][:below],
                               bucket_for(below)), np.arange(below, n)]
        return cls.from_arrays({k: np.asarray(full[k])[kept] for k in COLUMNS}, steps=n)

    def copy(self) -> History:
        return History(self.size, self.steps, {k: v.copy() for k, v in self.data.items()})
