"""The count model and the hybrid, reached as a user reaches them: `dinogui train --cell ngram
--order N` and `--mix-ngram N`, sampling and scoring their checkpoints, and what loading
refuses."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from dinogui.cli import main
from dinogui.core import checkpoint
from dinogui.core.config import TrainConfig
from dinogui.core.corpus import corpus_from_names, load_corpus
from dinogui.core.models.mixture import target_probs
from dinogui.core.models.ngram import KneserNey
from dinogui.core.trainer import Trainer
from tests.checkpoint_files import read, write

NAMES = ["anna", "anne", "annie", "bella", "bell", "belle", "carla", "carl", "carlo", "dora",
         "doris", "dorian", "emma", "emmet", "emily", "fanny", "fenna", "fiona", "gina", "gino",
         "hanna", "hannes", "ida", "ines", "irene", "jana", "jan", "jonas", "karla", "karl"]


def run(capsys, *argv) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def corpus_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("c") / "names.txt"
    path.write_text("\n".join(NAMES) + "\n", encoding="utf-8")
    return path


def held_out(trainer: Trainer):
    return trainer._names(trainer.val_rows)


def test_train_ngram_fits_in_one_step_and_tunes_on_the_held_out_names(capsys, tmp_path,
                                                                      corpus_file):
    ckpt, log = tmp_path / "n.safetensors", tmp_path / "log.jsonl"
    code, out, err = run(capsys, "train", "--corpus", corpus_file, "--cell", "ngram", "--order",
                         3, "--val-fraction", 0.2, "--iterations", 100, "--save", ckpt,
                         "--log-jsonl", log)
    assert code == 0, err
    assert "count model (interpolated Kneser-Ney), order 3" in out
    assert "trained to iteration 1:" in out and "stopped: fitted" in out
    t = checkpoint.load(ckpt)
    assert (t.config.preset, t.config.cell, t.config.order, t.iteration) == ("default", "ngram",
                                                                            3, 1)
    # the same model as counting the training names and tuning on the held-out ones by hand
    model = KneserNey.fit(t._names(t.train_rows), t.vocab.size, 3)
    tuned = model.tune(held_out(t))
    assert t.state.val_losses == [tuned] == [t.state.best_val]
    for k, v in model.to_arrays().items():
        np.testing.assert_array_equal(t.params[k], v)
        np.testing.assert_array_equal(t.best_params[k], v)
    events = [json.loads(line) for line in log.read_text().splitlines()]
    report = next(e for e in events if "loss_per_char" in e)
    assert report["val_loss"] == tuned and events[-1]["stopped"] == "fitted"
    # the training loss reported is the model's own loss on the training names
    assert report["loss_per_char"] == pytest.approx(model.held_out_loss(t._names(
        t.train_rows)), rel=1e-12)

    # sampling and scoring the checkpoint: the names the model gives, exactly
    code, out, err = run(capsys, "sample", "--checkpoint", ckpt, "--count", 6, "--seed", 4)
    assert code == 0, err
    assert out.splitlines() == [n[:1].upper() + n[1:] for n in t.sampler().draw(6, seed=4).names]
    code, out, err = run(capsys, "sample", "--checkpoint", ckpt, "--count", 4, "--scores")
    assert code == 0, err
    for line in out.splitlines():
        name, score, _nearest = line.split("\t")
        X = np.array([[-1, *t.vocab.encode(name.lower())]]).T
        Y = np.array([[*t.vocab.encode(name.lower()), 0]]).T
        logp = np.take_along_axis(model.logits(X), Y[..., None], axis=2)
        assert float(score) == pytest.approx(logp.mean(), abs=1e-4)


def test_the_order_is_bounded_and_network_flags_are_ignored_with_a_note(capsys, corpus_file):
    for bad in (0, 7, 99):
        code, out, err = run(capsys, "train", "--corpus", corpus_file, "--cell", "ngram",
                             "--order", bad)
        assert code == 2 and out == ""
        assert err == f"dinogui: error: argument --order: '{bad}' must be between 1 and 6\n"
    code, out, err = run(capsys, "train", "--corpus", corpus_file, "--cell", "ngram",
                         "--hidden", 99, "--lr", 0.5, "--quiet")
    assert code == 0
    assert err == "dinogui: note: --hidden, --lr do not apply to the count model " \
                  "(--cell ngram); ignored\n"
    code, out, err = run(capsys, "train", "--corpus", corpus_file, "--order", 2,
                         "--iterations", 1, "--quiet")
    assert code == 0 and "--order does not apply to a network" in err
    for bad in ("--mix-ngram 7", "--preset classic --mix-ngram 2"):
        code, out, err = run(capsys, "train", "--corpus", corpus_file, *bad.split())
        assert code == 2 and err.count("\n") == 1, err


def test_no_held_out_names_keeps_the_estimated_discounts_and_says_so(capsys, tmp_path,
                                                                    corpus_file):
    ckpt = tmp_path / "n.safetensors"
    code, out, err = run(capsys, "train", "--corpus", corpus_file, "--cell", "ngram",
                         "--val-fraction", 0, "--save", ckpt)
    assert code == 0 and "Chen & Goodman's estimates" in err
    t = checkpoint.load(ckpt)
    est = KneserNey.fit(t._names(t.train_rows), t.vocab.size, 5)
    np.testing.assert_array_equal(t.params["discounts"], est.discounts)
    code, _, err = run(capsys, "train", "--corpus", corpus_file, "--cell", "gru",
                       "--mix-ngram", 3, "--val-fraction", 0)
    assert code == 2 and "needs held-out names" in err and err.count("\n") == 1


def test_a_count_model_checkpoint_reloads_with_exactly_its_probabilities(tmp_path):
    t = Trainer(corpus_from_names(NAMES), TrainConfig.for_preset("default", cell="ngram",
                                                                 order=4))
    t.step()
    u = checkpoint.load(checkpoint.save(t, tmp_path / "n.safetensors"))
    X = np.array([[-1, -1], [1, 2], [3, 1], [1, 0]])
    for best in (False, True):
        a = t.sampler(best=best).batched_model().logits(X)
        np.testing.assert_array_equal(u.sampler(best=best).batched_model().logits(X), a)
    assert np.allclose(np.exp(a).sum(-1), 1.0)


@pytest.mark.parametrize("damage, says", [
    (lambda a: a["param/counts"].__setitem__(0, 0), "'counts' must hold one positive count"),
    (lambda a: a["param/discounts"].__setitem__(1, 1.5), "each discount must be above 0"),
    (lambda a: a["param/grams"].__setitem__((0, 2), 99), "outside the vocabulary"),
    (lambda a: a["best/grams"].__setitem__((1, slice(None)), a["best/grams"][0]),
     "listed twice"),
])
def test_damaged_count_arrays_are_refused_in_one_line(capsys, tmp_path, damage, says):
    t = Trainer(corpus_from_names(NAMES), TrainConfig.for_preset("default", cell="ngram",
                                                                 order=3))
    t.step()
    meta, arrays = read(checkpoint.save(t, tmp_path / "ok.safetensors"))
    damage(arrays)
    path = write(tmp_path / "bad.safetensors", meta, arrays)
    code, out, err = run(capsys, "sample", "--checkpoint", path)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith(f"dinogui: error: {path}: damaged checkpoint: its ") and says in err


def test_the_hybrid_is_never_worse_than_either_part_on_the_held_out_names(capsys, tmp_path):
    cfg = TrainConfig.for_preset("default", cell="gru", hidden=16, mix_ngram=3, val_every=10,
                                 val_fraction=0.3, lr=0.02)
    t = Trainer(corpus_from_names(NAMES), cfg)
    t.run(61)
    val = held_out(t)
    count = t.mix_count()
    assert t.state.val_iterations == [0, 10, 20, 30, 40, 50, 60]
    net = Trainer(corpus_from_names(NAMES), TrainConfig.from_dict({**cfg.to_dict(),
                                                                  "mix_ngram": 0}))
    net.run(61)
    for params, loss in ((t.model_params(), t.state.val_losses[-1]),
                         (t.best_params, t.state.best_val)):
        mixed = t.sampler().__class__("default", "gru", params, t.vocab).batched_model()
        p = target_probs(mixed, val)
        assert loss == pytest.approx(-np.log(p).mean(), rel=1e-6)
        alone = {k: v for k, v in params.items() if not k.startswith("mix/")}
        p_net = target_probs(t.sampler().__class__("default", "gru", alone,
                                                   t.vocab).batched_model(), val)
        assert loss <= -np.log(p_net).mean() + 1e-9
        assert loss <= count.held_out_loss(val) + 1e-9
    # the network part trains as it would alone: the mixture only changes what is measured
    for k, v in net.params.items():
        np.testing.assert_array_equal(t.params[k], v)
    np.testing.assert_allclose(net.state.val_losses[-1], -np.log(target_probs(
        t.sampler().__class__("default", "gru", net.params, t.vocab).batched_model(), val))
        .mean(), rtol=1e-5)

    # the weight and the count model are saved and loaded; sampling --best uses the mixture
    ckpt = checkpoint.save(t, tmp_path / "h.safetensors")
    u = checkpoint.load(ckpt)
    assert u.mix["weight"][0] == t.mix["weight"][0]
    assert u.best_params["mix/weight"][0] == t.best_params["mix/weight"][0]
    assert 0 < t.mix["weight"][0] < 1
    code, out, _ = run(capsys, "sample", "--checkpoint", ckpt, "--best", "--count", 5)
    assert out.splitlines() == [n[:1].upper() + n[1:]
                                for n in t.sampler(best=True).draw(5).names]
    assert t.sampler(best=True).sample(5) != net.sampler(best=True).sample(5)
    u.run(10)
    t.run(10)
    assert u.state.val_losses == t.state.val_losses


def test_a_file_without_the_new_settings_loads_with_their_defaults(tmp_path):
    t = Trainer(corpus_from_names(NAMES), TrainConfig.for_preset("default", hidden=8))
    t.run(3)
    meta, arrays = read(checkpoint.save(t, tmp_path / "ok.safetensors"))
    for name in ("order", "mix_ngram"):
        del meta["config"][name]
    u = checkpoint.load(write(tmp_path / "old.safetensors", meta, arrays))
    assert u.config == t.config


def test_cli_train_then_sample_on_a_reference_list_when_present(capsys, tmp_path):
    path = Path(__file__).resolve().parents[2] / "shared" / "data" / "towns-302.txt"
    if not path.exists():
        pytest.skip("../shared/data/towns-302.txt is absent")
    ckpt = tmp_path / "t.safetensors"
    code, out, err = run(capsys, "train", "--corpus", path, "--cell", "ngram", "--save", ckpt,
                         "--quiet")
    assert code == 0, err
    t = checkpoint.load(ckpt)
    corpus = load_corpus(path)
    assert t.corpus.names == corpus.names and t.state.best_val < 2.5
