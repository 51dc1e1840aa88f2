"""The fast training paths end to end (the math is in tests/test_models.py; never the clock).

- default: reused work arrays, the vectorised padding against a plain loop,
  replaced parameter arrays, and length bucketing through checkpoints;
- BLAS threads limited during training and restored after; the benchmark's table.
"""

import numpy as np
import pytest

from dinogui.cli import main
from dinogui.core import checkpoint
from dinogui.core.batching import EncodedNames, bucketed_order, padding_fraction
from dinogui.core.config import TrainConfig
from dinogui.core.corpus import corpus_from_names, load_corpus
from dinogui.core.models import RNN
from dinogui.core.threads import TRAINING_THREADS, blas_threads, training_threads
from dinogui.core.trainer import Trainer

SYLLABLES = ["ka", "ro", "sau", "rus", "ti", "no", "don", "pte", "ryx", "a", "lo", "mi", "x"]


def made_up_names(n: int, seed: int = 0) -> list[str]:
    """Names of 1 to 8 syllables: lengths vary, so batches need padding."""
    rng = np.random.default_rng(seed)
    return ["".join(rng.choice(SYLLABLES, rng.integers(1, 9))) for _ in range(n)]


@pytest.fixture
def varied_corpus(tmp_path):
    path = tmp_path / "varied.txt"
    path.write_text("\n".join(made_up_names(90)) + "\n", encoding="utf-8")
    return path


# -- default ---------------------------------------------------------------------------------
def test_batched_model_reuses_its_buffers_and_returns_fresh_gradients(varied_corpus):
    corpus = load_corpus(varied_corpus)
    names = EncodedNames.encode(corpus.vocab, corpus.names)
    model = RNN.create(corpus.vocab.size, 8, np.random.default_rng(0), np.float64)
    a = names.pad_batch(np.arange(0, 10), np.float64)
    b = names.pad_batch(np.arange(10, 30), np.float64)
    loss_a, grads_a = model.loss_and_grads(*a)
    size = model.scratch.nbytes
    kept = {k: v.copy() for k, v in grads_a.items()}
    model.loss_and_grads(*b)  # a larger batch grows the buffers once
    for _ in range(3):
        again, grads_again = model.loss_and_grads(*a)
    assert model.scratch.nbytes >= size
    assert again == loss_a  # leftovers in the buffers never leak into a result
    for k in kept:
        assert np.array_equal(grads_a[k], kept[k]), k  # earlier gradients left alone
        assert np.array_equal(grads_again[k], kept[k]), k


def test_vectorised_padding_equals_a_plain_loop(varied_corpus):
    corpus = load_corpus(varied_corpus)
    names = EncodedNames.encode(corpus.vocab, corpus.names)
    for i, n in enumerate(corpus.names):
        assert names[i].tolist() == corpus.vocab.encode(n)
        assert names.targets(i).tolist() == [*corpus.vocab.encode(n), 0]
    rows = np.random.default_rng(1).permutation(len(names))[:17]
    X, Y, mask = names.pad_batch(rows, np.float32)
    seqs = [corpus.vocab.encode(corpus.names[r]) for r in rows]
    T = max(map(len, seqs)) + 1
    Xp, Yp, mp = np.zeros((T, 17), int), np.zeros((T, 17), int), np.zeros((T, 17), np.float32)
    Xp[0] = -1
    for b, s in enumerate(seqs):
        Xp[1 : len(s) + 1, b], Yp[: len(s), b], mp[: len(s) + 1, b] = s, s, 1
    assert np.array_equal(X, Xp) and np.array_equal(Y, Yp) and np.array_equal(mask, mp)
    assert mask.dtype == np.float32


def test_encoding_refuses_unknown_characters():
    corpus = corpus_from_names(["abc", "cab"])
    with pytest.raises(ValueError, match="'z'"):
        EncodedNames.encode(corpus.vocab, ["abz"])


@pytest.mark.parametrize("preset", ["classic", "default"])
def test_a_replaced_parameter_array_is_trained_not_the_stale_copy(varied_corpus, preset):
    trainer = Trainer(load_corpus(varied_corpus), TrainConfig(preset=preset, batch_size=8))
    trainer.run(2)
    name = "Waa" if preset == "classic" else "W_h"
    fresh = trainer.params[name] * 0.5
    trainer.params[name] = fresh  # e.g. a caller loading weights
    trainer.run(1)
    assert not np.array_equal(trainer.params[name], fresh)  # trained...
    assert np.abs(trainer.params[name] - fresh).max() < 0.1  # ...from the new values
    if preset == "default":
        assert trainer.model.params[name] is trainer.params[name]  # and the model sees it


# -- bucketing --------------------------------------------------------------------------
def test_bucketed_order_is_a_shuffled_permutation_with_less_padding():
    lengths = np.random.default_rng(0).integers(2, 25, 1000)
    rows = np.arange(1000)
    orders = [bucketed_order(rows, lengths, 32, np.random.default_rng(s)) for s in (0, 0, 1)]
    assert np.array_equal(orders[0], orders[1])  # from the generator alone
    assert not np.array_equal(orders[0], orders[2])
    for order in orders:
        assert sorted(order.tolist()) == rows.tolist()
    plain = padding_fraction(np.random.default_rng(0).permutation(rows), lengths, 32)
    assert padding_fraction(orders[0], lengths, 32) < plain / 3
    # the batch order is shuffled, not sorted by length
    batch_max = [lengths[orders[0][i : i + 32]].max() for i in range(0, 992, 32)]
    assert batch_max != sorted(batch_max)
    # a held-out subset keeps to its rows; batch size 1 is a plain shuffle
    assert set(bucketed_order(rows[::3], lengths, 32, np.random.default_rng(0))) == \
        set(rows[::3].tolist())
    assert np.array_equal(bucketed_order(rows, lengths, 1, np.random.default_rng(5)),
                          np.random.default_rng(5).permutation(rows))


def test_default_preset_trains_on_bucketed_batches(varied_corpus):
    trainer = Trainer(load_corpus(varied_corpus), TrainConfig(preset="default", batch_size=8))
    lengths = trainer._encoded.lengths
    bucketed = padding_fraction(trainer.state.order, lengths, 8)
    plain = padding_fraction(np.random.default_rng(0).permutation(len(lengths)), lengths, 8)
    assert bucketed < plain
    seen = []
    for _ in range(2 * len(lengths) // 8 + 4):  # into the third epoch
        seen.append(trainer.state.order[trainer.state.cursor : trainer.state.cursor + 8].copy())
        trainer.step()
    assert trainer.state.epoch == 2
    first_epoch = np.concatenate(seen[: -(-len(lengths) // 8)])
    assert sorted(first_epoch.tolist()) == list(range(len(lengths)))  # every name once


@pytest.mark.parametrize("stop", [5, 12, 23])  # mid-epoch, at an epoch's end, in the next one
def test_bucketing_resumes_exactly_through_checkpoints(varied_corpus, tmp_path, stop):
    cfg = TrainConfig(preset="default", batch_size=8, sample_every=7, samples=3, seed=2)
    corpus = load_corpus(varied_corpus)  # 90 names: 11 full batches and one of 2
    straight = Trainer(corpus, cfg)
    straight_reports = straight.run(30)

    first = Trainer(corpus, cfg)
    reports = first.run(stop)
    checkpoint.save(first, tmp_path / "c.npz")
    resumed = checkpoint.load(tmp_path / "c.npz")
    reports += resumed.run(30 - stop)

    assert resumed.state.epoch == straight.state.epoch
    assert np.array_equal(resumed.state.order, straight.state.order)
    for k in straight.params:
        assert np.array_equal(straight.params[k], resumed.params[k]), k
    assert np.array_equal(straight.history.column("loss"), resumed.history.column("loss"))
    assert [(r.iteration, r.samples) for r in straight_reports] == \
        [(r.iteration, r.samples) for r in reports]
    for k in straight.optimizer.state:
        assert np.array_equal(straight.optimizer.state[k], resumed.optimizer.state[k]), k


# -- threads ----------------------------------------------------------------------------
def test_training_limits_blas_threads_and_restores_them(tiny_corpus):
    before = blas_threads()
    if not before:
        pytest.skip("no BLAS library that threadpoolctl can control")
    seen = []
    trainer = Trainer(load_corpus(tiny_corpus), TrainConfig(preset="default", batch_size=3))
    trainer.run(2, on_step=lambda r: seen.append(blas_threads()))
    assert seen == [[TRAINING_THREADS] * len(before)] * 2
    assert blas_threads() == before
    with training_threads():
        with training_threads():
            trainer.step()
        assert blas_threads() == [TRAINING_THREADS] * len(before)  # still inside the outer one
    assert blas_threads() == before
    with pytest.raises(RuntimeError):
        with training_threads():
            raise RuntimeError("a failing step")
    assert blas_threads() == before


# -- the benchmark ----------------------------------------------------------------------
def test_bench_prints_its_table(capsys, varied_corpus):
    code = main(["bench", "--corpus", str(varied_corpus), "--seconds", "0.2",
                 "--sections", "speed", "--no-torch", "--seeds", "2"])
    out = capsys.readouterr().out
    assert code == 0
    assert "| seed (plain reference) |" in out and "| classic preset |" in out
    assert "| default preset |" in out and "PyTorch skipped" in out
    assert "mean over 2 seeds: default preset" in out
    assert "Report sampling" in out


def test_bench_refuses_unknown_sections(capsys, varied_corpus):
    assert main(["bench", "--corpus", str(varied_corpus), "--sections", "speed,nope"]) == 2
    assert "nope" in capsys.readouterr().err


def test_memory_probe_reports_peak_rss(capsys, varied_corpus):
    from dinogui.bench.speed import memory_probe, synthetic_corpus

    big = synthetic_corpus(load_corpus(varied_corpus), 500, varied_corpus.parent / "big.txt")
    assert len(load_corpus(big).names) == 500
    memory_probe("default", str(big), 0.05)
    assert '"peak_mb"' in capsys.readouterr().out


def test_bench_window_section_compares_the_window_with_headless(capsys, qapp, varied_corpus):
    code = main(["bench", "--corpus", str(varied_corpus), "--quick", "--sections", "window"])
    out = capsys.readouterr().out
    assert code == 0
    rows = [line.split() for line in out.splitlines() if line.startswith(("classic", "default"))]
    assert [r[0] for r in rows] == ["classic", "default"]
    for r in rows:  # iterations, headless chars/s, window chars/s, ratio, on CPU, ...
        headless, window = (float(v.replace(",", "")) for v in r[2:4])
        assert headless > 0 and window > 0
        assert r[4].endswith("%")
        on_cpu = [float(v.rstrip("%")) for v in r[5].split("/")]  # headless/window
        assert len(on_cpu) == 2 and all(0 < v <= 101 for v in on_cpu)
