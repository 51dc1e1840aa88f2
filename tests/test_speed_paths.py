"""The fast training paths against plain references (never against the clock).

- classic: the packed kernel against tests/reference_seed.py, step by step and
  at the seed's reports (iterations 0, 2000, 4000 on dinos.txt);
- default: batched float64 gradients against the seed's per-name math, the
  vectorised padding against a plain loop, the flat optimizer against the
  per-parameter one, and length bucketing through checkpoints;
- BLAS threads limited during training and restored after;
- the benchmark's own copy of the seed's step against the tests' one.
"""

import numpy as np
import pytest

from dinogui.bench import reference as bench_reference
from dinogui.cli import main
from dinogui.core import checkpoint, rnn
from dinogui.core.batching import EncodedNames, bucketed_order, padding_fraction
from dinogui.core.corpus import corpus_from_names, load_corpus
from dinogui.core.models import VanillaRNN
from dinogui.core.optim import Optimizer
from dinogui.core.packing import ParamPack
from dinogui.core.threads import TRAINING_THREADS, blas_threads, training_threads
from dinogui.core.trainer import TrainConfig, Trainer
from dinogui.bench import reference as ref
from tests.conftest import shared_file

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


# -- classic ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def classic_and_seed_on_dinos():
    """One run of each, 4001 iterations, shared by the tests below (~4 s)."""
    path = shared_file("dinos.txt")
    data = path.read_text(encoding="utf-8").lower()
    examples = [x.lower().strip() for x in path.read_text(encoding="utf-8").splitlines()]
    _, reports, losses = ref.model(data, examples, 4001, report_every=2000)
    trainer = Trainer(load_corpus(path), TrainConfig(sample_every=2000))
    ours = trainer.run(4001)
    return trainer, reports, np.array(losses), ours


def test_classic_reports_at_0_2000_4000_equal_the_seed(classic_and_seed_on_dinos):
    _, reports, _, ours = classic_and_seed_on_dinos
    assert [r.iteration for r in ours] == [j for j, _, _ in reports] == [0, 2000, 4000]
    for r, (_, smooth, names) in zip(ours, reports, strict=True):
        assert abs(r.smooth - smooth) < 1e-6
        assert r.samples == names  # the seed's sampling, draw for draw
    assert round(ours[0].smooth, 6) == 23.087336
    assert round(ours[1].smooth, 6) == 27.884160


def test_classic_losses_track_the_seed_step_by_step(classic_and_seed_on_dinos):
    trainer, _, losses, _ = classic_and_seed_on_dinos
    ours = trainer.history.column("loss")
    # the same math in another summation order: equal to rounding for thousands of steps
    np.testing.assert_allclose(ours[:2000], losses[:2000], rtol=1e-12)
    np.testing.assert_allclose(ours, losses, rtol=1e-9)


def test_packed_kernel_grads_equal_the_seed_for_long_names_and_carried_state():
    rng = np.random.RandomState(4)
    V, n_a = 11, 7
    params = {k: rng.randn(*v.shape) * 0.4 for k, v in rnn.init_params(n_a, V, rng).items()}
    net = rnn.PackedRNN.from_params(params)
    a_prev = rng.randn(n_a, 1) * 0.5
    for T in (2, 5, 40, 3, 70):  # 40 and 70 outgrow the workspace; 3 reuses a smaller view
        ys = np.concatenate((rng.randint(1, V, T - 1), [0]))
        loss = net.backprop(ys[:-1], ys, a_prev)
        X, Y = [None, *ys[:-1].tolist()], ys.tolist()
        ref_loss, cache = ref.rnn_forward(X, Y, a_prev, params, V)
        ref_grads, a = ref.rnn_backward(X, Y, params, cache)
        assert loss == pytest.approx(ref_loss, rel=1e-12)
        for k in rnn.PARAM_NAMES:
            np.testing.assert_allclose(net.grads[k], ref_grads["d" + k], rtol=0, atol=1e-10)
        np.testing.assert_allclose(net.last_state(), a[T - 1], atol=1e-13)
        a_prev = net.last_state()


def test_packed_sgd_and_clip_equal_the_seed_update_bit_for_bit():
    rng = np.random.RandomState(0)
    params = {k: rng.randn(*v.shape) for k, v in rnn.init_params(6, 5, rng).items()}
    net = rnn.PackedRNN.from_params(params)
    grads = {k: rng.randn(*v.shape) * 8 for k, v in params.items()}  # some beyond the clip
    for k, g in grads.items():
        net.grads[k][...] = g
    ref.update_parameters(params, ref.clip({"d" + k: g for k, g in grads.items()}, 5), 0.01)
    net.clip_grads(5.0)
    net.sgd(0.01)
    for k in rnn.PARAM_NAMES:
        assert np.array_equal(net.params[k], params[k]), k


def test_seed_views_are_the_seed_arrays():
    """step_probs, checkpoints and the GUI see the seed's shapes, and writes go through."""
    net = rnn.PackedRNN.from_params(rnn.init_params(5, 4, np.random.RandomState(1)))
    assert {k: v.shape for k, v in net.params.items()} == {
        "Wax": (5, 4), "Waa": (5, 5), "Wya": (4, 5), "b": (5, 1), "by": (4, 1)}
    net.params["Waa"][2, 3] = 7.0
    assert net.flat[2 * net.width + 3] == 7.0
    assert net.grads_finite()  # zeros
    net.grad_flat[3] = np.nan
    assert not net.grads_finite()
    net.grad_flat[3] = np.inf
    assert not net.grads_finite()
    net.grad_flat[3] = 1e308  # finite, and the sum overflows: still finite
    net.grad_flat[4] = 1e308
    with np.errstate(over="ignore"):
        assert net.grads_finite()


# -- default: batched float64 against the seed's per-name math ------------------------------
def test_batched_float64_gradients_equal_the_seed_per_name(varied_corpus):
    corpus = load_corpus(varied_corpus)
    names = EncodedNames.encode(corpus.vocab, corpus.names)
    V, H = corpus.vocab.size, 9
    rng = np.random.default_rng(3)
    model = VanillaRNN.create(V, H, rng, np.float64)
    for k, v in model.params.items():  # larger than the init, so every term matters
        model.params[k] = rng.standard_normal(v.shape) * 0.4
    rows = rng.choice(len(names), 12, replace=False)
    X, Y, mask = names.pad_batch(rows, np.float64)
    assert mask.min() == 0  # the batch really is padded
    loss, grads = model.loss_and_grads(X, Y, mask)

    p = model.params
    seed = {"Wax": p["W_xh"].T, "Waa": p["W_hh"].T, "Wya": p["W_hy"].T,
            "b": p["b_h"][:, None], "by": p["b_y"][:, None]}
    total_loss, total = 0.0, {k: np.zeros_like(v) for k, v in seed.items()}
    for r in rows:
        ix = names[r].tolist()
        Xn, Yn = [None, *ix], [*ix, 0]
        name_loss, cache = ref.rnn_forward(Xn, Yn, np.zeros((H, 1)), seed, V)
        g, _ = ref.rnn_backward(Xn, Yn, seed, cache)
        total_loss += name_loss
        for k in seed:
            total[k] += g["d" + k]
    n = mask.sum()
    assert loss == pytest.approx(total_loss, rel=1e-12)
    assert model.loss(X, Y, mask) == pytest.approx(total_loss, rel=1e-12)
    want = {"W_xh": total["Wax"].T, "W_hh": total["Waa"].T, "W_hy": total["Wya"].T,
            "b_h": total["b"][:, 0], "b_y": total["by"][:, 0]}
    for k, w in want.items():
        np.testing.assert_allclose(grads[k], w / n, rtol=0, atol=1e-10, err_msg=k)


def test_batched_model_reuses_its_buffers_and_returns_fresh_gradients(varied_corpus):
    corpus = load_corpus(varied_corpus)
    names = EncodedNames.encode(corpus.vocab, corpus.names)
    model = VanillaRNN.create(corpus.vocab.size, 8, np.random.default_rng(0), np.float64)
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


@pytest.mark.parametrize("kind", ["sgd", "adagrad", "adam"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_flat_optimizer_equals_the_per_parameter_one_bit_for_bit(kind, dtype):
    rng = np.random.default_rng(0)
    shapes = {"W": (4, 3), "b": (3,), "U": (3, 5)}
    start = {k: rng.standard_normal(s).astype(dtype) for k, s in shapes.items()}
    plain_params = {k: v.copy() for k, v in start.items()}
    pack = ParamPack(start)
    plain, flat = Optimizer(kind, 0.01), Optimizer(kind, 0.01)
    for _ in range(5):
        grads = {k: rng.standard_normal(s).astype(dtype) for k, s in shapes.items()}
        plain.update(plain_params, grads)
        pack.gather(grads)
        flat.update_packed(pack)
    for k in shapes:
        assert pack.params[k].dtype == dtype
        assert np.array_equal(pack.params[k], plain_params[k]), k
    assert set(flat.state) == set(plain.state)
    for k in plain.state:  # per-name state, as checkpoints store it
        assert np.array_equal(flat.state[k], plain.state[k]), k


@pytest.mark.parametrize("preset", ["classic", "default"])
def test_a_replaced_parameter_array_is_trained_not_the_stale_copy(varied_corpus, preset):
    trainer = Trainer(load_corpus(varied_corpus), TrainConfig(preset=preset, batch_size=8))
    trainer.run(2)
    name = "Waa" if preset == "classic" else "W_hh"
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
def test_bench_reference_is_the_seed_step_bit_for_bit():
    rng = np.random.RandomState(2)
    V, n_a = 9, 6
    p_ref = ref.initialize_parameters(n_a, V, V)
    p_bench = bench_reference.initialize_parameters(n_a, V, V)
    a_ref = a_bench = np.zeros((n_a, 1))
    for _ in range(20):
        ix = rng.randint(1, V, rng.randint(1, 9)).tolist()
        X, Y = [None, *ix], [*ix, 0]
        l_ref, _, a_ref = ref.optimize(X, Y, a_ref, p_ref, V)
        l_bench, _, a_bench = bench_reference.optimize(X, Y, a_bench, p_bench, V)
        assert l_ref == l_bench
    for k in p_ref:
        assert np.array_equal(p_ref[k], p_bench[k]), k


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
