"""Every flag of `dinogui train` and `dinogui sample` does what it says, exactly.

Each test fails if its flag is ignored or off by one. Training flags are read
back from the checkpoint the run saves and from what the run did (steps taken,
weight shapes, weight moves, reports); sampling flags are checked against
tests/plain_rnn.py, the documented schemes written out in float64, so a shifted
seed or an ignored setting draws other names than the yardstick.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from dinogui.bench import seed as ref
from dinogui.cli import build_parser, main
from dinogui.core import checkpoint, recipe
from dinogui.core.config import TrainConfig
from dinogui.core.corpus import load_corpus
from dinogui.core.sample_spec import SampleSpec
from dinogui.core.trainer import Trainer
from tests import plain_rnn as plain

NAMES = ["Ada", "Bob", "Cyrus", "Dan", "Eve", "Finnegan", "Gus", "Hal", "Ivy", "Jo",
         "Kim", "Lou", "Max", "Ned", "Otto", "Pia", "Quinn", "Rex", "Sal", "Tom"]


def run(capsys, *argv) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def train(capsys, folder: Path, *argv, save: str = "t") -> tuple[Trainer, str]:
    """`dinogui train ARGV --save FOLDER/SAVE.ckpt`: the saved trainer and what was printed."""
    ckpt = folder / f"{save}.ckpt"
    code, out, err = run(capsys, "train", *argv, "--save", ckpt)
    assert code == 0, err
    return checkpoint.load(ckpt), out


def shown(names) -> list[str]:
    """As `dinogui sample` prints them: the first letter upper-case."""
    return [n[:1].upper() + n[1:] for n in names]


@pytest.fixture(scope="module")
def names_txt(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("corpus") / "names.txt"
    path.write_text("\n".join(NAMES) + "\n", encoding="utf-8")
    return path


def test_every_flag_has_a_test_here():
    """A new flag needs a test below: this list is the parser's, not a copy of it."""
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices
    flags = {cmd: sorted(o for a in sub[cmd]._actions for o in a.option_strings
                         if o.startswith("--") and o != "--help")
             for cmd in ("train", "sample")}
    source = Path(__file__).read_text(encoding="utf-8")
    missing = [f"{cmd} {f}" for cmd, fs in flags.items() for f in fs if f'"{f}"' not in source]
    assert not missing


# -- dinogui train ---------------------------------------------------------------------------

def test_order_and_mix_ngram_set_the_count_models_order(capsys, tmp_path, names_txt):
    """"--order" N: the count model's n-grams have N symbols; "--mix-ngram" N: the hybrid's."""
    for n in (2, 3):
        t, out = train(capsys, tmp_path, "--corpus", names_txt, "--cell", "ngram",
                       "--order", n, save=f"o{n}")
        assert t.config.order == n and t.params["grams"].shape[1] == n
        assert len(t.params["discounts"]) == n
        t, out = train(capsys, tmp_path, "--corpus", names_txt, "--cell", "gru", "--hidden", 4,
                       "--iterations", 2, "--mix-ngram", n, save=f"m{n}")
        assert t.config.mix_ngram == n and t.mix["grams"].shape[1] == n
        assert f"mixed with the {n}-gram at weight" in out

def test_corpus_and_no_lowercase(capsys, tmp_path, names_txt):
    t, _ = train(capsys, tmp_path, "--corpus", names_txt, "--iterations", 1)
    assert t.corpus.names == [n.lower() for n in NAMES] and t.corpus.lowercase
    t, out = train(capsys, tmp_path, "--corpus", names_txt, "--no-lowercase", "--iterations", 1)
    assert t.corpus.names == NAMES and not t.corpus.lowercase
    assert "A" in t.vocab.chars and "a" in t.vocab.chars
    assert t.vocab.size == 1 + len(set("".join(NAMES)))
    assert f"vocabulary {t.vocab.size}," in out


def test_preset(capsys, tmp_path, names_txt):
    classic, _ = train(capsys, tmp_path, "--corpus", names_txt, "--preset", "classic",
                       "--iterations", 2)
    assert classic.config.preset == "classic" and "Wax" in classic.params
    assert classic.history.column("names").tolist() == [1, 1]  # one name per step
    default, _ = train(capsys, tmp_path, "--corpus", names_txt, "--preset", "default",
                       "--iterations", 2)
    assert default.config.preset == "default" and default.optimizer.kind == "adam"
    assert default.history.column("names")[0] == len(default.train_rows)  # 32 > 18 names
    # no preset: the default one, as the window's first launch, its model picked for the list
    # by the recipe (core.recipe); any model flag shapes the model instead
    recipe_run, out = train(capsys, tmp_path, "--corpus", names_txt, "--iterations", 2)
    corpus = recipe_run.corpus
    assert recipe_run.config == TrainConfig.for_preset("default", **recipe.settings_for(corpus))
    assert (recipe_run.config.cell, recipe_run.config.mix_ngram) == ("gru", 5)
    assert "the default recipe for 20 names" in out
    shaped, out = train(capsys, tmp_path, "--corpus", names_txt, "--hidden", 9, "--iterations", 2)
    assert shaped.config == TrainConfig.for_preset("default", hidden=9)
    assert "recipe" not in out


@pytest.mark.parametrize("n", [0, 1, 7])
def test_iterations(capsys, tmp_path, names_txt, n):
    t, out = train(capsys, tmp_path, "--corpus", names_txt, "--iterations", n)
    assert t.iteration == n and len(t.history) == n
    assert f"trained to iteration {n}:" in out
    again, out = train(capsys, tmp_path, "--resume", tmp_path / "t.ckpt", "--iterations", 3,
                       save="again")
    assert again.iteration == n + 3 and f"trained to iteration {n + 3}:" in out


@pytest.mark.parametrize("preset", ["classic", "default"])
@pytest.mark.parametrize("hidden", [3, 17])
def test_hidden(capsys, tmp_path, names_txt, preset, hidden):
    t, out = train(capsys, tmp_path, "--corpus", names_txt, "--preset", preset, "--hidden",
                   hidden, "--iterations", 1)
    assert t.config.hidden == hidden and f"hidden {hidden}," in out
    W = t.params["Waa"] if preset == "classic" else t.params["W_h"]
    assert W.shape == (hidden, hidden)


@pytest.mark.parametrize("preset", ["classic", "default"])
def test_lr_and_clip_set_the_size_of_an_sgd_step(capsys, tmp_path, names_txt, preset):
    """SGD moves a weight by lr * clip(g): with a tiny clip the largest move is lr * clip."""
    sgd = (["--preset", "classic"] if preset == "classic"
           else ["--preset", "default", "--optimizer", "sgd"])
    common = ["--corpus", names_txt, *sgd, "--hidden", 8]
    start, _ = train(capsys, tmp_path, *common, "--iterations", 0)
    for lr, clip in ((0.5, 0.002), (2.0, 0.0005)):
        t, out = train(capsys, tmp_path, *common, "--lr", lr, "--clip", clip, "--iterations", 1)
        assert (t.config.lr, t.config.clip) == (lr, clip)
        assert f"lr {lr}, clip {clip}," in out
        move = max(float(np.abs(t.params[k].astype(float) - start.params[k]).max())
                   for k in t.params)
        assert move == pytest.approx(lr * clip, rel=1e-3)


def test_seed(capsys, tmp_path, names_txt):
    # seed 0 is the seed's own: np.random.seed(1) before the weights
    t0, _ = train(capsys, tmp_path, "--preset", "classic", "--corpus", names_txt, "--iterations", 0)
    V = t0.vocab.size
    want = ref.initialize_parameters(50, V, V)
    for k in want:
        np.testing.assert_array_equal(t0.params[k], want[k])
    corpus = load_corpus(names_txt)
    for seed in (3, 4):
        t, out = train(capsys, tmp_path, "--corpus", names_txt, "--preset", "default",
                       "--seed", seed, "--iterations", 0)
        assert t.config.seed == seed and f"seed {seed}," in out
        direct = Trainer(corpus, TrainConfig.for_preset("default", seed=seed,
                                                        **recipe.settings_for(corpus)))
        for k in direct.params:
            np.testing.assert_array_equal(t.params[k], direct.params[k])
    other = Trainer(corpus, TrainConfig.for_preset("default", seed=5))
    assert not np.array_equal(t.params["W_h"], other.params["W_h"])


@pytest.mark.parametrize("batch", [1, 4, 5])
def test_batch_size(capsys, tmp_path, names_txt, batch):
    t, out = train(capsys, tmp_path, "--corpus", names_txt, "--batch-size", batch,
                   "--val-fraction", 0, "--iterations", 3)
    assert t.config.batch_size == batch and f"batch {batch}," in out
    assert t.history.column("names").tolist() == [batch] * 3


@pytest.mark.parametrize(("cell", "layers"), [("rnn", 1), ("rnn", 2), ("gru", 1), ("gru", 3),
                                              ("lstm", 2)])
def test_cell_and_layers(capsys, tmp_path, names_txt, cell, layers):
    t, out = train(capsys, tmp_path, "--corpus", names_txt, "--cell", cell, "--layers", layers,
                   "--hidden", 6, "--iterations", 1)
    assert (t.config.cell, t.config.layers) == (cell, layers)
    assert f"{cell} x{layers}," in out
    prefixes = {k.split("/")[0] for k in t.params if "/" in k}
    assert prefixes == ({f"l{i}" for i in range(layers)} if layers > 1 else set())
    # a gru layer has 3 gate blocks, an lstm 4, a tanh rnn 1: the recurrent weights say which
    W_h = next(v for k, v in t.params.items() if k.endswith("W_h"))
    assert W_h.shape == (6, 6 * {"rnn": 1, "gru": 3, "lstm": 4}[cell])


def test_dropout(capsys, tmp_path, names_txt):
    common = ["--corpus", names_txt, "--cell", "gru", "--hidden", 8, "--iterations", 2]
    plain_run, _ = train(capsys, tmp_path, *common)
    for p in (0.1, 0.5):
        t, out = train(capsys, tmp_path, *common, "--dropout", p)
        assert t.config.dropout == p and f"dropout {p}," in out
        # the same weights and batches: only dropout makes the first loss differ
        assert t.history.column("loss")[0] != plain_run.history.column("loss")[0]
    assert plain_run.config.dropout == 0.0


@pytest.mark.parametrize(("kind", "slots"), [("sgd", set()), ("adagrad", {"mem"}),
                                             ("adam", {"m", "v"})])
def test_optimizer(capsys, tmp_path, names_txt, kind, slots):
    t, out = train(capsys, tmp_path, "--corpus", names_txt, "--optimizer", kind,
                   "--iterations", 2)
    assert t.config.optimizer == kind and t.optimizer.kind == kind and f"{kind}," in out
    assert {k.split("/")[0] for k in t.optimizer.state} == slots
    assert t.optimizer.t == 2


@pytest.mark.parametrize(("fraction", "held_out"), [(0.0, 0), (0.05, 1), (0.25, 5), (0.3, 6)])
def test_val_fraction(capsys, tmp_path, names_txt, fraction, held_out):
    t, out = train(capsys, tmp_path, "--corpus", names_txt, "--preset", "default",
                   "--val-fraction", fraction, "--iterations", 1)
    assert t.config.val_fraction == fraction
    assert len(t.val_rows) == held_out and len(t.train_rows) == len(NAMES) - held_out
    assert ("held-out loss" in out) == (held_out > 0)


@pytest.mark.parametrize("every", [1, 4, 7])
def test_val_every(capsys, tmp_path, names_txt, every):
    t, _ = train(capsys, tmp_path, "--corpus", names_txt, "--preset", "default",
                 "--val-every", every, "--sample-every", 1000, "--iterations", 3 * every + 1)
    assert t.config.val_every == every
    assert t.state.val_iterations == [0, every, 2 * every, 3 * every]


@pytest.mark.parametrize("patience", [1, 2, 4])
def test_patience(capsys, tmp_path, names_txt, patience):
    """Training stops at the first check that is the patience-th in a row without a new
    best, worked out here from a run without patience (patience never changes training)."""
    common = ["--corpus", names_txt, "--preset", "default", "--batch-size", 4, "--val-fraction",
              0.25, "--val-every", 3, "--lr", 0.05, "--hidden", 16, "--sample-every", 1000]
    free, _ = train(capsys, tmp_path, *common, "--iterations", 150, save="free")
    losses, its = free.state.val_losses, free.state.val_iterations
    stale = [k - int(np.argmin(losses[: k + 1])) for k in range(len(losses))]
    stop = its[next(k for k, n in enumerate(stale) if n >= patience)]
    t, out = train(capsys, tmp_path, *common, "--iterations", 150, "--patience", patience)
    assert t.config.patience == patience
    assert t.iteration == stop + 1 and f"trained to iteration {stop + 1}" in out
    assert free.iteration == 150 and free.config.patience == 0


@pytest.mark.parametrize(("every", "samples"), [(1, 0), (4, 1), (7, 4)])
def test_sample_every_and_samples(capsys, tmp_path, names_txt, every, samples):
    log = tmp_path / "log.jsonl"
    t, out = train(capsys, tmp_path, "--preset", "classic",
                   "--corpus", names_txt, "--sample-every", every,
                   "--samples", samples, "--iterations", 2 * every + 1, "--log-jsonl", log)
    assert (t.config.sample_every, t.config.samples) == (every, samples)
    reports = [json.loads(line) for line in log.read_text().splitlines()[:-1]]
    assert [r["iteration"] for r in reports] == [0, every, 2 * every]
    assert [len(r["samples"]) for r in reports] == [samples] * 3
    assert [line.split(",")[0] for line in out.splitlines() if line.startswith("Iteration")] \
        == [f"Iteration: {j}" for j in (0, every, 2 * every)]


def test_save_resume_and_live_flags_on_resume(capsys, tmp_path, names_txt):
    """--resume continues the saved run; --lr --clip --sample-every --samples --val-every
    change it from the next step on."""
    first, _ = train(capsys, tmp_path, "--corpus", names_txt, "--preset", "default",
                     "--val-fraction", 0.25, "--iterations", 5, save="first")
    log = tmp_path / "r.jsonl"
    t, out = train(capsys, tmp_path, "--resume", tmp_path / "first.ckpt", "--iterations", 7,
                   "--lr", 0.02, "--clip", 3, "--sample-every", 3, "--samples", 2,
                   "--val-every", 2, "--log-jsonl", log)
    assert "starting at iteration 5" in out and t.iteration == 12
    assert (t.config.lr, t.config.clip) == (0.02, 3.0)
    assert (t.config.sample_every, t.config.samples, t.config.val_every) == (3, 2, 2)
    reports = [json.loads(line) for line in log.read_text().splitlines()[:-1]]
    reports = [r for r in reports if "event" not in r]  # not the held-out checks
    assert [(r["iteration"], len(r["samples"])) for r in reports] == [(6, 2), (9, 2)]
    assert t.state.val_iterations[len(first.state.val_iterations):] == [6, 8, 9, 10]
    assert t.corpus.names == first.corpus.names and np.array_equal(t.val_rows, first.val_rows)


def test_log_jsonl_and_quiet(capsys, tmp_path, names_txt):
    log = tmp_path / "q.jsonl"
    code, out, err = run(capsys, "train", "--preset", "classic",
                         "--corpus", names_txt, "--iterations", 5,
                         "--sample-every", 2, "--quiet", "--log-jsonl", log)
    assert code == 0, err
    assert out.splitlines()[0].startswith("trained to iteration 5:") and len(out.splitlines()) == 1
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r.get("iteration") for r in rows] == [0, 2, 4, None]
    assert rows[-1]["event"] == "done" and rows[-1]["iterations"] == 5
    code, out, _ = run(capsys, "train", "--preset", "classic",
                       "--corpus", names_txt, "--iterations", 5,
                       "--sample-every", 2)
    assert len(out.splitlines()) > 5  # without --quiet: the header and the reports


# -- dinogui sample --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """Each preset after 300 steps on the bundled corpus: {preset: (checkpoint, trainer)}."""
    folder = tmp_path_factory.mktemp("models")
    out = {}
    for preset in ("classic", "default"):
        path = folder / f"{preset}.ckpt"
        # default: its plain RNN (a model flag, so no recipe), which tests/plain_rnn.py redoes
        shape = ["--cell", "rnn"] if preset == "default" else []
        assert main(["train", "--preset", preset, *shape, "--iterations", "300", "--quiet",
                     "--save", str(path)]) == 0
        out[preset] = (path, checkpoint.load(path))
    return out


def sample(capsys, ckpt, *argv) -> list[str]:
    code, out, err = run(capsys, "sample", "--checkpoint", ckpt, *argv)
    assert code == 0, err
    return out.splitlines()


@pytest.mark.parametrize("preset", ["classic", "default"])
@pytest.mark.parametrize("count", [1, 13])
def test_count(capsys, models, preset, count):
    assert len(sample(capsys, models[preset][0], "--count", count)) == count


@pytest.mark.parametrize("seed", [0, 5])
@pytest.mark.parametrize("temperature", [None, 0.7, 1.6])
def test_seed_and_temperature(capsys, models, seed, temperature):
    """The seed's scheme for classic models, one generator for default ones (README)."""
    T = [] if temperature is None else ["--temperature", temperature]
    for preset in ("classic", "default"):
        path, t = models[preset]
        got = sample(capsys, path, "--count", 8, "--seed", seed, *T)
        want = plain.drawn_unconstrained(t.params, seed, 8, temperature or 1.0)
        assert got == shown(t.vocab.decode(n) for n in want), preset


@pytest.mark.parametrize("preset", ["classic", "default"])
@pytest.mark.parametrize("max_len", [1, 5, 12])
def test_max_len(capsys, models, preset, max_len):
    path, t = models[preset]
    got = sample(capsys, path, "--count", 40, "--max-len", max_len, "--temperature", 2)
    want = plain.drawn_unconstrained(t.params, 0, 40, 2.0, max_len)
    assert got == shown(t.vocab.decode(n) for n in want)
    assert max(map(len, got)) == max_len


@pytest.mark.parametrize("preset", ["classic", "default"])
@pytest.mark.parametrize("k", [1, 2, 5])
def test_top_k(capsys, models, preset, k):
    path, t = models[preset]
    got = sample(capsys, path, "--count", 30, "--top-k", k, "--seed", 2)
    assert got == shown(t.vocab.decode(n) for n in plain.block_scheme(t.params, 2, 30, top_k=k))
    if k == 1:
        assert len(set(got)) == 1  # greedy: one name


@pytest.mark.parametrize("preset", ["classic", "default"])
@pytest.mark.parametrize("prefix", ["s", "TYR"])
def test_prefix(capsys, models, preset, prefix):
    path, t = models[preset]
    got = sample(capsys, path, "--count", 20, "--prefix", prefix, "--seed", 1)
    want = plain.block_scheme(t.params, 1, 20, prefix=t.vocab.encode(prefix.lower()))
    assert got == shown(t.vocab.decode(n) for n in want)
    assert all(n.lower().startswith(prefix.lower()) for n in got)


@pytest.mark.parametrize(("lo", "hi"), [(3, 6), (9, 13)])
def test_min_len(capsys, models, lo, hi):
    path, t = models["classic"]
    got = sample(capsys, path, "--count", 200, "--min-len", lo, "--max-len", hi, "--seed", 4)
    assert got == shown(t.vocab.decode(n) for n in
                        plain.block_scheme(t.params, 4, 200, min_len=lo, max_len=hi))
    assert {len(n) for n in got} == set(range(lo, hi + 1))


def test_suffix(capsys, models):
    path, t = models["default"]
    code, out, err = run(capsys, "sample", "--checkpoint", path, "--count", 6,
                         "--suffix", "Saurus", "--seed", 3)
    assert code == 0, err
    got = out.splitlines()
    rejected, drawn = (int(w) for w in (err.split("rejected ")[1].split()[0],
                                        err.split("(")[1].split()[0]))
    candidates = [t.vocab.decode(n) for n in plain.block_scheme(t.params, 3, drawn)]
    kept = [n for n in candidates if n.endswith("saurus")]
    assert got == shown(kept) and len(kept) == 6 and rejected == drawn - 6
    assert candidates[-1].endswith("saurus")  # the draw stopped at the sixth


def test_new_only_and_corpus(capsys, tmp_path, names_txt):
    t, _ = train(capsys, tmp_path, "--corpus", names_txt, "--preset", "default", "--hidden", 32,
                 "--lr", 0.05, "--val-fraction", 0, "--iterations", 40)  # learns many by heart
    path, known = tmp_path / "t.ckpt", set(t.corpus.names)
    code, out, err = run(capsys, "sample", "--checkpoint", path, "--count", 10, "--new-only")
    assert code == 0, err
    dropped, drawn = int(err.split("dropped ")[1].split()[0]), int(err.split("(")[1].split()[0])
    candidates = [t.vocab.decode(n) for n in plain.block_scheme(t.params, 0, drawn)]
    assert out.splitlines() == shown(n for n in candidates if n not in known)
    assert dropped == sum(n in known for n in candidates) > 0
    # --corpus: the names compared with are that file's, not the checkpoint's
    first_two = out.splitlines()[:2]
    other = tmp_path / "other.txt"
    other.write_text("\n".join(first_two) + "\n", encoding="utf-8")
    code, out2, err = run(capsys, "sample", "--checkpoint", path, "--count", 10, "--new-only",
                          "--corpus", other)
    assert code == 0, err
    expect = [n for n in candidates if n not in {x.lower() for x in first_two}]
    assert len(expect) >= 10 and out2.splitlines() == shown(expect[:10])
    assert not set(out2.splitlines()) & set(first_two)


def test_scores_and_corpus(capsys, models, tmp_path):
    path, t = models["default"]
    lines = sample(capsys, path, "--count", 4, "--seed", 6, "--scores")
    names = [t.vocab.decode(n) for n in plain.drawn_unconstrained(t.params, 6, 4)]
    net = plain.PlainRNN(t.params)
    for line, name in zip(lines, names, strict=True):
        shown_name, loglik, nearest = line.split("\t")
        assert shown_name == shown([name])[0]
        assert float(loglik) == pytest.approx(-net.loss_per_char([t.vocab.encode(name)]),
                                              abs=6e-5)
        best = min(t.corpus.names, key=lambda c: plain.levenshtein(name, c))  # earliest on ties
        assert nearest == shown([best])[0]
    other = tmp_path / "few.txt"
    other.write_text("Abc\nSaurus\nZz\n", encoding="utf-8")
    lines = sample(capsys, path, "--count", 4, "--seed", 6, "--scores", "--corpus", other)
    for line, name in zip(lines, names, strict=True):
        best = min(["abc", "saurus", "zz"], key=lambda c: plain.levenshtein(name, c))
        assert line.split("\t")[2] == shown([best])[0]


def test_best(capsys, tmp_path, names_txt):
    """--best samples the parameters of the lowest held-out loss, not the latest."""
    t, _ = train(capsys, tmp_path, "--corpus", names_txt, "--preset", "default",
                 "--batch-size", 4, "--val-fraction", 0.25, "--val-every", 3, "--lr", 0.05,
                 "--hidden", 16, "--iterations", 90)
    assert t.state.best_iteration < 87
    path = tmp_path / "t.ckpt"
    best = sample(capsys, path, "--count", 12, "--best", "--seed", 2)
    latest = sample(capsys, path, "--count", 12, "--seed", 2)
    for got, params in ((best, t.best_params), (latest, t.params)):
        assert got == shown(t.vocab.decode(n) for n in plain.drawn_unconstrained(params, 2, 12))
    assert best != latest


def test_stop_on_blowup(capsys, tmp_path, names_txt):
    """A healthy run trains as without it; a blow-up (a rate of 0.05: seen at 1,504 with
    SkylakeX's BLAS kernel, earlier with others, the run being chaotic by then) stops, and
    --save writes the good weights: those of a run stopped at their iteration."""
    healthy, out = train(capsys, tmp_path, "--preset", "classic",
                         "--corpus", names_txt, "--iterations", 600,
                         "--stop-on-blowup", save="healthy")
    plain_run, _ = train(capsys, tmp_path, "--preset", "classic",
                         "--corpus", names_txt, "--iterations", 600,
                         save="plain")
    assert healthy.iteration == 600 and "stopped: iterations" in out
    np.testing.assert_array_equal(healthy.params["Wya"], plain_run.params["Wya"])

    code, out, err = run(capsys, "train", "--preset", "classic",
                         "--corpus", names_txt, "--lr", 0.05, "--iterations",
                         3000, "--sample-every", 50, "--stop-on-blowup", "--save",
                         tmp_path / "b.ckpt")
    assert code == 0 and "stopped: blowup" in out and "going back to them" in err
    kept = checkpoint.load(tmp_path / "b.ckpt")
    good = int(err.split("weights from iteration ")[1].split()[0].replace(",", ""))
    seen = int(err.split("blew up at iteration ")[1].split()[0].replace(",", ""))
    # copies every 500 iterations, the kept one over LAG steps before the blow-up was seen
    assert kept.iteration == good and good % 500 == 0 and 0 < good < seen
    straight, _ = train(capsys, tmp_path, "--preset", "classic",
                        "--corpus", names_txt, "--lr", 0.05, "--iterations",
                        good, "--sample-every", 50, save="straight")
    for k, v in straight.params.items():
        np.testing.assert_array_equal(kept.params[k], v, err_msg=k)


@pytest.mark.parametrize("preset", ["classic", "default"])
@pytest.mark.parametrize(("p", "k"), [(0.3, None), (0.75, None), (0.75, 4)])
def test_top_p(capsys, models, preset, p, k):
    path, t = models[preset]
    K = [] if k is None else ["--top-k", k]
    got = sample(capsys, path, "--count", 30, "--top-p", p, *K, "--seed", 2)
    want = plain.block_scheme(t.params, 2, 30, top_k=k, top_p=p)
    assert got == shown(t.vocab.decode(n) for n in want)
    assert got != sample(capsys, path, "--count", 30, *K, "--seed", 2)  # not ignored
    assert got != sample(capsys, path, "--count", 30, "--top-p", p + 0.1, *K, "--seed", 2)


@pytest.mark.parametrize("bad", ["0", "1.5", "-1", "x"])
def test_top_p_and_beam_refuse_bad_values_in_one_line(capsys, models, bad):
    path, _ = models["classic"]
    for flag in ("--top-p", "--beam"):
        code, out, err = run(capsys, "sample", "--checkpoint", path, flag, bad)
        assert code == 2 and out == "" and len(err.splitlines()) == 1, err
        assert err.startswith(f"dinogui: error: argument {flag}: '{bad}'")
    code, out, err = run(capsys, "sample", "--checkpoint", path, "--beam", 3, "--count", 5)
    assert code == 2 and out == "" and err.splitlines() == [
        "dinogui: error: --beam 3 keeps 3 names at each length, fewer than --count 5: "
        "give --beam 5 or more, or --beam alone"]


@pytest.mark.parametrize("preset", ["classic", "default"])
def test_beam(capsys, models, preset):
    """--beam W: W names; --beam alone: --count names; --beam W --count N: N of a width-W beam.
    Deterministic, most likely first by the plain RNN's probability of drawing each."""
    path, t = models[preset]
    s = t.sampler()
    eight = sample(capsys, path, "--beam", 8)
    assert eight == shown(s.beam(8).names) and len(set(eight)) == 8
    assert sample(capsys, path, "--beam", 8, "--seed", 5) == eight  # no seed involved
    assert sample(capsys, path, "--beam", "--count", 8) == eight
    assert sample(capsys, path, "--beam") == shown(s.beam(10).names)  # --count's default
    wide = sample(capsys, path, "--beam", 40, "--count", 8)
    assert wide == shown(s.beam(8, width=40).names)
    lp = [plain.log_prob(t.params, t.vocab.encode(n.lower())) for n in wide]
    assert lp == sorted(lp, reverse=True)
    assert lp[-1] >= plain.log_prob(t.params, t.vocab.encode(eight[-1].lower())) - 1e-9

    p = {"classic": 0.7, "default": 0.95}[preset]  # narrow, yet with 8 names to give
    flags = ["--top-p", p, "--top-k", 8, "--temperature", 0.9, "--min-len", 4,
             "--max-len", 9, "--prefix", "s"]
    got = sample(capsys, path, "--beam", 8, *flags)
    spec = dict(temperature=0.9, top_k=8, top_p=p, min_len=4, max_len=9, prefix="s")
    assert got == shown(s.beam(8, SampleSpec(**spec)).names)
    assert all(n.startswith("S") and 4 <= len(n) <= 9 for n in got)
    lp = [plain.log_prob(t.params, t.vocab.encode(n.lower()), 0.9, 8, 4, p, prefix=1)
          for n in got]
    assert lp == sorted(lp, reverse=True) and lp[-1] > -np.inf
    assert got != sample(capsys, path, "--beam", 8, *flags[2:])  # --top-p not ignored

    lines = sample(capsys, path, "--beam", 5, "--scores")
    assert [line.split("\t")[0] for line in lines] == shown(s.beam(5).names)
    net = plain.PlainRNN(t.params)
    for line in lines:
        name, loglik, _ = line.split("\t")
        assert float(loglik) == pytest.approx(
            -net.loss_per_char([t.vocab.encode(name.lower())]), abs=6e-5)


def test_beam_new_only_and_suffix(capsys, models):
    path, t = models["default"]
    known = {shown([n])[0] for n in t.corpus.names}
    code, out, err = run(capsys, "sample", "--checkpoint", path, "--beam", 15, "--new-only",
                         "--suffix", "us")
    assert code == 0, err
    got = out.splitlines()
    assert len(got) == 15 and not set(got) & known and all(n.endswith("us") for n in got)
    assert err.startswith("dropped ") and "finished for 15" in err
    # too few within the bound: those found, then one line saying so
    code, out, err = run(capsys, "sample", "--checkpoint", path, "--beam", 2, "--suffix", "qqq",
                         "--max-len", 5)
    assert code == 2 and out == "" and len(err.splitlines()) == 1
    assert "the beam of width 2 found only 0 of 2 names" in err


# -- schedules, weight decay, budgets ----------------------------------------------------
@pytest.mark.parametrize("schedule", ["cosine", "linear"])
def test_lr_schedule_and_warmup(capsys, tmp_path, names_txt, schedule):
    t, out = train(capsys, tmp_path, "--corpus", names_txt, "--preset", "default",
                   "--lr-schedule", schedule, "--warmup", 3, "--iterations", 12,
                   "--lr", 0.02)
    c = t.config
    assert (c.lr_schedule, c.warmup, c.schedule_iterations) == (schedule, 3, 12)
    assert f"({schedule} to iteration 12, warm-up 3)" in out
    # the same steps as a trainer given the same settings
    twin = Trainer(load_corpus(names_txt), TrainConfig.for_preset(
        "default", lr=0.02, lr_schedule=schedule, warmup=3, schedule_iterations=12))
    twin.run(12)
    for k, v in twin.params.items():
        np.testing.assert_array_equal(t.params[k], v, err_msg=k)


def test_weight_decay(capsys, tmp_path, names_txt):
    t, out = train(capsys, tmp_path, "--corpus", names_txt, "--weight-decay", 0.25,
                   "--iterations", 3)
    assert (t.config.preset, t.config.weight_decay) == ("default", 0.25)  # implies default
    assert "weight decay 0.25" in out
    code, _, err = run(capsys, "train", "--corpus", names_txt, "--preset", "classic",
                       "--weight-decay", 0.1)
    assert code == 2 and err.count("\n") == 1 and "--weight-decay needs the default preset" in err


@pytest.mark.parametrize(("argv", "why"), [
    (["--seconds", 0], "argument --seconds: '0' must be a positive number"),
    (["--warmup", 50, "--iterations", 10], "--warmup 50 is longer than the run (--iterations 10)"),
    (["--lr-schedule", "steep"], "argument --lr-schedule: invalid choice: 'steep'"),
])
def test_bad_schedules_and_budgets_get_one_line(capsys, names_txt, argv, why):
    code, out, err = run(capsys, "train", "--corpus", names_txt, *argv)
    assert code == 2 and out == "" and err.count("\n") == 1 and why in err, err


class FakeClock:
    """Each reading is `tick` seconds after the last: time without sleeping."""

    def __init__(self, tick: float) -> None:
        self.now, self.tick = 0.0, tick

    def __call__(self) -> float:
        self.now += self.tick
        return self.now


def test_seconds_stops_the_run_when_the_time_is_up(capsys, tmp_path, names_txt, monkeypatch):
    from dinogui import cli

    # readings: the start, then two per step (before and after): 1 s per step, 0.5 a reading
    monkeypatch.setattr(cli, "clock", FakeClock(0.5))
    log = tmp_path / "s.jsonl"
    t, out = train(capsys, tmp_path, "--corpus", names_txt, "--preset", "default",
                   "--seconds", 5, "--iterations", 100, "--log-jsonl", log)
    # before step k the clock reads 0.5 + k s past the start: 5 steps fit in 5 s
    assert t.iteration == 5
    assert out.splitlines()[-2].endswith("stopped: seconds") or "stopped: seconds" in out
    done = json.loads(log.read_text().splitlines()[-1])
    assert (done["event"], done["stopped"], done["iterations"]) == ("done", "seconds", 5)
    # iterations first: stopped by them
    monkeypatch.setattr(cli, "clock", FakeClock(0.5))
    t, out = train(capsys, tmp_path, "--corpus", names_txt, "--preset", "default",
                   "--seconds", 5, "--iterations", 3)
    assert t.iteration == 3 and "stopped: iterations" in out


def test_seconds_alone_with_a_schedule_ends_the_schedule_at_the_estimate(
        capsys, tmp_path, names_txt, monkeypatch):
    from dinogui import cli

    # the probe reads the clock before and after its 20 steps: 0.01 s for 20, 0.0005 s a step
    monkeypatch.setattr(cli, "clock", FakeClock(0.01))
    t, out = train(capsys, tmp_path, "--corpus", names_txt, "--preset", "default",
                   "--seconds", 0.3, "--lr-schedule", "cosine")
    horizon = cli.PROBE_MARGIN * 0.3 * cli.PROBE_STEPS / 0.01  # 510 iterations fit
    assert abs(t.config.schedule_iterations - horizon) <= 1
    # the run's clock: 0.02 s a step (two readings), so the time is up after 15 steps
    assert t.iteration == 15 and "stopped: seconds" in out


def test_every_held_out_check_is_logged(capsys, tmp_path, names_txt):
    log = tmp_path / "v.jsonl"
    t, _ = train(capsys, tmp_path, "--corpus", names_txt, "--preset", "default",
                 "--val-every", 3, "--sample-every", 5, "--iterations", 10, "--log-jsonl", log)
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    checks = [r for r in rows if r.get("event") == "val"]
    assert [r["iteration"] for r in checks] == t.state.val_iterations == [0, 3, 5, 6, 9]
    assert [r["val_loss"] for r in checks] == t.state.val_losses
    assert set(checks[0]) == {"event", "iteration", "val_loss"}
    done = rows[-1]
    assert done["best_val_loss"] == min(t.state.val_losses)
    assert done["best_iteration"] == t.state.val_iterations[
        int(np.argmin(t.state.val_losses))]


def test_val_file_holds_out_exactly_its_names(capsys, tmp_path, names_txt):
    """"--val-file" PATH: its names are the held-out names (tests/test_val_file.py: the rest)."""
    held = tmp_path / "held.txt"
    held.write_text("Ivy\nJo\nTed\n", encoding="utf-8")
    t, out = train(capsys, tmp_path, "--corpus", names_txt, "--val-file", held, "--preset",
                   "default", "--iterations", 3)
    assert [t.vocab.decode(t._encoded[i]) for i in t.val_rows] == ["ivy", "jo", "ted"]
    assert len(t.train_rows) == len(NAMES) - 2 and "held-out loss" in out
def test_label_is_refused_by_a_plain_model_and_picks_a_kind_of_a_labelled_one(capsys, tmp_path):
    """"--label": a plain model has none to pick; a labelled one draws that kind's names."""
    (tmp_path / "k.tsv").write_text("".join(f"{'ab' * (i % 3 + 2)}\tab\n{'xy' * (i % 3 + 2)}"
                                            "\txy\n" for i in range(30)))
    t, _ = train(capsys, tmp_path, "--corpus", tmp_path / "k.tsv", "--cell", "gru", "--hidden",
                 16, "--lr", 0.02, "--iterations", 200, save="k")
    assert t.corpus.labels == ("ab", "xy")
    code, out, err = run(capsys, "sample", "--checkpoint", tmp_path / "k.ckpt", "--label", "xy",
                         "--count", 30, "--temperature", 0.5)
    assert code == 0, err
    assert set("".join(out.split()).lower()) == set("xy")
    plain, _ = train(capsys, tmp_path, "--corpus", names_txt_plain(tmp_path), "--iterations", 1,
                     save="p")
    code, out, err = run(capsys, "sample", "--checkpoint", tmp_path / "p.ckpt", "--label", "xy")
    assert code == 2 and out == "" and "this model has no labels" in err


def names_txt_plain(folder: Path) -> Path:
    (folder / "plain.txt").write_text("anna\nbert\ncarla\n")
    return folder / "plain.txt"
