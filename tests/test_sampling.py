"""Sampling controls, scores and novelty, driven through the API and `dinogui sample`."""

from __future__ import annotations

import random

import numpy as np
import pytest

from dinogui.bench import seed as ref
from dinogui.bench.nearest_dp import NumpyNearestNames, levenshtein_many
from dinogui.cli import main
from dinogui.core import checkpoint
from dinogui.core.batching import EncodedNames
from dinogui.core.config import TrainConfig
from dinogui.core.corpus import corpus_from_names
from dinogui.core.models import classic
from dinogui.core.novelty import QUERY_BLOCK, NearestNames, novelty_rate
from dinogui.core.sample_spec import (
    ConstraintError,
    ConstraintsUnmet,
    SampleSpec,
    shortest_with,
)
from dinogui.core.sampling import BLOCK, display_name, inverse_cdf
from dinogui.core.trainer import Trainer
from tests import plain_rnn

NAMES = ["ada", "bob", "cyrus", "dan", "eve", "finnegan", "gus", "hal", "ivy", "jasper",
         "kai", "leonidas", "mae", "nikolaus", "oda", "pia", "quinn", "rufus", "saurus"]

CONFIGS = {
    "classic": dict(preset="classic", samples=0),
    "default": dict(preset="default", hidden=24, batch_size=4, lr=0.02, samples=0,
                    val_fraction=0.0),
    "gru2": dict(preset="default", cell="gru", layers=2, hidden=12, batch_size=4, samples=0,
                 val_fraction=0.0),
    "lstm": dict(preset="default", cell="lstm", hidden=12, batch_size=4, samples=0,
                 val_fraction=0.0),
}
STEPS = {"classic": 2500, "default": 400, "gru2": 60, "lstm": 60}


@pytest.fixture(scope="module")
def trainers() -> dict[str, Trainer]:
    out = {}
    for key, cfg in CONFIGS.items():
        t = Trainer(corpus_from_names(NAMES), TrainConfig(**cfg))
        t.run(STEPS[key])
        out[key] = t
    return out


@pytest.fixture(scope="module")
def ckpt(trainers, tmp_path_factory):
    path = tmp_path_factory.mktemp("ckpt") / "classic.npz"
    checkpoint.save(trainers["classic"], path)
    return path


@pytest.fixture(scope="module")
def ckpt_default(trainers, tmp_path_factory):
    """A default-preset model, which copies its 19 names often."""
    path = tmp_path_factory.mktemp("ckpt") / "default.npz"
    checkpoint.save(trainers["default"], path)
    return path


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


# -- plain references, written independently of the code under test ------------------

def ref_edit_distance(a: str, b: str) -> int:
    """The textbook full-matrix Levenshtein DP."""
    D = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        D[i][0] = i
    for j in range(len(b) + 1):
        D[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            D[i][j] = min(D[i - 1][j] + 1, D[i][j - 1] + 1,
                          D[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
    return D[len(a)][len(b)]


def next_probs_loop(trainer: Trainer):
    """A function text -> next-character probabilities, one character at a time.

    Classic models go through the seed's classic.step_probs; batched ones through
    model.step with a batch of one and a plain softmax.
    """
    if trainer.config.preset == "classic":
        def probs(text):
            a = np.zeros((trainer.config.hidden, 1))
            p, a = classic.step_probs(trainer.params, -1, a)
            for ch in text:
                p, a = classic.step_probs(trainer.params, trainer.vocab.stoi[ch], a)
            return p
    else:
        model = trainer.sampler().batched_model()

        def probs(text):
            h = model.start_state(1)
            logits, h = model.step(np.array([-1]), h)
            for ch in text:
                logits, h = model.step(np.array([trainer.vocab.stoi[ch]]), h)
            z = logits[0].astype(np.float64)
            e = np.exp(z - z.max())
            return e / e.sum()
    return probs


def plain_loglik_per_char(trainer: Trainer, name: str) -> float:
    probs = next_probs_loop(trainer)
    total = sum(np.log(probs(name[:t])[trainer.vocab.stoi[ch]]) for t, ch in enumerate(name))
    return (total + np.log(probs(name)[0])) / (len(name) + 1)


def greedy_loop(trainer: Trainer, prefix: str = "", max_len: int = 50) -> str:
    probs = next_probs_loop(trainer)
    name = prefix
    while len(name) < max_len:
        i = int(np.argmax(probs(name)))
        if i == 0:
            break
        name += trainer.vocab.chars[i]
    return name


# -- the seed's scheme stays ---------------------------------------------------------

def test_unconstrained_classic_draw_is_the_seeds_sample(trainers):
    t = trainers["classic"]
    drawn = t.sampler().draw(6, seed=3)
    assert drawn.scheme == "seed"
    expected = []
    for s in range(3, 9):
        ix = ref.sample(t.params, t.vocab.stoi, s)
        expected.append("".join(t.vocab.chars[i] for i in ix).strip("\n"))
    assert drawn.names == expected


@pytest.mark.parametrize("key", ["classic", "default"])
def test_temperature_and_max_len_alone_keep_the_models_scheme(trainers, key):
    """draw() with these two is sample(): checked against the schemes written out plainly
    (comparing draw with sample would compare sample with itself)."""
    t = trainers[key]
    want = [t.vocab.decode(n) for n in plain_rnn.drawn_unconstrained(t.params, 2, 9, 0.7, 6)]
    drawn = t.sampler().draw(9, seed=2, spec=SampleSpec(temperature=0.7, max_len=6))
    assert drawn.names == want and drawn.scheme == ("seed" if key == "classic" else "batched")


# -- determinism ----------------------------------------------------------------------

@pytest.mark.parametrize("key", list(CONFIGS))
def test_same_seed_same_names_and_more_names_keep_the_first(trainers, key):
    s = trainers[key].sampler()
    spec = SampleSpec(top_k=4, min_len=2, suffix="s")
    a = s.draw(12, seed=5, spec=spec)
    b = trainers[key].sampler(copy_params=True).draw(12, seed=5, spec=spec)
    assert a.names == b.names and a.drawn == b.drawn
    assert s.draw(5, seed=5, spec=spec).names == a.names[:5]
    assert s.draw(12, seed=6, spec=spec).names != a.names
    assert a.scheme == "blocks"


# -- constraints honoured -------------------------------------------------------------

@pytest.mark.parametrize("key", list(CONFIGS))
@pytest.mark.parametrize("spec", [
    SampleSpec(prefix="ni"),
    SampleSpec(suffix="us"),
    SampleSpec(min_len=7, max_len=9),
    SampleSpec(max_len=3, top_k=5),
    SampleSpec(prefix="s", suffix="s", min_len=4, max_len=12, temperature=1.5),
    SampleSpec(prefix="abc", max_len=3),
])
def test_constraints_are_honoured(trainers, key, spec):
    names = trainers[key].sampler().draw(15, seed=1, spec=spec).names
    assert len(names) == 15
    max_len = spec.max_len or 50
    for n in names:
        assert n.startswith(spec.prefix) and n.endswith(spec.suffix)
        assert spec.min_len <= len(n) <= max_len


@pytest.mark.parametrize("key", list(CONFIGS))
def test_top_k_1_is_argmax_decoding(trainers, key):
    t = trainers[key]
    s = t.sampler()
    for prefix in ("", "k", "sa"):
        names = s.draw(3, seed=9, spec=SampleSpec(top_k=1, prefix=prefix)).names
        assert names == [greedy_loop(t, prefix)] * 3


@pytest.mark.parametrize("key", ["classic", "default"])
def test_top_k_draws_only_the_k_most_likely_letters(trainers, key):
    s = trainers[key].sampler()
    for k in (2, 3):
        names = s.draw(30, seed=4, spec=SampleSpec(top_k=k, temperature=3.0)).names
        ranks = np.concatenate([s.inspect(n).rank for n in names])
        assert ranks.max() <= k
        assert (ranks == k).any()  # at that temperature the k-th choice does come up


@pytest.mark.parametrize("key", ["classic", "default"])
def test_prefix_is_fed_and_the_rest_is_drawn_from_the_model(trainers, key):
    """The first drawn letter after a prefix follows the model's conditional distribution."""
    t = trainers[key]
    names = t.sampler().draw(2000, seed=0, spec=SampleSpec(prefix="ga")).names
    p = next_probs_loop(t)("ga")
    counts = np.bincount([t.vocab.stoi[n[2]] if len(n) > 2 else 0 for n in names],
                         minlength=t.vocab.size)
    # chi-square: 70 is past the 1-in-10^5 tail for the <= 22 degrees of freedom here
    expected = 2000 * p
    big = expected > 5
    chi2 = (((counts - expected) ** 2)[big] / expected[big]).sum()
    assert chi2 < 70
    assert counts[~big].sum() < 40 + 3 * expected[~big].sum()


def test_min_len_holds_back_the_end_of_a_model_that_wants_short_names(trainers):
    s = trainers["classic"].sampler()
    plain = s.draw(50, seed=0, spec=SampleSpec(top_k=27)).names
    assert min(map(len, plain)) < 6
    long = s.draw(50, seed=0, spec=SampleSpec(min_len=6)).names
    assert min(map(len, long)) >= 6


@pytest.mark.parametrize("key", ["classic", "default"])
def test_suffix_keeps_the_matching_candidates_in_order(trainers, key):
    s = trainers[key].sampler()
    everything = SampleSpec(top_k=s.vocab.size)  # same candidates, nothing masked
    plain = s.draw(400, seed=2, spec=everything).names
    got = s.draw(10, seed=2, spec=SampleSpec(top_k=s.vocab.size, suffix="us"))
    matching = [i for i, n in enumerate(plain) if n.endswith("us")]
    assert got.names == [plain[i] for i in matching[:10]]
    assert got.drawn == matching[9] + 1
    assert got.wrong_ending == got.drawn - 10


# -- new names only -------------------------------------------------------------------

@pytest.mark.parametrize("key", ["classic", "default"])
def test_new_only_drops_corpus_names_and_counts_them(trainers, key):
    t = trainers[key]
    s, known = t.sampler(), t.corpus.name_set()
    everything = SampleSpec(top_k=s.vocab.size)
    plain = s.draw(600, seed=0, spec=everything).names
    assert novelty_rate(plain, known) < 1.0  # the trained model copies, now and then
    new = [i for i, n in enumerate(plain) if n not in known]
    count = len(new)
    got = s.draw(count, seed=0, spec=SampleSpec(top_k=s.vocab.size, new_only=True), known=known)
    assert got.names == [plain[i] for i in new]
    assert not set(got.names) & known
    assert novelty_rate(got.names, known) == 1.0
    assert got.not_new == sum(n in known for n in plain[: new[-1] + 1]) > 0
    assert got.drawn == new[-1] + 1


def test_cli_new_only_output_is_disjoint_and_reports_the_drop(capsys, trainers, ckpt_default):
    code, out, err = run(capsys, "sample", "--checkpoint", ckpt_default, "--count", 15,
                         "--seed", 2, "--new-only", "--top-k", 30)
    assert code == 0, err
    names = out.splitlines()
    assert len(names) == 15
    assert not {n.lower() for n in names} & set(NAMES)
    drawn = trainers["default"].sampler().draw(15, 2, SampleSpec(top_k=30, new_only=True),
                                               known=set(NAMES))
    assert names == [display_name(n) for n in drawn.names]
    assert drawn.not_new > 0
    assert f"dropped {drawn.not_new} names already in the corpus" in err


def test_cli_corpus_flag_replaces_the_checkpoints_names(capsys, trainers, ckpt, tmp_path):
    plain = trainers["classic"].sampler().draw(6, 0, SampleSpec(top_k=30)).names
    other = tmp_path / "other.txt"
    other.write_text("\n".join(n.upper() for n in plain[:3]), encoding="utf-8")
    code, out, err = run(capsys, "sample", "--checkpoint", ckpt, "--count", 3, "--top-k", 30,
                         "--new-only", "--corpus", other)
    assert code == 0, err
    assert not {n.lower() for n in out.splitlines()} & set(plain[:3])


# -- impossible and unlikely constraints ----------------------------------------------

@pytest.mark.parametrize("kwargs, count, fragment", [
    (dict(prefix="zé"), 5, "'é'"),
    (dict(suffix="x!"), 5, "'!'"),
    (dict(prefix="A"), 5, "lower-case"),
    (dict(prefix="a\nb"), 5, "'\\n'"),
    (dict(prefix="saurus", suffix="vyq", max_len=8), 5, "at least 9 letters"),
    (dict(prefix="ab", suffix="bcd", max_len=3), 5, "at least 4 letters"),
    (dict(), 0, "at least 1"),
    (dict(new_only=True), 5, "corpus"),
])
def test_impossible_constraints_are_errors_up_front(trainers, kwargs, count, fragment):
    with pytest.raises(ConstraintError, match=None) as e:
        trainers["default"].sampler().draw(count, 0, SampleSpec(**kwargs))
    assert fragment in str(e.value)
    assert isinstance(e.value, ValueError)


@pytest.mark.parametrize("kwargs, fragment", [
    (dict(min_len=9, max_len=5), "minimum length 9 is more than the maximum length 5"),
    (dict(top_k=0), "top-k"),
    (dict(temperature=0.0), "temperature"),
    (dict(max_len=0), "maximum length"),
])
def test_inconsistent_specs_are_refused(kwargs, fragment):
    with pytest.raises(ConstraintError, match=fragment):
        SampleSpec(**kwargs)


def test_overlapping_prefix_and_suffix_fit_when_they_can():
    assert shortest_with("ab", "bcd") == 4
    assert shortest_with("sau", "saurus") == 6
    assert shortest_with("tyrannosaurus", "saurus") == 13
    assert shortest_with("", "us") == 2 and shortest_with("ab", "") == 2


def test_unlikely_suffix_gives_up_after_a_bounded_number_of_draws(trainers):
    s = trainers["classic"].sampler()
    with pytest.raises(ConstraintsUnmet, match="did not end with 'qvqvq'") as e:
        s.draw(3, 0, SampleSpec(suffix="qvqvq"))
    assert e.value.drawn == 2048 and e.value.found == []
    with pytest.raises(ConstraintsUnmet) as e:
        s.draw(3, 0, SampleSpec(suffix="qvqvq"), max_draws=100)
    assert e.value.drawn == 100
    with pytest.raises(ConstraintsUnmet) as e:  # many names asked: still 2048 draws, not 200k
        s.draw(1000, 0, SampleSpec(suffix="qvqvq"))
    assert e.value.drawn == 2048


def test_a_rare_suffix_is_found_when_the_budget_allows(trainers):
    s = trainers["classic"].sampler()
    plain = s.draw(3000, 0, SampleSpec(top_k=30)).names
    rare = [n for n in plain if n.endswith("uv")]
    assert 0 < len(rare) < 10  # rarer than 1 in 300
    assert s.draw(len(rare), 0, SampleSpec(top_k=30, suffix="uv")).names == rare


def test_greedy_that_copies_fails_at_once(trainers):
    t = trainers["classic"]
    greedy = greedy_loop(t)
    with pytest.raises(ConstraintsUnmet, match="greedy") as e:
        t.sampler().draw(4, 0, SampleSpec(top_k=1, new_only=True), known={greedy})
    assert e.value.drawn <= BLOCK


def test_cli_impossible_constraints_exit_2_with_one_line(capsys, ckpt):
    for argv, fragment in [
        (["--prefix", "q#"], "'#'"),
        (["--min-len", "9", "--max-len", "5"], "more than the maximum"),
        (["--prefix", "nikolaus", "--suffix", "abc", "--max-len", "10"], "at least 11"),
        (["--suffix", "qvqvq", "--count", "2"], "draws"),
        (["--top-k", "0"], "'0' must be between 1 and 1000"),
        (["--corpus", "x.txt"], "--new-only or --scores"),
    ]:
        code, out, err = run(capsys, "sample", "--checkpoint", ckpt, *argv)
        assert code == 2 and out == ""
        assert err.startswith("dinogui: error: ") and fragment in err
        assert len(err.strip().splitlines()) == 1


def test_cli_prefix_and_suffix_are_folded_to_the_corpus_case(capsys, ckpt):
    code, out, err = run(capsys, "sample", "--checkpoint", ckpt, "--count", 4,
                         "--prefix", "Sa", "--suffix", "S", "--min-len", 3, "--top-k", 8)
    assert code == 0, err
    for name in out.splitlines():
        assert name.startswith("Sa") and name.endswith("s") and len(name) >= 3
    assert "rejected" in err and "not ending in 's'" in err


# -- scores ---------------------------------------------------------------------------

@pytest.mark.parametrize("key", list(CONFIGS))
def test_scores_equal_a_plain_step_by_step_sum(trainers, key):
    t = trainers[key]
    names = ["saurus", "ada", "", "qqyv", "nikolausleonidas"]
    got = t.sampler().loglik_per_char(names)
    want = [plain_loglik_per_char(t, n) for n in names]
    rtol = 1e-10 if t.config.preset == "classic" else 1e-5
    np.testing.assert_allclose(got, want, rtol=rtol)


@pytest.mark.parametrize("key", ["classic", "default", "lstm"])
def test_scores_agree_with_the_training_loss(trainers, key):
    """Summed over names, the scores are minus the model's own batched loss."""
    t = trainers[key]
    s = t.sampler()
    model = s.batched_model()
    ll = s.loglik_per_char(NAMES)
    X, Y, mask = EncodedNames.encode(t.vocab, NAMES).pad_batch(np.arange(len(NAMES)), np.float64)
    total = (ll * np.array([len(n) + 1 for n in NAMES])).sum()
    assert total == pytest.approx(-model.loss(X, Y, mask), rel=1e-5)


@pytest.mark.parametrize("key", ["classic", "gru2"])
def test_inspection_shows_each_positions_probabilities_and_alternatives(trainers, key):
    t = trainers[key]
    ins = t.sampler().inspect("rufus")
    probs = next_probs_loop(t)
    T = len("rufus") + 1
    assert ins.probs.shape == (T, t.vocab.size) and ins.top_index.shape == (T, 5)
    for pos in range(T):
        p = probs("rufus"[:pos])
        np.testing.assert_allclose(ins.probs[pos], p, rtol=1e-5, atol=1e-9)
        target = t.vocab.stoi["rufus"[pos]] if pos < 5 else 0
        assert ins.targets[pos] == target
        assert ins.p_target[pos] == pytest.approx(p[target], rel=1e-5)
        assert ins.rank[pos] == 1 + (p > p[target] * (1 + 1e-9)).sum()
        assert list(ins.top_index[pos]) == list(np.argsort(-p, kind="stable")[:5])
        assert [c for c, _ in ins.top(pos)] == [t.vocab.chars[i] for i in ins.top_index[pos]]
    assert ins.loglik_per_char == pytest.approx(plain_loglik_per_char(t, "rufus"), rel=1e-5)


def test_scoring_a_name_the_model_cannot_write_says_which(trainers):
    with pytest.raises(ValueError, match="cannot score 'zoë'"):
        trainers["classic"].sampler().loglik_per_char(["ada", "zoë"])
    with pytest.raises(ValueError, match="one line"):
        trainers["classic"].sampler().inspect("ad\na")


def test_cli_scores_print_name_likelihood_and_nearest(capsys, trainers, ckpt):
    code, out, err = run(capsys, "sample", "--checkpoint", ckpt, "--count", 8, "--seed", 1,
                         "--scores")
    assert code == 0, err
    t = trainers["classic"]
    names = t.sample(8, seed=1)
    rows = [line.split("\t") for line in out.splitlines()]
    assert [r[0] for r in rows] == [display_name(n) for n in names]
    for (_, ll, nearest), name in zip(rows, names, strict=True):
        assert float(ll) == pytest.approx(plain_loglik_per_char(t, name), abs=6e-5)
        best = min(ref_edit_distance(name, c) for c in NAMES)
        assert ref_edit_distance(name, nearest.lower()) == best
        assert nearest.lower() in NAMES


# -- edit distance and nearest names --------------------------------------------------

def random_words(rng: random.Random, n: int, letters: str = "abcd", longest: int = 8):
    return ["".join(rng.choice(letters) for _ in range(rng.randint(0, longest)))
            for _ in range(n)]


def test_vectorised_distances_equal_the_textbook_dp():
    rng = random.Random(1)
    codes = {ch: i for i, ch in enumerate("abcde")}
    for _ in range(60):
        q = random_words(rng, 1, "abcde", 9)[0]
        cands = random_words(rng, 50, "abcd", 9)
        L = max(map(len, cands))
        C = np.full((50, L), -1, dtype=np.int32)
        for i, c in enumerate(cands):
            C[i, : len(c)] = [codes[ch] for ch in c]
        lengths = np.array([len(c) for c in cands])
        qc = np.array([codes[ch] for ch in q], dtype=np.int32)
        want = np.array([ref_edit_distance(q, c) for c in cands])
        np.testing.assert_array_equal(levenshtein_many(qc, C, lengths), want)
        bounded = levenshtein_many(qc, C, lengths, bound=2)
        np.testing.assert_array_equal(np.minimum(bounded, 3), np.minimum(want, 3))


@pytest.mark.parametrize("kind", [NearestNames, NumpyNearestNames])
def test_nearest_name_equals_brute_force_with_the_earliest_on_ties(kind):
    """The app's search (rapidfuzz) and the bench's NumPy DP give the same answers."""
    rng = random.Random(2)
    for _ in range(150):
        corpus = random_words(rng, rng.randint(1, 60), "abcd", 7)
        index = kind(corpus)
        unique = list(dict.fromkeys(corpus))
        for q in random_words(rng, 6, "abcde", 9):
            want = min(range(len(unique)), key=lambda i: (ref_edit_distance(q, unique[i]), i))
            got = index.nearest(q)
            assert (got.name, got.distance) == (unique[want], ref_edit_distance(q, unique[want]))


def test_nearest_many_answers_each_query_as_nearest_does():
    rng = random.Random(4)
    index = NearestNames(random_words(rng, 300, "abcd", 7))
    queries = random_words(rng, 2 * QUERY_BLOCK + 5, "abcde", 9) + index.names[:3]
    assert index.nearest_many(queries) == [index.nearest(q) for q in queries]
    assert index.nearest_many(queries)[-1].distance == 0


def test_nearest_name_on_a_real_corpus(dinos_txt):
    names = [n.strip().lower() for n in dinos_txt.read_text(encoding="utf-8").split()]
    index = NearestNames(names)
    rng = random.Random(3)
    for q in rng.sample(names, 5) + ["tyrannosaurux", "brontosaurs", "xq", "aaaaaaaaaaaaaaaaa"]:
        got = index.nearest(q)
        want = min(range(len(index.names)),
                   key=lambda i: (ref_edit_distance(q, index.names[i]), i))
        assert (got.name, got.distance) == (index.names[want],
                                            ref_edit_distance(q, index.names[want]))


def test_inverse_cdf_edge_rule():
    """The first index whose cumulative probability exceeds u; never a zero-probability index."""
    p = np.array([[0.0, 0.5, 0.0, 0.5]] * 5)
    u = np.array([0.0, 0.4999, 0.5, 0.9999, 1.0])  # 1.0: past a total rounded down
    np.testing.assert_array_equal(inverse_cdf(p, u), [1, 1, 3, 3, 3])
    rng = np.random.default_rng(0)
    p = rng.random((200, 7)) * (rng.random((200, 7)) > 0.3)
    p[:, 2] += 1e-3
    p /= p.sum(axis=1, keepdims=True)
    u = rng.random(200)
    got = inverse_cdf(p, u)
    want = [np.searchsorted(np.cumsum(row), x, side="right") for row, x in zip(p, u, strict=True)]
    np.testing.assert_array_equal(got, want)
    assert (p[np.arange(200), got] > 0).all()


def test_sampling_bench_prints_both_nearest_name_searches(capsys):
    from dinogui.bench.sampling import bench_nearest, spliced_corpus

    rng = random.Random(5)
    corpus = spliced_corpus(NAMES, 60, rng)
    assert len(corpus) == 60 and corpus[: len(NAMES)] == list(dict.fromkeys(NAMES))
    bench_nearest(corpus, ["adax", "bobby", "zed", "eve"], report=3)
    out = capsys.readouterr().out
    assert "rapidfuzz" in out and "NumPy DP" in out and "per 3-name report" in out
    assert "same nearest name and distance for 4 of 4 queries" in out
