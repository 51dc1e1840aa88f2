"""File > Export Generator…: the window writes a generator that runs and scores like the model."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import numpy as np
import pytest

from tests.gui_support import open_window, train

pytest.importorskip("pytestqt")

NAMES = ["ada", "gus", "finnegan"]


def float64_scores(trainer, best: bool) -> np.ndarray:
    sampler = trainer.sampler(best=best)
    wide = dataclasses.replace(sampler, params={k: v.astype(np.float64)
                                                for k, v in sampler.params.items()})
    return wide.loglik_per_char(NAMES)


def exported_scores(path) -> np.ndarray:
    done = subprocess.run([sys.executable, "-I", "-S", str(path), "--score", *NAMES],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return np.array([float(line.split("\t")[1]) for line in done.stdout.splitlines()])


def test_export_generator_writes_a_python_file_that_runs_with_the_chosen_weights(
        qtbot, tmp_path, tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus, preset="default", cell="gru", hidden=8,
                    batch_size=2, mix_ngram=0)
    train(qtbot, w, 300)
    assert w.actions_.export_generator.isEnabled()
    assert w.actions_.export_generator in w.menuBar().actions()[0].menu().actions()
    have_best = w.session.trainer.best_params is not None
    assert have_best  # the default preset holds names out: a best point exists

    w.samples.best.setChecked(False)  # the latest weights
    w.dialogs.save_paths = [str(tmp_path / "latest")]  # no suffix: a Python script
    w.actions_.export_generator.trigger()
    latest = tmp_path / "latest.py"
    qtbot.waitUntil(lambda: "Exported the generator" in w.statusBar().currentMessage(),
                    timeout=20_000)
    np.testing.assert_allclose(exported_scores(latest), float64_scores(w.session.trainer, False),
                               atol=1e-6, rtol=0)
    done = subprocess.run([sys.executable, "-I", "-S", str(latest), "--count", "4", "--seed",
                           "2"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and len(done.stdout.splitlines()) == 4

    w.samples.best.setChecked(True)  # as the names drawn in the window: the best weights
    w.statusBar().clearMessage()
    w.dialogs.save_paths = [str(tmp_path / "best.py")]
    w.actions_.export_generator.trigger()
    qtbot.waitUntil(lambda: "Exported the generator" in w.statusBar().currentMessage(),
                    timeout=20_000)
    best = exported_scores(tmp_path / "best.py")
    np.testing.assert_allclose(best, float64_scores(w.session.trainer, True), atol=1e-6, rtol=0)
    assert np.abs(best - float64_scores(w.session.trainer, False)).max() > 1e-5  # not the latest
    assert w.dialogs.errors == []


def test_export_generator_refuses_an_unknown_suffix_and_writes_nothing(qtbot, tmp_path,
                                                                       tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus)
    train(qtbot, w, 20)
    w.dialogs.save_paths = [str(tmp_path / "gen.txt")]
    w.actions_.export_generator.trigger()
    assert len(w.dialogs.errors) == 1
    title, text = w.dialogs.errors[0]
    assert title == "Cannot export gen.txt" and ".py" in text and ".mjs" in text
    assert not (tmp_path / "gen.txt").exists()
    w.dialogs.save_paths = [str(tmp_path / "gen.json")]  # classic: the seed's rnn, as JSON
    w.actions_.export_generator.trigger()
    qtbot.waitUntil(lambda: (tmp_path / "gen.json").exists(), timeout=20_000)


    doc = json.loads((tmp_path / "gen.json").read_text(encoding="utf-8"))
    assert doc["architecture"]["preset"] == "classic" and doc["architecture"]["cell"] == "rnn"


def float64_sampler(trainer, best: bool):
    """The sampler with its float arrays widened (a count model's integers stay)."""
    sampler = trainer.sampler(best=best)
    return dataclasses.replace(sampler, params={
        k: v.astype(np.float64) if v.dtype.kind == "f" else v for k, v in sampler.params.items()})


def export_through_the_window(qtbot, w, path) -> None:
    w.statusBar().clearMessage()
    w.dialogs.save_paths = [str(path)]
    w.actions_.export_generator.trigger()
    qtbot.waitUntil(lambda: "Exported the generator" in w.statusBar().currentMessage(),
                    timeout=20_000)


def test_export_generator_writes_the_first_launch_hybrid(qtbot, tmp_path, tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus, preset="default", hidden=8, batch_size=2)
    config = w.session.trainer.config
    assert config.mixed and config.mix_ngram == 5  # the window's own choice
    train(qtbot, w, 200)
    w.samples.best.setChecked(False)
    export_through_the_window(qtbot, w, tmp_path / "hybrid.py")
    sampler = float64_sampler(w.session.trainer, False)
    want = sampler.loglik_per_char(NAMES)
    np.testing.assert_allclose(exported_scores(tmp_path / "hybrid.py"), want, atol=1e-6, rtol=0)
    export_through_the_window(qtbot, w, tmp_path / "hybrid.json")
    doc = json.loads((tmp_path / "hybrid.json").read_text(encoding="utf-8"))
    assert doc["mix_weight"] == float(sampler.params["mix/weight"][0])
    assert doc["architecture"]["mix_ngram"] == 5 and doc["ngram"]["order"] == 5
    net_alone = dataclasses.replace(sampler, params={
        k: v for k, v in sampler.params.items() if not k.startswith("mix/")})
    assert np.abs(net_alone.loglik_per_char(NAMES) - want).max() > 1e-3  # the mixture counts
    assert w.dialogs.errors == []


def test_export_generator_writes_a_count_model(qtbot, tmp_path, tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus, preset="default", cell="ngram", order=3)
    w.hyperparams.budget.setValue(10)
    w.actions_.start.trigger()  # fitted in one step: it stops at iteration 1
    qtbot.waitUntil(lambda: not w.session.training and w.session.iteration == 1, timeout=20_000)
    assert w.session.trainer.config.cell == "ngram"
    export_through_the_window(qtbot, w, tmp_path / "counts.py")
    want = float64_sampler(w.session.trainer, w.samples.request().best).loglik_per_char(NAMES)
    np.testing.assert_allclose(exported_scores(tmp_path / "counts.py"), want, atol=1e-6, rtol=0)
    done = subprocess.run([sys.executable, "-I", "-S", str(tmp_path / "counts.py"), "--count",
                           "5", "--seed", "2"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and len(done.stdout.splitlines()) == 5
    export_through_the_window(qtbot, w, tmp_path / "counts.mjs")
    assert "class CountModel" in (tmp_path / "counts.mjs").read_text(encoding="utf-8")
    assert w.dialogs.errors == []
