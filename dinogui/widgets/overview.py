"""A whole long loss curve in a few thousand points, kept up to date as steps arrive.

pyqtgraph can downsample a curve to the plot's width, but it does so from
every point at every redraw: bounds, clipping and the per-pixel peaks all
cost time in proportion to the iterations, and a redraw holds the lock the
training thread needs. Shown whole (as it is while the plot follows the
training), a curve needs no more than a few points per pixel column, so the
plot hands over this summary instead, and the full points only once the
user zooms in.

The points are cut into buckets of `size` consecutive iterations (a power of
two, doubled whenever there would be more than `cap` buckets); a bucket
keeps its first x, the lowest and highest step loss in it (a vertical stroke,
so the noise band looks as it would drawn point by point) and its first
smoothed loss. Buckets are complete ones only; the last few points are drawn
as they are. Each update costs the new points, not all of them.
"""

from __future__ import annotations

import numpy as np


class CurveOverview:
    def __init__(self, cap: int = 2048) -> None:
        self.cap = cap
        self.clear()

    def clear(self) -> None:
        self.size = 1  # iterations per bucket
        self.x = np.zeros(0)  # (m,) first x of each bucket
        self.low = np.zeros(0)  # (m,) lowest step loss in it
        self.high = np.zeros(0)  # (m,) highest
        self.first = np.zeros(0)  # (m,) its first smoothed loss

    @property
    def buckets(self) -> int:
        return len(self.x)

    def update(self, x: np.ndarray, step: np.ndarray, smooth: np.ndarray) -> None:
        """Take in the points beyond those already summed up (x, step, smooth: all so far,
        the same first points as before; clear() when they change)."""
        n = len(x)
        size = self.size
        while n // size > self.cap:
            size *= 2
        if size != self.size:  # merge groups of buckets: (m,) -> (m // f,)
            f = size // self.size
            keep = self.buckets // f * f  # a last, incomplete group is summed again below
            self.x, self.first = self.x[:keep:f], self.first[:keep:f]
            self.low = self.low[:keep].reshape(-1, f).min(axis=1)
            self.high = self.high[:keep].reshape(-1, f).max(axis=1)
            self.size = size
        start, end = self.buckets * size, n // size * size
        if end > start:
            new = step[start:end].reshape(-1, size)  # (buckets, size)
            self.x = np.concatenate([self.x, x[start:end:size]])
            self.first = np.concatenate([self.first, smooth[start:end:size]])
            self.low = np.concatenate([self.low, new.min(axis=1)])
            self.high = np.concatenate([self.high, new.max(axis=1)])

    def series(self, x: np.ndarray, step: np.ndarray, smooth: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(x, step) as vertical strokes from each bucket's low to its high, then
        (x, smooth) one point a bucket; both end with the points no bucket holds yet, or
        with the last point, so that the curves reach the latest step."""
        self.update(x, step, smooth)
        start = self.buckets * self.size
        if start == len(x) and self.size > 1:  # no points beyond the buckets: end at the last
            start -= 1
        tail = slice(start, len(x))
        stroke_x = np.concatenate([np.repeat(self.x, 2), x[tail]])
        stroke_y = np.concatenate([np.column_stack([self.low, self.high]).ravel(), step[tail]])
        return (stroke_x, stroke_y, np.concatenate([self.x, x[tail]]),
                np.concatenate([self.first, smooth[tail]]))
