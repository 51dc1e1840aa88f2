"""The quality preset (core.quality, core.timebudget): its picks for a list and a budget, the
trainer that stops at the budget with its schedule sized to end there, and `dinogui train
--preset quality` / `dinogui sample` on it."""

from __future__ import annotations

import json
import math

import pytest

from dinogui.cli import main
from dinogui.core import checkpoint, quality, recipe, schedule, settings, timebudget
from dinogui.core.config import PRESET_DEFAULTS, TrainConfig
from dinogui.core.corpus import corpus_from_names
from dinogui.core.trainer import Trainer
from tests.test_recipe import names_of


class StepClock:
    """A fake clock: each reading `tick` seconds after the last. Trainer.step reads it twice
    (before and after), so every step takes exactly `tick` seconds."""

    def __init__(self, tick: float) -> None:
        self.now, self.tick = 0.0, tick

    def __call__(self) -> float:
        self.now += self.tick
        return self.now


@pytest.fixture
def tick(monkeypatch):
    def use(seconds: float) -> StepClock:
        clock = StepClock(seconds)
        monkeypatch.setattr(timebudget, "clock", clock)
        return clock
    return use


TIER_1 = {"cell": "gru", "hidden": 64, "dropout": 0.2, "batch_size": 32, "lr": 3e-3}
TIER_2 = {"cell": "gru", "hidden": 128, "dropout": 0.3, "batch_size": 32, "lr": 3e-3}
TIER_3 = {"cell": "gru", "hidden": 256, "dropout": 0.3, "batch_size": 64, "lr": 3e-3}


@pytest.mark.parametrize(("count", "seconds", "model"), [
    # tiers end at 15,000 and 150,000 characters (1,875 and 18,750 names of 8 letters)
    (300, 4.9, {**TIER_1, "layers": 1}), (1875, 5.0, {**TIER_1, "layers": 2}),
    (1876, 5.0, {**TIER_2, "layers": 1}), (18750, 3000.0, {**TIER_2, "layers": 1}),
    (18751, 199.0, {**TIER_3, "layers": 1}),
    (18751, 200.0, {**TIER_3, "layers": 2, "lr": 5e-3})])
def test_the_picks_for_a_list_and_a_budget(count, seconds, model):
    """The recipe's model for the list, a second layer for the first tier from 5 s and for
    the last from 200 s (at lr 0.005), mixed with a 5-gram, checks by epochs; the budget's
    cosine schedule (sized by the trainer: 0), no patience, the budget itself."""
    corpus = corpus_from_names(names_of(count, 8))
    assert quality.settings_for(corpus, seconds) == {
        **model, "mix_ngram": 5, "val_every": 0, "patience": 0, "lr_schedule": "cosine",
        "weight_decay": 0.0, "time_budget": seconds, "schedule_iterations": 0}
    assert quality.settings_for(corpus)["time_budget"] == settings.QUALITY_SECONDS == 300.0
    assert quality.settings_for(corpus, held_out=False)["mix_ngram"] == 0
    got = quality.apply(TrainConfig.for_preset("quality", time_budget=seconds, seed=4), corpus)
    assert {k: getattr(got, k) for k in model} == model
    assert (got.seed, got.time_budget) == (4, seconds) and quality.applied(got, corpus)


def test_the_preset_own_settings_are_the_budget_picks():
    cfg = TrainConfig.for_preset("quality")
    assert {k: getattr(cfg, k) for k in quality.budget_settings()} == quality.budget_settings()
    assert PRESET_DEFAULTS["quality"]["time_budget"] == settings.QUALITY_SECONDS
    with pytest.raises(ValueError, match="time budget needs the default or quality preset"):
        TrainConfig.for_preset("classic", time_budget=5.0)
    # no budget: a cosine schedule still needs its length
    with pytest.raises(ValueError, match="needs the run's number of iterations"):
        TrainConfig.for_preset("quality", time_budget=0.0)


def _trainer(budget: float, **extra) -> Trainer:
    corpus = corpus_from_names(names_of(200, 5))
    return Trainer(corpus, TrainConfig.for_preset(
        "quality", cell="gru", hidden=8, batch_size=16, time_budget=budget, samples=0,
        sample_every=10**6, **extra))


def test_the_trainer_stops_at_its_budget_with_the_schedule_ended_there(tick):
    """0.5 s a step, a 15 s budget: the first step is not timed; after 20 timed steps (10.5 s
    spent) 4.5 s are left, 9 steps: the cosine ends at iteration 21 + 9 = 30, and the 30th
    step (iteration 29) spends the budget."""
    tick(0.5)
    t = _trainer(15.0)
    results = []
    while not results or results[-1].stopped is None:
        results.append(t.step())
    assert [r.stopped for r in results].count("seconds") == 1
    assert (results[-1].iteration, t.iteration) == (29, 30)
    assert t.config.schedule_iterations == 30 and t.budget_left() == 0.0
    assert results[19].lr == t.config.lr  # before the estimate: the full rate
    lr_29 = schedule.rate(t.config, 29)
    assert results[-1].lr == lr_29 < 0.01 * t.config.lr  # the end of the curve


def test_the_horizon_follows_the_step_time_at_each_held_out_check(tick):
    """Steps become twice as slow: at the next check the schedule is shortened to the steps
    that still fit."""
    clock = tick(0.5)
    t = _trainer(40.0, val_every=5)
    for _ in range(21):
        t.step()
    first = t.config.schedule_iterations
    assert first == 21 + int((40.0 - 10.5) / 0.5)  # 80
    clock.tick = 1.0
    while t.iteration < 26:  # iteration 25's check re-estimates
        t.step()
    spent, timed = 10.5 + 5 * 1.0, 10.0 + 5 * 1.0
    assert t.config.schedule_iterations == 26 + int((40.0 - spent) / (timed / 25)) < first


def test_a_given_horizon_is_kept(tick):
    tick(0.5)
    t = _trainer(15.0, schedule_iterations=50)
    for _ in range(25):
        t.step()
    assert t.config.schedule_iterations == 50


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def towns(tmp_path):
    path = tmp_path / "towns.txt"
    path.write_text("\n".join(names_of(120, 6)) + "\n", encoding="utf-8")
    return path


def test_train_preset_quality_stops_at_seconds_and_saves_the_best_weights(
        capsys, tmp_path, towns, tick):
    tick(0.0625)  # 1/16 s a step (exact in binary): 2.5 s are 40 steps
    log, ckpt = tmp_path / "q.jsonl", tmp_path / "q.ckpt"
    code, out, err = run(capsys, "train", "--corpus", towns, "--preset", "quality",
                         "--seconds", 2.5, "--log-jsonl", log, "--save", ckpt)
    assert code == 0, err
    t = checkpoint.load(ckpt)
    done = json.loads(log.read_text().splitlines()[-1])
    assert (done["stopped"], done["iterations"], t.iteration) == ("seconds", 40, 40)
    assert "stopped: seconds" in out and "the quality preset for 120 names" in out
    assert (t.config.preset, t.config.time_budget, t.config.lr_schedule) == (
        "quality", 2.5, "cosine")
    assert t.config.schedule_iterations == 21 + int((2.5 - 21 * 0.0625) / 0.0625)  # 40
    want = recipe.settings_for(t.corpus)
    assert {k: getattr(t.config, k) for k in recipe.MODEL} == {k: want[k] for k in recipe.MODEL}
    checks = [json.loads(line) for line in log.read_text().splitlines()
              if '"val"' in line]
    assert t.best_params is not None and t.state.best_val == min(c["val_loss"] for c in checks)


def test_the_budget_default_is_the_tables_and_flags_shape_the_model(capsys, tmp_path, towns):
    code, out, err = run(capsys, "train", "--corpus", towns, "--preset", "quality",
                         "--iterations", 3, "--save", tmp_path / "d.ckpt")
    assert code == 0, err
    t = checkpoint.load(tmp_path / "d.ckpt")
    assert (t.iteration, t.config.time_budget) == (3, settings.QUALITY_SECONDS)
    assert "time budget 300 s" in out and "stopped: iterations" in out
    # a model flag shapes the model (the preset's plain settings); the budget's picks stay
    code, out, err = run(capsys, "train", "--corpus", towns, "--preset", "quality",
                         "--hidden", 12, "--iterations", 2, "--save", tmp_path / "s.ckpt")
    assert code == 0, err
    s = checkpoint.load(tmp_path / "s.ckpt")
    assert (s.config.hidden, s.config.cell, s.config.mix_ngram) == (12, "rnn", 0)
    assert (s.config.lr_schedule, s.config.patience, s.config.time_budget) == (
        "cosine", 0, settings.QUALITY_SECONDS)
    assert "the quality preset for" not in out


def test_resume_keeps_the_preset_and_seconds_add_to_the_budget(capsys, tmp_path, towns):
    first = tmp_path / "a.ckpt"
    assert run(capsys, "train", "--corpus", towns, "--preset", "quality", "--iterations", 4,
               "--save", first)[0] == 0
    spent = checkpoint.load(first).state.seconds
    code, _out, err = run(capsys, "train", "--resume", first, "--iterations", 2,
                          "--save", tmp_path / "b.ckpt")
    assert code == 0, err
    b = checkpoint.load(tmp_path / "b.ckpt")
    assert (b.config.preset, b.iteration, b.config.time_budget) == (
        "quality", 6, settings.QUALITY_SECONDS)
    code, _out, err = run(capsys, "train", "--resume", first, "--seconds", 7,
                          "--iterations", 1, "--save", tmp_path / "c.ckpt")
    assert code == 0, err
    c = checkpoint.load(tmp_path / "c.ckpt")
    assert c.config.preset == "quality" and math.isclose(c.config.time_budget, spent + 7)
    code, _out, err = run(capsys, "train", "--resume", first, "--preset", "default")
    assert code == 2 and "--preset cannot change when resuming" in err


def test_resume_with_seconds_trains_them_on_a_schedule_sized_to_them(capsys, tmp_path, towns,
                                                                   tick):
    first = tmp_path / "a.ckpt"
    assert run(capsys, "train", "--corpus", towns, "--preset", "quality", "--iterations", 4,
               "--save", first)[0] == 0
    tick(0.0625)  # 2.5 s more are 40 steps; their schedule is sized after 21 of them
    code, out, err = run(capsys, "train", "--resume", first, "--seconds", 2.5,
                         "--save", tmp_path / "d.ckpt")
    assert code == 0, err
    d = checkpoint.load(tmp_path / "d.ckpt")
    assert (d.iteration, d.config.schedule_iterations) == (44, 4 + 21 + 19)
    assert "stopped: seconds" in out


def test_sample_draws_a_quality_model_from_its_best_weights(capsys, tmp_path, towns,
                                                            monkeypatch):
    for preset in ("quality", "default"):
        assert run(capsys, "train", "--corpus", towns, "--preset", preset, "--iterations",
                   3, "--save", tmp_path / f"{preset}.ckpt")[0] == 0
    asked = []
    real = Trainer.sampler

    def sampler(self, copy_params=False, best=False):
        asked.append(best)
        return real(self, copy_params, best)

    monkeypatch.setattr(Trainer, "sampler", sampler)
    for preset in ("quality", "default"):
        code, out, err = run(capsys, "sample", "--checkpoint", tmp_path / f"{preset}.ckpt",
                             "--count", 3)
        assert code == 0 and len(out.split()) == 3, err
    assert asked == [True, False]


def test_seconds_with_a_schedule_times_the_probe_after_its_first_step(monkeypatch, towns):
    """`train --seconds S --lr-schedule cosine` (the default preset): the probe's first step
    fits the hybrid's count model, ~100 steps' time; timed with the others it cut a 300 s
    schedule on names.txt to 786 iterations of ~13,000. Here the first step of each trainer
    takes 1 s and the others 0.01 s: the horizon counts 0.01 s steps."""
    from dinogui import cli
    from dinogui.core.corpus import load_corpus

    now = [0.0]
    real_step = Trainer.step

    def step(self, *args, **kwargs):
        now[0] += 1.0 if self.iteration == 0 else 0.01
        return real_step(self, *args, **kwargs)

    monkeypatch.setattr(Trainer, "step", step)
    monkeypatch.setattr(cli, "clock", lambda: now[0])
    corpus = load_corpus(towns)
    t = Trainer(corpus, TrainConfig.for_preset("default", **recipe.settings_for(corpus)))
    assert abs(cli._estimate_horizon(t, 30.0) - cli.PROBE_MARGIN * 30.0 / 0.01) <= 1


def test_more_time_stretches_the_schedule_at_once_never_back_to_the_base_rate(tick):
    """A finished 2.5 s run (40 steps of 1/16 s) given 5 s in all: its cosine ends at
    iteration 80 from the moment the budget changes, so the next step takes half the base
    rate (the curve at 40 of 80), not the full rate until 20 more steps are timed. A resumed
    copy sizes it the same from the saved run's own mean step time."""
    import copy

    tick(0.0625)
    t = _trainer(2.5)
    while t.step().stopped is None:
        pass
    assert t.iteration == 40 and schedule.rate(t.config, 39) < 0.01 * t.config.lr
    t.state.seconds = t.budget_clock.total  # what the caller adds up and a checkpoint keeps
    resumed = Trainer.restore(t.corpus, t.config, {k: v.copy() for k, v in t.params.items()},
                              copy.deepcopy(t.optimizer), copy.deepcopy(t.state),
                              t.history.copy(), None)
    for trainer in (t, resumed):
        trainer.set_live(time_budget=5.0, schedule_iterations=0)  # the window's Budget field
        assert trainer.config.schedule_iterations == 80
        assert trainer.step().lr == pytest.approx(0.5 * trainer.config.lr, rel=1e-12)


def test_a_spent_budget_takes_no_step(tick):
    from dinogui.core.loop import SECONDS, StepLoop

    tick(0.0625)
    t = _trainer(1.0)
    while t.step().stopped is None:
        pass
    at = t.iteration
    end = StepLoop(t).run()
    assert (end.reason, t.iteration) == (SECONDS, at)


def test_the_lr_finder_sweeps_the_rates_themselves_on_a_finished_quality_run(tick):
    """Its copy takes each swept rate as it is: not scaled by the finished cosine (0), nor
    stopped by the spent budget."""
    from dinogui.core.lr_find import copy_trainer

    tick(0.0625)
    t = _trainer(1.0)
    while t.step().stopped is None:
        pass
    twin = copy_trainer(t)
    twin.set_live(lr=0.02)
    assert twin.step().lr == 0.02 and twin.budget_left() is None


def test_iterations_alone_end_the_quality_schedule_and_warmup_is_not_held_to_them(
        capsys, tmp_path, towns):
    code, _out, err = run(capsys, "train", "--corpus", towns, "--preset", "quality",
                          "--iterations", 5, "--save", tmp_path / "a.ckpt")
    assert code == 0, err
    cfg = checkpoint.load(tmp_path / "a.ckpt").config
    assert (cfg.lr_schedule, cfg.schedule_iterations) == ("cosine", 5)
    # by time (no --iterations): a warm-up longer than the default iteration count is fine
    code, _out, err = run(capsys, "train", "--corpus", towns, "--preset", "quality",
                          "--warmup", 40_000, "--seconds", 0.2, "--quiet")
    assert code == 0, err
