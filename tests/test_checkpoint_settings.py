"""A current-format checkpoint holds every setting: one missing is refused, naming it (a
default would silently change the resumed run); version 1 files keep their defaults."""

from __future__ import annotations

from dataclasses import fields

import pytest

from dinogui.cli import main
from dinogui.core import checkpoint
from dinogui.core.checkpoint_schema import SETTINGS_ADDED
from dinogui.core.config import TrainConfig
from dinogui.core.corpus import corpus_from_names
from dinogui.core.optim import Optimizer
from dinogui.core.trainer import Trainer
from tests.checkpoint_files import as_version_1, read, write, write_npz

# settings added since version 2 began take their defaults (a test in test_ngram_wire.py)
SETTINGS = [f.name for f in fields(TrainConfig) if f.name not in SETTINGS_ADDED]
OPTIMIZER = [f.name for f in fields(Optimizer) if f.init and f.name not in ("kind", "state")]


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    names = ["anna", "bob", "carla", "dora", "emil"] * 4
    t = Trainer(corpus_from_names(names), TrainConfig(preset="default", batch_size=3,
                                                      samples=0))
    t.run(4)
    return checkpoint.save(t, tmp_path_factory.mktemp("s") / "s.safetensors")


@pytest.mark.parametrize("name", SETTINGS)
def test_a_missing_setting_is_refused_naming_it(name, saved, tmp_path, capsys):
    meta, arrays = read(saved)
    del meta["config"][name]
    path = write(tmp_path / "x.safetensors", meta, arrays)
    for argv in (["sample", "--checkpoint", path], ["train", "--resume", path]):
        assert main([str(a) for a in argv]) == 2
        err = capsys.readouterr().err
        assert err == f"dinogui: error: {path}: damaged checkpoint: its settings have no {name}\n"


def test_a_file_from_before_schedules_loads_with_their_defaults(saved, tmp_path):
    """Files saved before the schedule and weight-decay settings trained as their defaults
    say (a constant rate, no warm-up, no decay): they load and resume that way."""
    meta, arrays = read(saved)
    for name in SETTINGS_ADDED:
        del meta["config"][name]
    meta["optimizer"]["lr"] = meta["config"]["lr"]  # such files kept a copy of the rate here
    back = checkpoint.load(write(tmp_path / "old.safetensors", meta, arrays))
    assert back.config == checkpoint.load(saved).config
    assert (back.config.lr_schedule, back.config.warmup, back.config.weight_decay) == (
        "constant", 0, 0.0)


@pytest.mark.parametrize("copy", [0.5, 0.0101, -1.0])
def test_a_file_whose_two_rates_disagree_is_refused(copy, saved, tmp_path, capsys):
    """A rate in the optimizer's settings beside the settings' own: the trainer steps at one
    of them only, so a file where they differ is refused rather than trained at a guess."""
    meta, arrays = read(saved)
    meta["optimizer"]["lr"] = copy
    path = write(tmp_path / "two.safetensors", meta, arrays)
    for argv in (["sample", "--checkpoint", path], ["train", "--resume", path]):
        assert main([str(a) for a in argv]) == 2
        rate = meta["config"]["lr"]
        assert capsys.readouterr().err == (
            f"dinogui: error: {path}: damaged checkpoint: its optimizer's learning rate "
            f"{copy} is not its settings' {rate}\n")


@pytest.mark.parametrize("name", OPTIMIZER)
def test_a_missing_optimizer_setting_is_refused_naming_it(name, saved, tmp_path):
    meta, arrays = read(saved)
    del meta["optimizer"][name]
    path = write(tmp_path / "x.safetensors", meta, arrays)
    with pytest.raises(checkpoint.CheckpointError, match=f"optimizer's settings have no {name}$"):
        checkpoint.load(path)


def test_a_version_1_file_missing_settings_takes_the_defaults(saved, tmp_path):
    meta, arrays = as_version_1(*read(saved))
    for name in ("batch_size", "patience", "val_every"):
        del meta["config"][name]
    for name in ("beta1", "eps"):
        del meta["optimizer"][name]
    t = checkpoint.load(write_npz(tmp_path / "v1.npz", meta, arrays))
    default = TrainConfig()
    assert (t.config.batch_size, t.config.patience, t.config.val_every) == (
        default.batch_size, default.patience, default.val_every)
    assert (t.optimizer.beta1, t.optimizer.eps) == (Optimizer("adam").beta1, Optimizer("adam").eps)
    assert checkpoint.load(saved).config.batch_size == 3  # what the current format holds
