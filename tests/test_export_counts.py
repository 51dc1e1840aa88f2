"""`dinogui export` of the count model (--cell ngram) and the hybrid (--mix-ngram): the
generators run as a user runs them (Python with -I -S, the ES module under node), score as
`dinogui score` does, and draw the same names for a seed; the JSON tables are the counts a
plain recount gives, and a loader written from docs/export.md scores like dinogui."""

from __future__ import annotations

import json
from collections import defaultdict

import numpy as np
import pytest

from dinogui.cli import main
from dinogui.core import checkpoint, export
from dinogui.score_cmd import widened
from tests.ngram_reference import ReferenceKN
from tests.test_export import (
    CORPUS,
    NAMES,
    NODE,
    dinogui_scores,
    export_all,
    generator,
    json_codes,
    json_net_log_probs,
    load_module,
    needs_node,
    run,
    scores_of,
    train_all,
)

MODELS = {f"ngram-{n}": ["--cell", "ngram", "--order", str(n)] for n in range(1, 7)}
MODELS |= {
    "hybrid-rnn": ["--cell", "rnn", "--hidden", "8", "--mix-ngram", "5"],
    "hybrid-gru": ["--cell", "gru", "--hidden", "6", "--mix-ngram", "5"],
    "hybrid-lstm": ["--cell", "lstm", "--layers", "2", "--hidden", "5", "--mix-ngram", "5"],
}
# the hybrids fitted while both parts still count (checked every step, a
# tiny list's network is memorised by iteration 150 and the last fit is all count model)
for _flags in MODELS.values():
    if "--mix-ngram" in _flags:
        _flags += ["--val-every", "150"]
HYBRIDS = [m for m in MODELS if m.startswith("hybrid")]


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    folder = tmp_path_factory.mktemp("count-models")
    corpus = folder / "names.txt"
    corpus.write_text(CORPUS, encoding="utf-8")
    return train_all(folder, MODELS, "--corpus", str(corpus), "--iterations", "150",
                     "--preset", "default", "--val-fraction", "0.25")


@pytest.fixture(scope="module")
def exports(checkpoints, tmp_path_factory):
    """exports[model][format] -> path."""
    return export_all(checkpoints, tmp_path_factory.mktemp("count-exports"))


def engine_scores(ckpt, names=NAMES) -> np.ndarray:
    """dinogui's own float64 scores, unrounded."""
    return widened(checkpoint.load(ckpt), False).loglik_per_char([n.lower() for n in names])


# -- scores -----------------------------------------------------------------------------------
@pytest.mark.parametrize("model", list(MODELS))
def test_python_generator_scores_count_models_and_hybrids_like_dinogui(capsys, checkpoints,
                                                                      exports, model):
    done = generator(exports[model]["py"], "--score", *NAMES)
    assert done.returncode == 0, done.stderr
    want, got = dinogui_scores(capsys, checkpoints[model]), scores_of(done.stdout)
    assert list(got) == list(want) == list(NAMES)
    for name in NAMES:
        assert abs(got[name] - want[name]) <= 1e-6
    module = load_module(exports[model]["py"])
    np.testing.assert_allclose([module.score(n) for n in NAMES], engine_scores(checkpoints[model]),
                               atol=1e-9, rtol=0)


@needs_node
@pytest.mark.parametrize("model", list(MODELS))
def test_js_generator_scores_count_models_and_hybrids_like_dinogui(capsys, checkpoints, exports,
                                                                  model):
    done = generator(exports[model]["js"], "--score", *NAMES)
    assert done.returncode == 0, done.stderr
    want, got = dinogui_scores(capsys, checkpoints[model]), scores_of(done.stdout)
    assert list(got) == list(want)
    for name in NAMES:
        assert abs(got[name] - want[name]) <= 1e-6


def test_the_hybrids_really_mix_and_export_their_weight(checkpoints, exports):
    for model in HYBRIDS:
        weight = float(checkpoint.load(checkpoints[model]).sampler().params["mix/weight"][0])
        assert 0 < weight < 1  # both parts count: the mixing path is the one tested
        doc = json.loads(exports[model]["json"].read_text(encoding="utf-8"))
        assert doc["mix_weight"] == weight and doc["architecture"]["mix_ngram"] == 5
        assert doc["ngram"]["order"] == 5 and len(doc["layers"]) == (
            2 if model == "hybrid-lstm" else 1)


@pytest.mark.parametrize("weight", [0.0, 1.0])
def test_a_hybrid_at_either_end_scores_as_that_part_alone(checkpoints, tmp_path, weight):
    sampler = checkpoint.load(checkpoints["hybrid-gru"]).sampler()
    sampler.params["mix/weight"] = np.array([weight])
    path = tmp_path / "end.py"
    export.export(sampler, "py", path, lowercase=True)
    got = [load_module(path).score(n) for n in NAMES]
    wide = widened(checkpoint.load(checkpoints["hybrid-gru"]), False)
    wide.params["mix/weight"] = np.array([weight])
    want = wide.loglik_per_char([n.lower() for n in NAMES])
    np.testing.assert_allclose(got, want, atol=1e-9, rtol=0)
    part = {k: v for k, v in wide.params.items() if not k.startswith("mix/")} if weight else \
        {k[4:]: v for k, v in wide.params.items() if k.startswith("mix/") and k != "mix/weight"}
    alone = type(wide)(wide.preset, wide.cell if weight else "ngram", part, wide.vocab)
    np.testing.assert_allclose(got, alone.loglik_per_char([n.lower() for n in NAMES]),
                               atol=1e-12, rtol=0)


# -- draws ------------------------------------------------------------------------------------
@needs_node
@pytest.mark.parametrize("model", ["ngram-1", "ngram-3", "ngram-6", "hybrid-lstm"])
def test_python_and_js_draw_the_same_names_for_a_seed(exports, model):
    for argv in (["--count", "15", "--seed", "3"],
                 ["--count", "8", "--seed", "4294967295", "--temperature", "1.7",
                  "--prefix", "Da", "--max-len", "6"]):
        py, js = generator(exports[model]["py"], *argv), generator(exports[model]["js"], *argv)
        assert py.returncode == js.returncode == 0, py.stderr + js.stderr
        assert py.stdout == js.stdout and len(py.stdout.splitlines()) == int(argv[1])
    other = generator(exports[model]["py"], "--count", "15", "--seed", "4").stdout
    assert other != generator(exports[model]["py"], "--count", "15", "--seed", "3").stdout


@pytest.mark.parametrize("model", ["ngram-2", "hybrid-rnn"])
def test_draws_are_deterministic_and_follow_the_options(capsys, checkpoints, exports, model):
    module = load_module(exports[model]["py"])
    a = module.sample(count=12, seed=7)
    assert a == module.sample(count=12, seed=7) and module.sample(count=5, seed=7) == a[:5]
    assert a != module.sample(count=12, seed=8) and all(a) and len(set(a)) > 3
    capped = module.sample(count=30, seed=1, prefix="ev", max_len=4, temperature=3)
    assert all(n.startswith("ev") and len(n) <= 4 for n in capped), capped
    assert any(len(n) == 4 for n in capped)  # the cap is reached, not undercut
    # near temperature 0 every draw is the most likely letter: dinogui's greedy name
    cold = generator(exports[model]["py"], "--count", "2", "--seed", "9", "--temperature",
                     "0.0001").stdout
    code, greedy, _ = run(capsys, "sample", "--checkpoint", checkpoints[model], "--top-k", "1",
                          "--count", "1")
    assert code == 0 and cold.splitlines() == greedy.splitlines() * 2


def test_an_order_1_model_draws_letters_as_often_as_it_counted_them(exports):
    """Order 1: every letter is drawn independently from the smoothed unigram."""
    doc = json.loads(exports["ngram-1"]["json"].read_text(encoding="utf-8"))
    module = load_module(exports["ngram-1"]["py"])
    p = np.exp(module.GENERATOR.net.step((), 0)[0])
    V, (level,) = doc["ngram"]["vocab_size"], doc["ngram"]["levels"]
    total, d = sum(level["counts"]), doc["ngram"]["discounts"][0]
    want = np.full(V, d * len(level["counts"]) / V / total)  # (max(c - d, 0) + d T / V) / A
    for (w,), c in zip(level["grams"], level["counts"], strict=True):
        want[w] += max(c - d, 0.0) / total
    np.testing.assert_allclose(p, want, rtol=1e-13, atol=0)
    assert abs(p.sum() - 1) < 1e-12


# -- the JSON format --------------------------------------------------------------------------
def training_names(ckpt) -> tuple[list[list[int]], object]:
    t = checkpoint.load(ckpt)
    names = t._names(t.train_rows)
    return [list(names.codes[s : s + n]) for s, n in zip(names.starts, names.lengths,
                                                            strict=True)], t


@pytest.mark.parametrize("model", ["ngram-1", "ngram-4", "ngram-6", "hybrid-gru"])
def test_json_tables_are_the_counts_a_plain_recount_gives(checkpoints, exports, model):
    names, t = training_names(checkpoints[model])
    doc = json.loads(exports[model]["json"].read_text(encoding="utf-8"))
    ngram, V = doc["ngram"], len(doc["vocabulary"])
    N = ngram["order"]
    assert (ngram["vocab_size"], ngram["start"], len(ngram["levels"])) == (V, V, N)
    assert doc["architecture"] == ({"preset": "default", "cell": "ngram", "order": N}
                                   if model.startswith("ngram") else
                                   {"preset": "default", "cell": "gru", "layers": 1, "hidden": 6,
                                    "dtype": t.config.dtype, "mix_ngram": 5})
    saved = t.sampler().params
    discounts = saved["discounts" if model.startswith("ngram") else "mix/discounts"]
    assert ngram["discounts"] == [float(d) for d in discounts]
    reference = ReferenceKN(names, V, N, ngram["discounts"])
    for k, level in enumerate(ngram["levels"], start=1):
        assert all(len(g) == k for g in level["grams"])
        assert dict(zip(map(tuple, level["grams"]), level["counts"], strict=True)) == \
            reference.counts[k]


def json_count_log_probs(ngram: dict, codes: list[int]) -> list[np.ndarray]:
    """A loader written from docs/export.md alone: the formula with dicts and loops."""
    V, N, S = ngram["vocab_size"], ngram["order"], ngram["start"]
    counts, totals, types = [], [], []
    for level in ngram["levels"]:
        a, A, T = {}, defaultdict(int), defaultdict(int)
        for gram, c in zip(level["grams"], level["counts"], strict=True):
            a[tuple(gram)] = c
            A[tuple(gram[:-1])] += c
            T[tuple(gram[:-1])] += 1
        counts.append(a), totals.append(A), types.append(T)
    history, out = [S] * (N - 1), []
    for target in codes + [0]:
        p = np.full(V, 1.0 / V)
        for k in range(1, N + 1):
            h = tuple(history[len(history) - (k - 1):]) if k > 1 else ()
            if h not in totals[k - 1]:
                continue
            d = ngram["discounts"][k - 1]
            p = np.array([(max(counts[k - 1].get(h + (w,), 0) - d, 0.0)
                           + d * types[k - 1][h] * p[w]) / totals[k - 1][h] for w in range(V)])
        out.append(np.log(p))
        history.append(target)
    return out


@pytest.mark.parametrize("model", ["ngram-1", "ngram-5", *HYBRIDS])
def test_a_loader_written_from_the_docs_scores_like_dinogui(checkpoints, exports, model):
    doc = json.loads(exports[model]["json"].read_text(encoding="utf-8"))
    got = []
    for name in NAMES:
        codes = json_codes(doc, name)
        steps = json_count_log_probs(doc["ngram"], codes)
        if "layers" in doc:  # lam p_net + (1 - lam) p_count
            lam = doc["mix_weight"]
            steps = [np.log(lam * np.exp(n) + (1 - lam) * np.exp(c))
                     for n, c in zip(json_net_log_probs(doc, codes), steps, strict=True)]
        got.append(sum(lp[t] for lp, t in zip(steps, codes + [0], strict=True)) / (len(codes) + 1))
    np.testing.assert_allclose(got, engine_scores(checkpoints[model]), atol=1e-9, rtol=0)


# -- packing ----------------------------------------------------------------------------------
def test_packed_tables_take_the_narrowest_unsigned_type(exports):
    module = load_module(exports["ngram-3"]["py"])
    for level in module.MODEL["ngram"]["levels"]:  # 19 symbols and 16 names: bytes
        assert level["grams"]["dtype"] == level["counts"]["dtype"] == "uint8"


def test_packed_tables_widen_for_symbols_and_counts_past_255(capsys, tmp_path):
    """300 letters (symbols past 255) and a bigram seen 300 times (a count past 255)."""
    corpus = tmp_path / "wide.txt"
    corpus.write_text("".join(chr(0x4E00 + i) + "a\n" for i in range(300)), encoding="utf-8")
    ckpt = tmp_path / "wide.safetensors"
    assert main(["train", "--corpus", str(corpus), "--cell", "ngram", "--order", "2",
                 "--val-fraction", "0", "--quiet", "--save", str(ckpt)]) == 0
    capsys.readouterr()
    doc = export.document(checkpoint.load(ckpt).sampler(), lowercase=True, packed=True)
    for level in doc["ngram"]["levels"]:  # "a" follows 300 letters; "a" ends 300 names
        assert level["grams"]["dtype"] == level["counts"]["dtype"] == "uint16"
    assert doc["ngram"]["levels"][1]["grams"]["shape"] == [601, 2]  # S x, x a; a end
    names = [chr(0x4E00 + 7) + "a", chr(0x4E00 + 299), "a"]
    code, out, err = run(capsys, "score", "--checkpoint", ckpt, *names)
    assert code == 0, err
    for fmt, suffix in (("py", ".py"), ("js", ".mjs")):
        if fmt == "js" and NODE is None:
            continue
        path = tmp_path / f"wide{suffix}"
        assert main(["export", "--checkpoint", str(ckpt), "--format", fmt, "--out",
                     str(path)]) == 0
        done = generator(path, "--score", *names)
        assert done.returncode == 0, done.stderr
        got = scores_of(done.stdout)
        for name, value in scores_of(out).items():
            assert abs(got[name] - value) <= 1e-6
