"""A whole long loss curve in a few thousand points, kept up to date as steps arrive.

pyqtgraph can downsample a curve to the plot's width, but it does so from
every point at every redraw: bounds, clipping and the per-pixel peaks all
cost time in proportion to the iterations, and a redraw holds the lock the
training thread needs. Shown whole (as it is while the plot follows the
training), a curve needs no more than a few points per pixel column, so the
plot hands over this summary instead, and the full points only once the
user zooms in.

The iterations are cut into buckets of `size` (a power of two, doubled
whenever there would be more than `cap` buckets); a bucket keeps its first x,
the lowest and highest step loss in it (a vertical stroke, so the noise band
looks as it would drawn point by point) and its first smoothed loss. Buckets go
by iteration, not by point, so a loaded history that keeps every recent step
but only a thinned selection of older ones (core/history.py) is drawn with the
same density throughout. Buckets are complete ones only; the last few points are
drawn as they are. Each update costs the new points, not all of them.
"""

from __future__ import annotations

import numpy as np


class CurveOverview:
    def __init__(self, cap: int = 2048) -> None:
        self.cap = cap
        self.clear()

    def clear(self) -> None:
        self.size = 1  # iterations per bucket
        self.key = np.zeros(0, dtype=np.int64)  # (m,) each bucket's number: x // size
        self.start = np.zeros(0, dtype=np.int64)  # (m,) index of its first point
        self.x = np.zeros(0)  # (m,) first x of each bucket
        self.low = np.zeros(0)  # (m,) lowest step loss in it
        self.high = np.zeros(0)  # (m,) highest
        self.first = np.zeros(0)  # (m,) its first smoothed loss
        self.summed = 0  # points the complete buckets hold

    @property
    def buckets(self) -> int:
        return len(self.x)

    def update(self, x: np.ndarray, step: np.ndarray, smooth: np.ndarray) -> None:
        """Take in the points beyond those already summed up (x, step, smooth: all so far,
        the same first points as before, x increasing; clear() when they change)."""
        n = len(x)
        if not n:
            return
        span = int(x[-1]) + 1  # iterations 0 .. x[-1]
        size = self.size
        while span // size > self.cap:
            size *= 2
        if size != self.size:  # merge groups of buckets: (m,) -> (fewer,)
            key = self.key // (size // self.size)
            groups = _starts(key)
            # the last group may lack points no old bucket held yet: its points are summed
            # again below, with the new ones
            keep = int(groups[-1]) if len(groups) else 0
            if keep < self.buckets:
                self.summed = int(self.start[keep])
            groups = groups[:-1]
            if keep:
                self.low = np.minimum.reduceat(self.low[:keep], groups)
                self.high = np.maximum.reduceat(self.high[:keep], groups)
            else:
                self.low, self.high = self.low[:0], self.high[:0]
            self.key, self.start = key[:keep][groups], self.start[:keep][groups]
            self.x, self.first = self.x[:keep][groups], self.first[:keep][groups]
            self.size = size
        # the points of complete buckets not yet summed: those before the last bucket's
        end = int(np.searchsorted(x, span // size * size))
        if end > self.summed:
            s = slice(self.summed, end)
            key = (np.asarray(x[s]) // size).astype(np.int64)
            groups = _starts(key)
            self.key = np.concatenate([self.key, key[groups]])
            self.start = np.concatenate([self.start, self.summed + groups])
            self.x = np.concatenate([self.x, x[s][groups]])
            self.first = np.concatenate([self.first, smooth[s][groups]])
            self.low = np.concatenate([self.low, np.minimum.reduceat(step[s], groups)])
            self.high = np.concatenate([self.high, np.maximum.reduceat(step[s], groups)])
            self.summed = end

    def series(self, x: np.ndarray, step: np.ndarray, smooth: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(x, step) as vertical strokes from each bucket's low to its high, then
        (x, smooth) one point a bucket; both end with the points no bucket holds yet, or
        with the last point, so that the curves reach the latest step."""
        self.update(x, step, smooth)
        start = self.summed
        if start == len(x) and self.size > 1 and start:  # nothing beyond: end at the last
            start -= 1
        tail = slice(start, len(x))
        stroke_x = np.concatenate([np.repeat(self.x, 2), x[tail]])
        stroke_y = np.concatenate([np.column_stack([self.low, self.high]).ravel(), step[tail]])
        return (stroke_x, stroke_y, np.concatenate([self.x, x[tail]]),
                np.concatenate([self.first, smooth[tail]]))


def _starts(key: np.ndarray) -> np.ndarray:
    """Indices where a sorted array of bucket numbers changes: each group's first."""
    return np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else key[:0]
