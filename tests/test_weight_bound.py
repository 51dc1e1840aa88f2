"""One bound on a weight's size (core.guard.MAX_MAGNITUDE): training never keeps a larger
value, a checkpoint holding one is refused, and anything within it samples without overflow."""

from __future__ import annotations

import numpy as np
import pytest

from dinogui.cli import main
from dinogui.core import checkpoint
from dinogui.core.guard import MAX_MAGNITUDE, StepGuard
from dinogui.core.optim import Optimizer
from tests.checkpoint_files import read, write


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("preset", ["classic", "default"])
def test_what_a_diverged_run_saves_loads_samples_and_resumes(preset, tmp_path, capsys):
    path = tmp_path / f"{preset}.safetensors"
    code, _, err = run(capsys, "train", "--preset", preset, "--lr", "3e37",
                       "--iterations", "20", "--save", path, "--quiet")
    assert code == 2 and f"{path} holds the last good weights" in err, err
    assert "weights infinite or too large" in err
    trainer = checkpoint.load(path)
    assert max(float(np.abs(p).max()) for p in trainer.params.values()) <= MAX_MAGNITUDE
    code, out, err = run(capsys, "sample", "--checkpoint", path, "--count", "5", "--scores")
    assert code == 0 and len(out.splitlines()) == 5, err
    code, out, err = run(capsys, "train", "--resume", path, "--lr", "0.01",
                         "--iterations", "5", "--quiet")
    assert code == 0 and "stopped: iterations" in out, err


def test_the_guard_undoes_a_step_beyond_the_bound_however_finite():
    w = np.zeros(4)
    guard = StepGuard(w)
    assert guard.limit == MAX_MAGNITUDE  # float64 could hold far more: the bound is ours
    guard.before(lr=MAX_MAGNITUDE, clip=5.0)  # the step may go past it: copied first
    w[:] = [0.0, 1.0, -2 * MAX_MAGNITUDE, 3.0]  # the update, finite but too large
    assert guard.after() is False and not w.any()
    guard.before(lr=MAX_MAGNITUDE, clip=5.0)
    w[:] = [0.0, 1.0, -MAX_MAGNITUDE, 3.0]  # at the bound: stands
    assert guard.after() is True and w[2] == -MAX_MAGNITUDE


def test_an_undone_first_adam_step_leaves_no_slots():
    """Slots created by the step are dropped, so what is saved says 0 steps and no state."""
    from dinogui.core.packing import ParamPack

    pack = ParamPack({"w": np.ones(3, np.float32)})
    opt, lr = Optimizer("adam"), 3e37
    guard = StepGuard(pack.flat, opt)
    pack.grad[:] = 1.0
    guard.before(lr, 5.0)
    opt.update_packed(pack, lr)
    assert guard.after() is False
    assert opt.t == 0 and opt.state == {} and (pack.flat == 1).all()


@pytest.mark.parametrize("scale, loads", [(1.0, True), (2.0, False)])
def test_the_reader_takes_exactly_what_the_guard_keeps(scale, loads, tmp_path, capsys):
    from dinogui.core.config import TrainConfig
    from dinogui.core.corpus import corpus_from_names
    from dinogui.core.trainer import Trainer

    names = ["anna", "bob", "carla", "dora"] * 4
    for preset in ("classic", "default"):
        t = Trainer(corpus_from_names(names), TrainConfig(preset=preset, samples=0))
        t.run(2)
        good = checkpoint.save(t, tmp_path / f"{preset}.safetensors")
        meta, arrays = read(good)
        for k in arrays:  # every weight at +-scale x the bound, signs mixed
            if k.startswith("param/"):
                a = arrays[k]
                arrays[k] = (np.where(np.arange(a.size).reshape(a.shape) % 2, 1, -1)
                             * scale * MAX_MAGNITUDE).astype(a.dtype)
        path = write(tmp_path / f"big-{preset}.safetensors", meta, arrays)
        code, out, err = run(capsys, "sample", "--checkpoint", path, "--count", "20",
                             "--temperature", "0.001", "--scores")
        if loads:
            assert code == 0 and len(out.splitlines()) == 20, err
        else:
            assert code == 2 and err.count("\n") == 1 and "beyond \u00b11e+30" in err, err


@pytest.mark.parametrize("preset", ["classic", "default"])
def test_weights_beyond_the_bound_in_memory_still_give_one_error_when_sampled(preset):
    """Sampling keeps its own overflow check for weights no file could bring."""
    import warnings

    from dinogui.core.config import TrainConfig
    from dinogui.core.corpus import corpus_from_names
    from dinogui.core.sampling import TOO_LARGE
    from dinogui.core.trainer import Trainer

    t = Trainer(corpus_from_names(["anna", "bob", "carla"] * 3),
                TrainConfig(preset=preset, samples=0))
    head = "Wya" if preset == "classic" else "W_hy"
    t.params[head][...] = np.finfo(t.params[head].dtype).max / 4
    t.params["b"][...] = 20.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="overflow") as info:
            list(t.sampler().stream(5, 0))  # as `sample` and the window draw
    assert str(info.value) == TOO_LARGE


def test_the_guards_adam_bound_grows_by_the_optimizers_own_next_step():
    """One Adam step formula (Optimizer.adam_step), for the update and for the guard's bound
    on it: the bound's growth is that step (of the update to come, t + 1) times clip / eps."""
    opt = Optimizer("adam", beta1=0.5, beta2=0.75, eps=1e-3, t=2)
    guard = StepGuard(np.zeros(3), opt)
    grown = guard._grown({"w": 0.0, "m": 0.0, "v": 0.0}, lr=0.1, clip=5.0)
    step = 0.1 * np.sqrt(1 - 0.75**3) / (1 - 0.5**3)  # Kingma and Ba's, at t = 3
    assert opt.adam_step(0.1, 3) == pytest.approx(step, rel=1e-15)
    assert grown["w"] == opt.adam_step(0.1, 3) * 5.0 / 1e-3
