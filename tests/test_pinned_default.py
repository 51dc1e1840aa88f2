"""The default preset's numbers, pinned: 501 steps on the bundled corpus with seed 0.

Driven as a user would (`dinogui train --preset default ...`, then `dinogui sample`).
The pinned numbers were computed once with this code in float32; they are
justified by checks that do not share its arithmetic:

- the same run in float64 (TrainConfig dtype) agrees with them to 1e-4 (measured:
  about 2e-7 relative) and draws the same names, so float32 rounding, not chance,
  is all the tolerance has to cover;
- the first step's loss is the plain float64 RNN's loss on the first batch with
  the initial weights, and the last held-out loss is the plain RNN's loss on the
  held-out names with the final weights (tests/plain_rnn.py);
- the sampled names are what the batched scheme written out in float64 draws.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from dinogui.cli import main
from dinogui.core import checkpoint
from dinogui.core.config import TrainConfig
from dinogui.core.corpus import bundled_corpus_path, load_corpus
from dinogui.core.trainer import Trainer
from tests import plain_rnn as plain

FLOAT32 = 1e-5  # relative: float32 keeps ~7 digits; this run's float64 twin agrees to ~2e-7

# per-character loss of single steps, from the checkpoint's history
STEP_LOSS = {0: 3.282982173359095, 1: 3.1955642700195312, 10: 2.4619556957522764,
             100: 1.7691701253255208, 250: 1.6160860318134933, 500: 1.5081775647373827}
# the reports' (smoothed loss per character, held-out loss per character, names)
REPORTS = {
    0: (3.295708319077877, 3.2098751918937043,
        ["Qsscrhpvloqzkzwnsawoougkxudo", "Gndrqmiuugxys",
         "Aywqrwjffrklswmytkcjvvyzhysmzpatmudxlhjzxbcsdgrefa", "", "U",
         "Xvkzsopieiknscxpafoyxaafewxzemjahemjbivzrlunkordsj", "P"]),
    250: (1.9523134309295838, 1.7885041885763693,
          ["Ornerhosaurus", "Doinnonosauruhopa", "Ausllthelophosaurus", "Atisaurus", "S",
           "Ushyrosaurus", "Nabvimaelanotur"]),
    500: (1.704962484996447, 1.7641378237930547,
          ["Orncolosaurus", "Dolopheshosti", "Austrsaurus", "Atitesto", "S",
           "Uskyrnodensaurus", "Nacuraceia"]),
}
SMOOTH_PER_NAME = 21.037345374919365  # the seed's smoothed per-name loss after 501 steps
SAMPLE_SEED_3 = ["Anamongahurus", "Ditandosaurus", "Shanosaurus", "Migus", "Arthkosaura",
                 "Ithkolia", "Kembrosaurus", "Borocephalus", "Rochunycondola",
                 "Alodonatalinholosaurus"]


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    """`dinogui train --preset default --cell rnn --iterations 501 --sample-every 250`: (log,
    checkpoint). The preset's own RNN: a model flag, so the recipe for the list does not apply."""
    folder = tmp_path_factory.mktemp("pinned")
    log, ckpt = folder / "run.jsonl", folder / "default.ckpt"
    code = main(["train", "--preset", "default", "--cell", "rnn", "--iterations", "501",
                 "--sample-every", "250",
                 "--log-jsonl", str(log), "--save", str(ckpt), "--quiet"])
    assert code == 0
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    return ({r["iteration"]: r for r in rows[:-1] if "event" not in r},  # reports, not checks
            checkpoint.load(ckpt), ckpt)


@pytest.fixture(scope="module")
def float64_twin():
    t = Trainer(load_corpus(bundled_corpus_path()),
                TrainConfig.for_preset("default", sample_every=250, dtype="float64"))
    reports = {r.iteration: r for r in t.run(501)}
    return t, reports


def test_the_default_run_is_the_pinned_one(cli_run):
    reports, trainer, _ = cli_run
    assert (trainer.config.preset, trainer.config.dtype) == ("default", "float32")
    losses = trainer.history.column("loss") / trainer.history.column("chars")
    for i, want in STEP_LOSS.items():
        assert losses[i] == pytest.approx(want, rel=FLOAT32), i
    assert sorted(reports) == [0, 250, 500]
    for j, (smooth, val, names) in REPORTS.items():
        assert reports[j]["smoothed_loss_per_char"] == pytest.approx(smooth, rel=FLOAT32), j
        assert reports[j]["val_loss"] == pytest.approx(val, rel=FLOAT32), j
        assert reports[j]["samples"] == names, j
    assert trainer.state.smooth == pytest.approx(SMOOTH_PER_NAME, rel=FLOAT32)
    # checked by epochs (every 6 steps here) the best is found before the end; the weights
    # and the reports' losses above are those of the run checked every 500 iterations
    assert trainer.state.best_iteration == 390
    assert trainer.state.val_iterations[:3] == [0, 6, 12]


def test_sampling_the_pinned_checkpoint(cli_run, capsys):
    capsys.readouterr()
    assert main(["sample", "--checkpoint", str(cli_run[2]), "--seed", "3"]) == 0
    assert capsys.readouterr().out.splitlines() == SAMPLE_SEED_3


def test_the_float64_twin_agrees_with_the_pinned_numbers(float64_twin):
    t, reports = float64_twin
    assert t.params["W_hy"].dtype == np.float64
    losses = t.history.column("loss") / t.history.column("chars")
    for i, want in STEP_LOSS.items():
        assert losses[i] == pytest.approx(want, rel=1e-4), i
    for j, (smooth, val, names) in REPORTS.items():
        assert reports[j].smooth_char == pytest.approx(smooth, rel=1e-4)
        assert reports[j].val_loss == pytest.approx(val, rel=1e-4)
        assert [n[:1].upper() + n[1:] for n in reports[j].samples] == names
    assert t.state.smooth == pytest.approx(SMOOTH_PER_NAME, rel=1e-4)


def test_the_first_loss_is_the_plain_models_loss_on_the_first_batch():
    t = Trainer(load_corpus(bundled_corpus_path()), TrainConfig.for_preset("default"))
    batch = [t.vocab.encode(t.corpus.names[i]) for i in t.state.order[:t.config.batch_size]]
    want = plain.PlainRNN(t.params).loss_per_char(batch)
    t.step()
    assert t.history.column("loss")[0] / t.history.column("chars")[0] == pytest.approx(
        want, rel=FLOAT32)
    assert want == pytest.approx(STEP_LOSS[0], rel=FLOAT32)


def test_the_last_held_out_loss_and_names_are_the_plain_models(cli_run):
    _, trainer, _ = cli_run
    held_out = [trainer.vocab.encode(trainer.corpus.names[i]) for i in trainer.val_rows]
    assert len(held_out) == round(0.1 * len(trainer.corpus.names))
    plain_loss = plain.PlainRNN(trainer.params).loss_per_char(held_out)
    assert plain_loss == pytest.approx(REPORTS[500][1], rel=FLOAT32)
    drawn = plain.batched_scheme(trainer.params, 3, 10)
    assert [trainer.vocab.decode(n).capitalize() for n in drawn] == SAMPLE_SEED_3
