"""The learning-rate finder: the engine (core/lr_find.py) and `dinogui lr-find`."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from dinogui.cli import main
from dinogui.core import checkpoint, lr_find
from dinogui.core.config import TrainConfig
from dinogui.core.corpus import load_corpus
from dinogui.core.trainer import Trainer

NAMES = ["ada", "bob", "cyrus", "dan", "eve", "finnegan", "gus", "hal", "ivy", "jo", "kai",
         "lena", "mo", "nils", "otto", "pia", "quinn", "rosa", "sven", "tove"]


@pytest.fixture(scope="module")
def names_txt(tmp_path_factory):
    path = tmp_path_factory.mktemp("lr") / "names.txt"
    path.write_text("\n".join(NAMES) + "\n", encoding="utf-8")
    return path


def trained(path, preset: str, steps: int = 7, **settings) -> Trainer:
    """A trainer a few steps in, so the optimizer has state and the order a position."""
    t = Trainer(load_corpus(path), TrainConfig.for_preset(preset, **settings))
    t.run(steps)
    return t


def everything(t: Trainer) -> tuple[str, dict]:
    """All a checkpoint holds of a trainer, bit for bit: its metadata (config, state, RNG
    state, optimizer settings) and every array (parameters, optimizer state, order, history).
    Not the file's bytes: its header's key order may differ from one write to the next."""
    meta = json.dumps(checkpoint.to_meta(t), default=str, sort_keys=True)
    arrays = {k: (v.dtype.str, v.shape, v.tobytes()) for k, v in checkpoint.to_arrays(t).items()}
    return meta, arrays


CASES = [("classic", {}), ("default", {"batch_size": 4}),
         ("default", {"cell": "gru", "dropout": 0.2, "optimizer": "adagrad", "batch_size": 3}),
         ("default", {"cell": "lstm", "layers": 2, "batch_size": 5, "val_fraction": 0.2})]


# -- the model is left exactly as it was ------------------------------------------------
@pytest.mark.parametrize("preset,settings", CASES)
def test_the_model_is_untouched_bit_for_bit(names_txt, preset, settings):
    t = trained(names_txt, preset, **settings)
    before = everything(t)  # parameters, optimizer state, order, RNG state, history
    config = t.config
    global_rng = np.random.get_state()  # noqa: NPY002 (the legacy global state)
    sweep = lr_find.find_lr(t, steps=40, high=10.0)
    assert len(sweep.rates) > 10  # it did train its copy
    assert everything(t) == before
    assert t.config is config
    rng_after = np.random.get_state()  # noqa: NPY002 (the legacy global state)
    assert rng_after[0] == global_rng[0] and np.array_equal(rng_after[1], global_rng[1])
    # and it goes on as an untouched twin does, step for step
    twin = trained(names_txt, preset, **settings)  # deterministic: the same trainer again
    assert everything(twin) == before
    t.run(5)
    twin.run(5)
    assert everything(t) == everything(twin)


def test_each_step_trains_at_its_rate(names_txt, monkeypatch):
    """The rate that reaches each step of the copy is the sweep's, exactly, in order."""
    seen = []
    step = Trainer.step

    def spy(self, *a, **k):  # the rate set, and the rate the step reports it trained at
        result = step(self, *a, **k)
        seen.append((self.config.lr, result.lr))
        return result

    t = trained(names_txt, "default", batch_size=4)
    monkeypatch.setattr(Trainer, "step", spy)
    sweep = lr_find.find_lr(t, 1e-4, 1e-1, 31)
    assert sweep.stopped == "end" and len(seen) == 31
    assert [a for a, _ in seen] == sweep.rates.tolist() == [b for _, b in seen]


# -- the rates, the smoothing, the suggestion ------------------------------------------
def test_rates_are_exact_at_the_ends_and_geometric():
    rates = lr_find.sweep_rates(1e-5, 1.0, 101)
    assert len(rates) == 101 and rates[0] == 1e-5 and rates[-1] == 1.0
    np.testing.assert_allclose(rates[1:] / rates[:-1], 10 ** 0.05, rtol=1e-12)
    rates = lr_find.sweep_rates(3e-4, 0.7, 10)
    assert rates[0] == 3e-4 and rates[-1] == 0.7
    np.testing.assert_allclose(rates[1:] / rates[:-1], (0.7 / 3e-4) ** (1 / 9), rtol=1e-12)


@pytest.mark.parametrize("low,high,steps,words", [
    (1e-3, 1e-3, 50, "must be below"), (1.0, 0.1, 50, "must be below"),
    (0.0, 1.0, 50, "lowest rate must be a positive number"),
    (1e-5, 1.0, 9, "sweep steps must be between 10 and"),
    (1e-5, 1.0, 100_001, "sweep steps must be between 10 and")])
def test_bad_sweeps_are_refused(low, high, steps, words):
    with pytest.raises(ValueError, match=words):
        lr_find.sweep_rates(low, high, steps)


def test_smoothing_is_fastais_debiased_average():
    np.testing.assert_allclose(lr_find.smooth(np.array([2.0, 2.0, 2.0])), [2.0, 2.0, 2.0])
    s = lr_find.smooth(np.array([0.0, 1.0, 3.0]))
    b = 0.98
    avg1 = (1 - b) * 1.0  # after 0 then 1
    avg2 = b * avg1 + (1 - b) * 3.0
    np.testing.assert_allclose(s, [0.0, avg1 / (1 - b**2), avg2 / (1 - b**3)], rtol=1e-15)


def test_suggestion_on_a_synthetic_curve():
    rates = lr_find.sweep_rates(1e-5, 1.0, 101)
    curve = (np.log10(rates) + 1.5) ** 2  # lowest at 10^-1.5 = 0.0316 (step 70)
    assert int(np.argmin(curve)) == 70
    assert lr_find.suggest(rates, curve) == 0.0032  # a tenth, to 2 significant digits
    curve = (np.log10(rates) + 2.0) ** 2  # lowest at 0.01 exactly (step 60)
    assert lr_find.suggest(rates, curve) == 0.001
    # a curve that only rises (a trained model): the first rate, never below the sweep
    assert lr_find.suggest(rates, np.linspace(1.0, 5.0, 101)) == 1e-5


def test_the_sweep_stops_when_the_loss_takes_off(names_txt):
    t = trained(names_txt, "default", batch_size=4)
    sweep = lr_find.find_lr(t, 1e-4, 1e6, 200)
    assert sweep.stopped == "diverged" and len(sweep.rates) < 200
    first = sweep.smoothed[:-1]
    assert sweep.smoothed[-1] > lr_find.DIVERGE * first.min()  # the step that stopped it
    assert np.all(first <= lr_find.DIVERGE * np.minimum.accumulate(first))
    low = sweep.lowest
    assert sweep.suggestion == float(f"{sweep.rates[low] / 10:.2g}")
    np.testing.assert_array_equal(sweep.smoothed, lr_find.smooth(sweep.losses))


def test_a_first_step_that_diverges_gives_no_suggestion(names_txt):
    t = trained(names_txt, "classic")
    before = everything(t)
    sweep = lr_find.find_lr(t, 1e307, 1e308, 10)
    assert sweep.stopped == "nan" and sweep.suggestion is None and len(sweep.rates) == 0
    assert sweep.failed_rate == 1e307
    assert everything(t) == before


# -- dinogui lr-find -------------------------------------------------------------------------
def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_prints_a_table_and_the_suggestion_of_the_engine(capsys, names_txt, tmp_path):
    table = tmp_path / "sweep.csv"
    code, out, err = run(capsys, "lr-find", "--corpus", names_txt, "--preset", "default",
                         "--batch-size", 4, "--hidden", 9, "--steps", 60, "--min-lr", 1e-4,
                         "--max-lr", 0.5, "--csv", table)
    assert code == 0, err
    expected = lr_find.find_lr(Trainer(load_corpus(names_txt), TrainConfig.for_preset(
        "default", batch_size=4, hidden=9)), 1e-4, 0.5, 60)
    lines = out.splitlines()
    assert lines[0].startswith("preset default: rnn x1, batch 4, adam, hidden 9,")
    assert "from 0.0001 to 0.5 in 60 steps on a copy" in lines[0]
    assert lines[1].split() == ["rate", "smoothed", "loss", "per", "character"]
    rows = [line.split() for line in lines[2:-2]]
    assert 15 <= len(rows) <= 22
    assert sum(r[-1] == "lowest" for r in rows) == 1
    rates = [float(r[0]) for r in rows]
    assert rates[0] == 1e-4 and rates == sorted(rates)
    for r in rows:  # each row is a step of the sweep, its smoothed loss to 4 decimals
        i = int(np.argmin(abs(expected.rates - float(r[0]))))
        assert r[1] == f"{expected.smoothed[i]:.4f}"
    assert lines[-1].startswith(f"suggested learning rate: {expected.suggestion:g} (a tenth "
                                f"of {expected.rates[expected.lowest]:.3g}")
    assert lines[-1].endswith(f"train with --lr {expected.suggestion:g}")
    with open(table, newline="", encoding="utf-8") as f:
        written = list(csv.reader(f))
    assert written[0] == ["step", "rate", "loss_per_char", "smoothed_loss_per_char"]
    assert len(written) == 1 + len(expected.rates)
    assert [float(r[1]) for r in written[1:]] == expected.rates.tolist()
    assert [float(r[3]) for r in written[1:]] == expected.smoothed.tolist()
    assert f"wrote {table} ({len(expected.rates)} steps)" in err


def test_cli_classic_and_a_checkpoint_left_as_it_was(capsys, names_txt, tmp_path):
    code, out, err = run(capsys, "lr-find", "--corpus", names_txt, "--preset", "classic",
                         "--steps", 20)
    assert code == 0, err
    assert out.startswith("preset classic: hidden 50, clip 5, seed 0, from iteration 0;")
    assert "suggested learning rate: " in out
    ckpt = tmp_path / "m.safetensors"
    assert run(capsys, "train", "--corpus", names_txt, "--preset", "default", "--iterations",
               30, "--save", ckpt, "--quiet")[0] == 0
    saved = ckpt.read_bytes()
    code, out, err = run(capsys, "lr-find", "--checkpoint", ckpt, "--steps", 20)
    assert code == 0, err
    assert "from iteration 30;" in out and "suggested learning rate: " in out
    assert ckpt.read_bytes() == saved


@pytest.mark.parametrize("argv,words", [
    (["--min-lr", "0"], "argument --min-lr: '0' must be a positive number"),
    (["--min-lr", "1", "--max-lr", "0.1"], "--min-lr 1 must be below --max-lr 0.1"),
    (["--steps", "5"], "argument --steps: '5' must be between 10 and 100000"),
    (["--steps", "ten"], "'ten' is not a whole number"),
    (["--cell", "gru", "--preset", "classic"], "--cell needs the default preset"),
    (["--checkpoint", "CKPT", "--hidden", "3"], "--hidden cannot go with --checkpoint"),
    (["--checkpoint", "CORPUS"], "is not a dinogui checkpoint"),
    (["--csv", "NOWHERE/x.csv"], "its folder does not exist"),
    (["--min-lr", "1e307", "--max-lr", "1e308", "--steps", "10"],
     "the step at rate 1e+307 diverged (NaN or infinite weights or loss): no rate to suggest"),
])
def test_cli_bad_input_is_one_line(capsys, names_txt, tmp_path, argv, words):
    argv = [a.replace("CORPUS", str(names_txt)).replace("NOWHERE", str(tmp_path / "no"))
            for a in argv]
    if "--checkpoint" not in argv:
        argv = ["--corpus", str(names_txt), *argv]
    code, out, err = run(capsys, "lr-find", *argv)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("dinogui: error: ") and words in err, err
    assert "suggested" not in out
