"""The classic preset against the plain transcription of the seed."""

import numpy as np
import pytest

from dinogui.bench import reference as ref
from dinogui.core.corpus import bundled_corpus_path, load_corpus
from dinogui.core.trainer import TrainConfig, Trainer, TrainingDiverged

SEED_REPORT_0 = ["nkzxwtdmfqoeyhsqwasjkjvu", "kneb", "kzxwtdmfqoeyhsqwasjkjvu", "neb",
                 "zxwtdmfqoeyhsqwasjkjvu", "eb", "xwtdmfqoeyhsqwasjkjvu"]


def run_both(path, iterations, report_every):
    data = path.read_text(encoding="utf-8").lower()
    examples = [x.lower().strip() for x in path.read_text(encoding="utf-8").splitlines()]
    _, reports, losses = ref.model(data, examples, iterations, report_every=report_every)
    trainer = Trainer(load_corpus(path), TrainConfig(sample_every=report_every))
    ours = trainer.run(iterations)
    return trainer, reports, losses, ours


def test_classic_equals_reference_on_the_bundled_corpus():
    trainer, reports, losses, ours = run_both(bundled_corpus_path(), 1201, 400)
    np.testing.assert_allclose(trainer.history.column("loss"), losses, rtol=1e-9)
    assert [r.iteration for r in ours] == [j for j, _, _ in reports] == [0, 400, 800, 1200]
    for r, (_, smooth, names) in zip(ours, reports, strict=True):
        assert r.smooth == pytest.approx(smooth, rel=1e-9)
        assert r.samples == names


def test_seed_reference_numbers(dinos_txt):
    trainer = Trainer(load_corpus(dinos_txt), TrainConfig())
    reports = trainer.run(4001)
    assert [r.iteration for r in reports] == [0, 2000, 4000]
    assert round(reports[0].smooth, 6) == 23.087336
    assert reports[0].samples == SEED_REPORT_0
    assert round(reports[1].smooth, 6) == 27.884160


def test_seed_reference_at_4000_against_the_transcription(dinos_txt):
    trainer, reports, _, ours = run_both(dinos_txt, 4001, 2000)
    for r, (_, smooth, names) in zip(ours, reports, strict=True):
        assert abs(r.smooth - smooth) < 1e-6
        assert r.samples == names


def test_classic_does_not_touch_numpys_global_rng(tiny_corpus):
    np.random.seed(123)  # noqa: NPY002
    before = np.random.get_state()[1].copy()  # noqa: NPY002
    Trainer(load_corpus(tiny_corpus), TrainConfig(sample_every=5)).run(11)
    assert np.array_equal(np.random.get_state()[1], before)  # noqa: NPY002


def test_nan_loss_stops_the_step_and_keeps_parameters(tiny_corpus):
    trainer = Trainer(load_corpus(tiny_corpus), TrainConfig(lr=0.01))
    trainer.run(3)
    trainer.params["Wya"][0, 0] = np.nan
    before = {k: v.copy() for k, v in trainer.params.items()}
    with pytest.raises(TrainingDiverged, match="NaN"):
        trainer.step()
    assert trainer.iteration == 3
    for k in before:
        np.testing.assert_array_equal(trainer.params[k], before[k])


def test_sampling_is_deterministic_and_temperature_matters(tiny_corpus):
    trainer = Trainer(load_corpus(tiny_corpus), TrainConfig())
    trainer.run(300)
    assert trainer.sample(5, seed=3) == trainer.sample(5, seed=3)
    assert trainer.sample(5, seed=3) != trainer.sample(5, seed=4)
    cold = trainer.sample(20, seed=0, temperature=0.3)
    hot = trainer.sample(20, seed=0, temperature=3.0)
    assert cold != hot
    assert all(len(n) <= 4 for n in trainer.sample(10, seed=0, temperature=5.0, max_len=4))


@pytest.mark.parametrize("preset", ["classic", "default"])
def test_presets_are_deterministic_from_their_seed(tiny_corpus, preset):
    runs = []
    for _ in range(2):
        t = Trainer(load_corpus(tiny_corpus), TrainConfig(preset=preset, batch_size=3, seed=7))
        t.run(40)
        runs.append((t.history.column("loss").copy(), t.sample(4, seed=1)))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    assert runs[0][1] == runs[1][1]
