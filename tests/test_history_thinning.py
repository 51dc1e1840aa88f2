"""History thinning keeps, in every bucket of old steps, the rows with the highest and
lowest loss (per character and per name): the loss plot's min/max band. Pinned against a
plain loop over the full record."""

from __future__ import annotations

import numpy as np

from dinogui.core.history import History, bucket_for, thinned_below


def test_each_bucket_keeps_its_first_highest_and_lowest_rows():
    rng = np.random.default_rng(7)
    n = 60_000  # thinned twice over, with buckets of more than one step
    loss = rng.gamma(2.0, 10.0, n)
    loss[rng.integers(0, n, 50)] = rng.choice([0.0, 1e6], 50)  # spikes and zeros
    loss[1000:1010] = loss[1000]  # ties: the earliest is kept
    chars = rng.integers(1, 300, n).astype(np.int32)
    names = rng.integers(1, 40, n).astype(np.int32)
    h = History()
    for i in range(n):
        h.append(loss=loss[i], chars=chars[i], names=names[i], smooth=1.0, smooth_char=1.0)
    below, bucket = thinned_below(n), bucket_for(thinned_below(n))
    assert below > 0 and bucket > 1
    it = h.column("iteration")
    old = it < below
    np.testing.assert_array_equal(it[~old], np.arange(below, n))  # recent: every step
    assert np.array_equal(h.column("loss"), loss[it])  # kept rows are real rows, unchanged
    kept = set(it[old].tolist())
    expected = set()
    for start in range(0, below, bucket):  # the plain reference, one bucket at a time
        rows = np.arange(start, min(start + bucket, below))
        expected.add(int(rows[0]))
        for per in (loss[rows] / chars[rows], loss[rows] / names[rows]):
            expected.add(int(rows[np.argmin(per)]))  # argmin/argmax: the earliest of ties
            expected.add(int(rows[np.argmax(per)]))
    assert kept == expected
    # so the band drawn from the kept rows is the band of every step
    per_char = h.per_char()[old]
    buckets = it[old] // bucket
    for b in np.unique(buckets)[:: max(1, len(np.unique(buckets)) // 50)]:
        full = loss[b * bucket : (b + 1) * bucket] / chars[b * bucket : (b + 1) * bucket]
        mine = per_char[buckets == b]
        assert (mine.min(), mine.max()) == (full.min(), full.max())


def test_a_flat_loss_keeps_only_each_buckets_first_row():
    h = History()
    n = 40_000
    for _ in range(n):
        h.append(loss=20.0, chars=10, names=2, smooth=1.0, smooth_char=1.0)
    below, bucket = thinned_below(n), bucket_for(thinned_below(n))
    it = h.column("iteration")
    np.testing.assert_array_equal(it[it < below], np.arange(0, below, bucket))
