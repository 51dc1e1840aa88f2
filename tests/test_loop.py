"""core/loop.py, the one training loop: each stop rule alone (exact counts, reasons,
messages), its callbacks, and `dinogui train` and the window's worker training the same."""

from __future__ import annotations

import numpy as np
import pytest

from dinogui import cli
from dinogui.core import checkpoint
from dinogui.core.blowup import BlowupWatch
from dinogui.core.config import TrainConfig
from dinogui.core.corpus import load_corpus
from dinogui.core.loop import BLOWUP, DIVERGED, FAILED, SECONDS, STEPS, UNTIL, StepLoop
from dinogui.core.trainer import Trainer, TrainingDiverged


def trainer_for(corpus, preset: str = "default", **config) -> Trainer:
    return Trainer(load_corpus(corpus), TrainConfig.for_preset(preset, **config))


class FakeClock:
    """Each reading is `tick` seconds after the last."""

    def __init__(self, tick: float) -> None:
        self.now, self.tick, self.readings = 0.0, tick, 0

    def __call__(self) -> float:
        self.now += self.tick
        self.readings += 1
        return self.now


def test_the_steps_are_trainer_steps_and_each_reaches_on_step_in_order(tiny_corpus):
    seen = []
    loop = StepLoop(trainer_for(tiny_corpus), steps=7, on_step=lambda r, h: seen.append((r, h)))
    end = loop.run()
    plain = trainer_for(tiny_corpus)
    expected = [plain.step() for _ in range(7)]
    assert (end.reason, end.message, end.blowup, loop.taken) == (STEPS, "", None, 7)
    assert [r.iteration for r, _ in seen] == list(range(7))
    assert [r.loss for r, _ in seen] == [r.loss for r in expected]
    assert all(h is None for _, h in seen)  # no health probe asked for


def test_until_counts_from_the_trainers_iteration_and_steps_from_this_run(tiny_corpus):
    trainer = trainer_for(tiny_corpus)
    trainer.run(3)
    assert StepLoop(trainer, until=10).run().reason == UNTIL and trainer.iteration == 10
    loop = StepLoop(trainer, until=100, steps=4)
    assert loop.run().reason == STEPS and trainer.iteration == 14 and loop.taken == 4
    # already there: no step at all
    loop = StepLoop(trainer, until=14, steps=4)
    assert loop.run().reason == UNTIL and loop.taken == 0 and trainer.iteration == 14


def test_the_time_budget_reads_the_clock_once_then_twice_a_step(tiny_corpus):
    clock = FakeClock(0.5)  # the start; before and after each step: 1 s a step
    loop = StepLoop(trainer_for(tiny_corpus), steps=100, seconds=5, clock=clock)
    end = loop.run()
    # before step k the clock reads 0.5 + k s past the start: 5 steps fit in 5 s
    assert (end.reason, loop.taken, loop.trainer.iteration) == (SECONDS, 5, 5)
    assert clock.readings == 1 + 2 * 5 + 1
    assert loop.step_seconds == pytest.approx(5 * 0.5)  # each step: one tick of its own


def test_should_stop_is_asked_before_every_step_and_its_reason_ends_the_run(tiny_corpus):
    asked = []

    def should_stop():
        asked.append(loop.trainer.iteration)
        return "paused" if len(asked) == 4 else None

    loop = StepLoop(trainer_for(tiny_corpus), steps=10, should_stop=should_stop)
    end = loop.run()
    assert (end.reason, loop.taken) == ("paused", 3) and asked == [0, 1, 2, 3]


def test_until_and_health_every_may_change_between_steps(tiny_corpus):
    """The worker's slider and Health tab K change them while it trains (via should_stop)."""
    samples = []

    def should_stop():
        if loop.trainer.iteration == 5:
            loop.until, loop.health_every = 9, 3
        return None

    loop = StepLoop(trainer_for(tiny_corpus), until=1000, should_stop=should_stop,
                    on_step=lambda r, h: samples.append(h and h.iteration))
    assert loop.run().reason == UNTIL and loop.trainer.iteration == 9
    assert [s for s in samples if s is not None] == [6]  # iterations 5..8 watched at % 3


def test_the_health_probe_watches_every_kth_step_but_never_a_count_model(tiny_corpus):
    got = []
    loop = StepLoop(trainer_for(tiny_corpus), steps=10, health_every=4,
                    on_step=lambda r, h: got.append((r.iteration, h)))
    loop.run()
    watched = [(i, h.iteration) for i, h in got if h is not None]
    assert watched == [(0, 0), (4, 4), (8, 8)]
    assert len(got[4][1].grad_norm) == len(got[4][1].weights) > 0
    got.clear()
    counts = StepLoop(trainer_for(tiny_corpus, cell="ngram", val_fraction=0.25), steps=5,
                      health_every=1, on_step=lambda r, h: got.append(h))
    end = counts.run()
    assert (end.reason, got) == ("fitted", [None])  # one step fits it: early stopping


def test_patience_stops_after_the_step_whose_check_used_it_up(tiny_corpus):
    trainer = trainer_for(tiny_corpus, val_fraction=0.25, val_every=1, patience=2, lr=0.5)
    last = []
    end = StepLoop(trainer, steps=5000, on_step=lambda r, h: last.append(r.stopped)).run()
    assert end.reason == "patience" and last[-1] == "patience" and set(last[:-1]) == {None}
    assert end.message == trainer.patience_message() and trainer.checks_since_best == 2


def test_divergence_ends_the_run_with_the_last_good_weights(tiny_corpus):
    plain = trainer_for(tiny_corpus, "classic", lr=1e30)
    with pytest.raises(TrainingDiverged) as diverged:
        for _ in range(50):
            plain.step()
    trainer = trainer_for(tiny_corpus, "classic", lr=1e30)
    end = StepLoop(trainer, steps=50).run()
    assert (end.reason, end.message) == (DIVERGED, str(diverged.value))
    assert trainer.iteration == plain.iteration < 50
    for k, v in plain.params.items():
        np.testing.assert_array_equal(trainer.params[k], v, err_msg=k)


def test_other_errors_propagate_unless_caught_as_failed(tiny_corpus, monkeypatch):
    trainer = trainer_for(tiny_corpus)
    real = trainer.step

    def step(stop=None):
        if trainer.iteration == 3:
            raise MemoryError("out of memory in a product")
        return real()

    monkeypatch.setattr(trainer, "step", step)
    with pytest.raises(MemoryError):
        StepLoop(trainer, steps=10).run()
    end = StepLoop(trainer, steps=10, catch_failures=True).run()
    assert (end.reason, end.message) == (FAILED, "MemoryError: out of memory in a product")
    assert trainer.iteration == 3


@pytest.mark.parametrize("stop", [True, False])
def test_a_blowup_is_handed_to_on_blowup_once_which_says_whether_to_stop(tiny_corpus, stop):
    """tiny_corpus at lr 0.3 blows up (tests/test_blowup.py): at the step the watch alone
    sees it, after that step's on_step."""
    plain = trainer_for(tiny_corpus, "classic", lr=0.3)
    watch = BlowupWatch(plain)
    at = next(j for j in range(400) if watch.observe(plain.step()) is not None)
    trainer = trainer_for(tiny_corpus, "classic", lr=0.3)
    calls, steps = [], []
    loop = StepLoop(trainer, steps=400, watch=BlowupWatch(trainer),
                    on_step=lambda r, h: steps.append(r.iteration),
                    on_blowup=lambda b: calls.append((b.iteration, steps[-1])) or stop)
    end = loop.run()
    assert calls == [(at + 1, at)]  # steps taken then; that step already reported
    assert end.blowup is not None and end.blowup.iteration == at + 1
    if stop:
        assert (end.reason, loop.taken) == (BLOWUP, at + 1)
        assert end.message == end.blowup.summary()
    else:
        assert (end.reason, loop.taken) == (STEPS, 400)


def test_dinogui_train_and_the_windows_worker_train_the_same(qtbot, tmp_path, tiny_corpus,
                                                              capsys):
    """The same settings through `dinogui train` and through the worker (as the window
    drives it: start until N, stopped on reaching it): the same losses, the same weights."""
    from dinogui.worker import WorkerThread

    ckpt = tmp_path / "cli.ckpt"
    assert cli.main(["train", "--corpus", str(tiny_corpus), "--preset", "default",
                     "--iterations", "60", "--sample-every", "25", "--val-fraction", "0.25",
                     "--lr", "0.02", "--quiet", "--save", str(ckpt)]) == 0
    capsys.readouterr()
    by_cli = checkpoint.load(ckpt)
    trainer = trainer_for(tiny_corpus, sample_every=25, val_fraction=0.25, lr=0.02)
    assert trainer.config == by_cli.config

    pair = WorkerThread()
    pair.start()
    try:
        pair.worker.attach(trainer)
        with qtbot.waitSignal(pair.worker.stopped, timeout=20000) as stopped:
            pair.worker.start(until=60)
    finally:
        assert pair.stop()
    assert (stopped.args[0].reason, trainer.iteration) == ("budget", 60)
    for column in ("loss", "chars", "smooth"):
        np.testing.assert_array_equal(trainer.history.column(column),
                                      by_cli.history.column(column), err_msg=column)
    assert trainer.state.val_losses == by_cli.state.val_losses
    for k, v in by_cli.params.items():
        np.testing.assert_array_equal(trainer.params[k], v, err_msg=k)
