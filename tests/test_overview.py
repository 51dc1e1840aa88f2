"""The loss plot's overview of a long curve, checked against a plain computation from all points."""

import numpy as np
import pytest

from dinogui.widgets.overview import CurveOverview


def plain_overview(x, step, smooth, cap):
    """Buckets of the smallest power-of-two size that makes at most `cap` of them."""
    n, size = len(x), 1
    while n // size > cap:
        size *= 2
    end = n // size * size
    buckets = step[:end].reshape(-1, size)
    return size, x[:end:size], buckets.min(axis=1), buckets.max(axis=1), smooth[:end:size]


@pytest.mark.parametrize("n", [0, 1, 7, 64, 65, 1000, 4096, 4099, 50_000])
def test_the_overview_grown_in_batches_equals_one_made_from_all_points(n):
    rng = np.random.default_rng(n)
    x = np.arange(n, dtype=float)
    step = 20 + rng.gamma(2.0, 2.0, n)
    smooth = np.cumsum(step) / np.arange(1, n + 1)
    overview = CurveOverview(cap=64)
    seen = 0
    while seen < n:  # as training hands them over: batches of any size
        seen = min(n, seen + int(rng.integers(1, 3000)))
        overview.update(x[:seen], step[:seen], smooth[:seen])
    overview.update(x, step, smooth)
    size, bx, low, high, first = plain_overview(x, step, smooth, 64)
    assert overview.size == size and overview.buckets <= 64
    np.testing.assert_array_equal(overview.x, bx)
    np.testing.assert_array_equal(overview.low, low)
    np.testing.assert_array_equal(overview.high, high)
    np.testing.assert_array_equal(overview.first, first)

    sx, sy, mx, my = overview.series(x, step, smooth)
    if n:  # every peak of the noisy step loss is drawn, and the curves reach the last point
        assert sy.min() == step.min() and sy.max() == step.max()
        assert sx[-1] == mx[-1] == x[-1] and my[-1] == smooth[-1]
    assert len(sx) <= 2 * 64 + size + 1 and len(mx) <= 64 + size + 1
    assert np.all(np.diff(sx) >= 0) and np.all(np.diff(mx) > 0)


def test_clear_starts_a_new_curve():
    overview = CurveOverview(cap=8)
    x = np.arange(100.0)
    overview.update(x, x, x)
    assert overview.size == 16
    overview.clear()
    y = -x[:10]
    overview.update(x[:10], y, y)
    assert overview.size == 2 and list(overview.low) == [-1, -3, -5, -7, -9]


@pytest.mark.parametrize("seed", range(6))
def test_buckets_go_by_iteration_so_a_thinned_history_is_drawn_evenly(seed):
    """Older steps thinned (core/history.py): buckets span iterations, not points."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(50, 30_000))
    kept = np.sort(rng.choice(n, size=int(rng.integers(1, n)), replace=False))
    x = np.r_[kept[kept < n // 2], np.arange(n // 2, n)].astype(float)  # sparse, then all
    step, smooth = 20 + rng.gamma(2.0, 2.0, len(x)), rng.random(len(x))
    overview = CurveOverview(cap=64)
    seen = 0
    while seen < len(x):
        seen = min(len(x), seen + int(rng.integers(1, 2000)))
        overview.update(x[:seen], step[:seen], smooth[:seen])
    span, size = int(x[-1]) + 1, 1
    while span // size > 64:
        size *= 2
    done = x < span // size * size
    key = (x[done] // size).astype(int)
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    assert overview.size == size
    np.testing.assert_array_equal(overview.x, x[done][starts])
    np.testing.assert_array_equal(overview.low, np.minimum.reduceat(step[done], starts))
    np.testing.assert_array_equal(overview.high, np.maximum.reduceat(step[done], starts))
    np.testing.assert_array_equal(overview.first, smooth[done][starts])
