"""The held-out split, its loss, and the best parameters kept beside the latest."""

import json

import numpy as np
import pytest

from dinogui.bench import seed as ref
from dinogui.cli import main
from dinogui.core import checkpoint
from dinogui.core.config import TrainConfig
from dinogui.core.corpus import corpus_from_names, load_corpus
from dinogui.core.trainer import Trainer
from dinogui.core.validation import split_indices

NAMES = ["ada", "bob", "cyrus", "dan", "eve", "finnegan", "gus", "hal", "ivy", "jo",
         "kim", "lou", "max", "ned", "otto", "pia", "quinn", "rex", "sal", "tom"]


def test_split_is_fixed_by_the_seed_and_disjoint():
    a = split_indices(100, 0.1, seed=3)
    b = split_indices(100, 0.1, seed=3)
    c = split_indices(100, 0.1, seed=4)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(a[1], c[1])
    train, val = a
    assert len(val) == 10 and len(train) == 90
    assert set(train).isdisjoint(val) and set(train) | set(val) == set(range(100))
    assert len(split_indices(10, 0.0, 0)[1]) == 0


def test_trainer_never_trains_on_held_out_names():
    corpus = corpus_from_names(NAMES)
    t = Trainer(corpus, TrainConfig.for_preset("default", batch_size=4, val_fraction=0.25))
    assert set(t.state.order.tolist()) == set(t.train_rows.tolist())
    for _ in range(12):  # three epochs: the reshuffles keep to the training rows
        t.step()
        assert set(t.state.order.tolist()) == set(t.train_rows.tolist())


def plain_val_loss(params, corpus, rows):
    """Per-character loss with the seed's forward pass, each name from a zero state."""
    stoi = corpus.vocab.stoi
    total, chars = 0.0, 0
    for i in rows:
        name = corpus.names[i]
        X = [None] + [stoi[c] for c in name]
        Y = X[1:] + [0]
        loss, _ = ref.rnn_forward(X, Y, np.zeros((params["Waa"].shape[0], 1)), params,
                                  corpus.vocab.size)
        total += loss
        chars += len(X)
    return total / chars


def test_classic_validation_loss_equals_the_plain_computation():
    corpus = corpus_from_names(NAMES)
    t = Trainer(corpus, TrainConfig(val_fraction=0.2, val_every=10, sample_every=1000))
    reports = t.run(30)
    assert [r.iteration for r in reports] == [0]
    assert t.state.val_iterations == [0, 10, 20]
    assert reports[0].val_loss == t.state.val_losses[0]
    want = plain_val_loss(t.params, corpus, t.val_rows)
    assert t.validate() == pytest.approx(want, rel=1e-10)


def test_best_parameters_are_kept_and_sampled(tiny_corpus, tmp_path):
    corpus = corpus_from_names(NAMES)
    t = Trainer(corpus, TrainConfig.for_preset("default", batch_size=4, val_fraction=0.2,
                                               val_every=5, lr=0.05, hidden=16))
    t.run(60)
    st = t.state
    assert st.best_val == min(st.val_losses)
    best_at = st.val_iterations[int(np.argmin(st.val_losses))]
    assert st.best_iteration == best_at
    path = checkpoint.save(t, tmp_path / "c.npz")
    back = checkpoint.load(path)
    assert back.state.val_losses == st.val_losses and back.state.best_val == st.best_val
    for k in t.best_params:
        assert np.array_equal(back.best_params[k], t.best_params[k])
    assert back.sampler(best=True).sample(5, seed=1) == t.sampler(best=True).sample(5, seed=1)


@pytest.mark.parametrize("preset", ["classic", "default"])
def test_resume_with_validation_is_exact(tmp_path, preset):
    corpus = corpus_from_names(NAMES)
    cfg = TrainConfig.for_preset(preset, batch_size=4, val_fraction=0.2, val_every=7)
    straight = Trainer(corpus, cfg)
    straight.run(50)
    half = Trainer(corpus, cfg)
    half.run(25)
    resumed = checkpoint.load(checkpoint.save(half, tmp_path / "h.npz"))
    resumed.run(25)
    assert resumed.state.val_losses == straight.state.val_losses
    for k in straight.params:
        assert np.array_equal(resumed.params[k], straight.params[k])


def test_cli_reports_gain_val_loss(capsys, tmp_path):
    corpus = tmp_path / "names.txt"
    corpus.write_text("\n".join(NAMES) + "\n")
    log = tmp_path / "log.jsonl"
    code = main(["train", "--corpus", str(corpus), "--preset", "default", "--iterations", "21",
                 "--sample-every", "10", "--val-fraction", "0.2", "--val-every", "5",
                 "--log-jsonl", str(log), "--batch-size", "4", "--optimizer", "adagrad"])
    out = capsys.readouterr().out
    assert code == 0
    assert "held-out loss per character" in out
    reports = [json.loads(line) for line in log.read_text().splitlines()[:-1]]
    reports = [r for r in reports if "event" not in r]  # the reports, not the checks
    assert [r["iteration"] for r in reports] == [0, 10, 20]
    assert all(isinstance(r["val_loss"], float) for r in reports)


def test_cli_without_validation_has_no_val_loss(capsys, tiny_corpus, tmp_path):
    log = tmp_path / "log.jsonl"
    main(["train", "--preset", "classic",
          "--corpus", str(tiny_corpus), "--iterations", "3", "--sample-every", "2",
          "--log-jsonl", str(log)])
    reports = [json.loads(line) for line in log.read_text().splitlines()[:-1]]
    assert reports and all("val_loss" not in r for r in reports)


def test_bad_fraction_is_a_usage_error(capsys, tiny_corpus):
    assert main(["train", "--corpus", str(tiny_corpus), "--val-fraction", "0.9"]) == 2
    assert "between 0 and 0.5" in capsys.readouterr().err


def test_classic_default_stays_the_seed_without_a_split(tiny_corpus):
    t = Trainer(load_corpus(tiny_corpus), TrainConfig.for_preset("classic"))
    assert t.config.val_fraction == 0.0 and len(t.val_rows) == 0
    with pytest.raises(ValueError, match="no names are held out"):
        t.validate()
