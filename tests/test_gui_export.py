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
    have_best = w.trainer.best_params is not None
    assert have_best  # the default preset holds names out: a best point exists

    w.samples.best.setChecked(False)  # the latest weights
    w.dialogs.save_paths = [str(tmp_path / "latest")]  # no suffix: a Python script
    w.actions_.export_generator.trigger()
    latest = tmp_path / "latest.py"
    qtbot.waitUntil(lambda: "Exported the generator" in w.statusBar().currentMessage(),
                    timeout=20_000)
    np.testing.assert_allclose(exported_scores(latest), float64_scores(w.trainer, False),
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
    np.testing.assert_allclose(best, float64_scores(w.trainer, True), atol=1e-6, rtol=0)
    assert np.abs(best - float64_scores(w.trainer, False)).max() > 1e-5  # not the latest
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
