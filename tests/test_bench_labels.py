"""bench.labels: the joint labelled model and each kind's own model, on the same held-out names."""

import argparse

import numpy as np

from dinogui.bench import labels as bench_labels


def test_both_sides_are_measured_on_the_same_held_out_names(capsys):
    rng = np.random.default_rng(0)
    data = [(k, ["".join(rng.choice(list(letters), rng.integers(3, 6))) for _ in range(40)])
            for k, letters in (("ab", "abcd"), ("xy", "wxyz"))]
    args = argparse.Namespace(cell="gru", hidden=8, dropout=0.0, seed=0, seconds=0.3,
                              patience=3)
    rows = bench_labels.measure(args, data)
    assert [r["kind"] for r in rows] == ["ab", "xy"]
    for r in rows:
        assert r["train"] + r["held"] + r["unseen"] == 40 and r["held"] == 4
        assert np.isfinite(r["own"]) and np.isfinite(r["joint"]) and r["joint_its"] > 0
    table = bench_labels.table(rows)
    assert table.splitlines()[2].split()[0] == "ab" and len(table.splitlines()) == 4
