"""The classic preset against the plain transcription of the seed."""

import numpy as np
import pytest

from dinogui.bench import seed as ref
from dinogui.core.config import TrainConfig
from dinogui.core.corpus import bundled_corpus_path, load_corpus
from dinogui.core.trainer import Trainer, TrainingDiverged
from tests.conftest import shared_file

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


@pytest.fixture(scope="module")
def classic_and_seed_on_dinos():
    """One run of each on the exercise's dinos.txt, 4001 iterations, shared by the tests below."""
    return run_both(shared_file("dinos.txt"), 4001, 2000)


def test_seed_reference_numbers(classic_and_seed_on_dinos):
    _, reports, _, ours = classic_and_seed_on_dinos
    assert [r.iteration for r in ours] == [j for j, _, _ in reports] == [0, 2000, 4000]
    assert round(ours[0].smooth, 6) == 23.087336
    assert ours[0].samples == SEED_REPORT_0
    assert round(ours[1].smooth, 6) == 27.884160
    for r, (_, smooth, names) in zip(ours, reports, strict=True):
        assert abs(r.smooth - smooth) < 1e-6
        assert r.samples == names  # the seed's sampling, draw for draw


def test_classic_losses_track_the_seed_step_by_step(classic_and_seed_on_dinos):
    trainer, _, losses, _ = classic_and_seed_on_dinos
    ours = trainer.history.column("loss")
    # the same math in another summation order: equal to rounding for thousands of steps
    np.testing.assert_allclose(ours[:2000], losses[:2000], rtol=1e-12)
    np.testing.assert_allclose(ours, losses, rtol=1e-9)


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
