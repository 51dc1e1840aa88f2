"""BLAS threads by GEMM size: the rule (a pure function of sizes), the trainer's choice, and the
nesting of blocks at different counts (the bench measures whether the rule pays)."""

import pytest

from dinogui.core import threads
from dinogui.core.config import TrainConfig
from dinogui.core.corpus import corpus_from_names
from dinogui.core.threads import (
    IDLE_FOR_TWO,
    TRAINING_THREADS,
    TWO_THREADS_FLOPS,
    blas_threads,
    threads_for,
    training_threads,
)
from dinogui.core.trainer import Trainer


def test_rule_switches_at_the_threshold_of_the_recurrent_products_flops():
    assert TRAINING_THREADS == 1
    # the figures: 2 threads lose at hidden 50 (batch 32, 256) and 128 x 64, win at
    # 256 x 256
    assert threads_for(32, 50) == 1
    assert threads_for(256, 50) == 1
    assert threads_for(64, 128) == 1
    assert threads_for(48, 50) == 1  # the default preset
    assert threads_for(256, 256) == 2
    # exactly at the threshold, and one flop-worth of batch below it
    h = 100
    batch = TWO_THREADS_FLOPS // (2 * h * h)
    assert 2 * batch * h * h == TWO_THREADS_FLOPS
    assert threads_for(batch, h) == 2
    assert threads_for(batch - 1, h) == 1
    # gates multiply the product: a GRU (3) and an LSTM (4) switch at a third, a quarter
    assert threads_for(batch // 3 + 1, h, 3) == 2
    assert threads_for(batch // 3 - 1, h, 3) == 1
    assert threads_for(batch // 4, h, 4) == 2
    assert threads_for(batch // 4 - 1, h, 4) == 1
    # a big product on a busy machine: one thread (a second waits for a core at every product)
    assert threads_for(256, 256, 1, idle=IDLE_FOR_TWO) == 2
    assert threads_for(256, 256, 1, idle=IDLE_FOR_TWO - 0.01) == 1
    assert threads_for(256, 256, 1, idle=0.0) == 1


def test_idle_cores_is_the_core_count_less_the_load(monkeypatch):
    monkeypatch.setattr(threads.os, "cpu_count", lambda: 4)
    monkeypatch.setattr(threads.os, "getloadavg", lambda: (1.25, 9.0, 9.0))
    assert threads.idle_cores() == 2.75
    monkeypatch.delattr(threads.os, "getloadavg")  # a system without one: the count alone
    assert threads.idle_cores() == 4.0


@pytest.fixture(autouse=True)
def unpinned(monkeypatch):
    """A window test earlier in this process may have pinned the count (pin_blas_threads)."""
    monkeypatch.setattr(threads._LIMIT, "pinned", None)


@pytest.fixture
def idle_machine(monkeypatch):
    monkeypatch.setattr("dinogui.core.trainer.idle_cores", lambda: 2.0)


def _names(n):
    return [f"{a}{b}{c}" for a in "abcdefgh" for b in "ijklmnop" for c in "qrstuvwx"][:n]


@pytest.mark.parametrize("cell,hidden,batch,want", [
    ("rnn", 50, 48, 1), ("rnn", 256, 256, 2), ("gru", 160, 96, 2), ("gru", 160, 64, 1),
    ("lstm", 128, 96, 2),
])
def test_trainer_takes_the_rules_count(cell, hidden, batch, want, idle_machine):
    t = Trainer(corpus_from_names(_names(400)),
                TrainConfig.for_preset("default", cell=cell, hidden=hidden, batch_size=batch))
    assert t.blas_threads == want == threads_for(min(batch, len(t.train_rows)), hidden,
                                                 {"rnn": 1, "gru": 3, "lstm": 4}[cell])


def test_a_short_list_counts_its_names_not_the_batch_size(idle_machine):
    # 40 names, 36 trained on: a batch of 256 is a batch of 36
    t = Trainer(corpus_from_names(_names(40)),
                TrainConfig.for_preset("default", hidden=256, batch_size=256))
    assert t.blas_threads == threads_for(36, 256) == 1


def test_classic_and_the_count_model_stay_at_one(idle_machine):
    corpus = corpus_from_names(_names(100))
    assert Trainer(corpus, TrainConfig(preset="classic", hidden=512)).blas_threads == 1
    assert Trainer(corpus, TrainConfig.for_preset("default", cell="ngram")).blas_threads == 1


def test_a_busy_machine_keeps_one_thread_for_a_big_model(monkeypatch):
    monkeypatch.setattr("dinogui.core.trainer.idle_cores", lambda: 0.4)
    t = Trainer(corpus_from_names(_names(300)),
                TrainConfig.for_preset("default", hidden=256, batch_size=256))
    assert t.blas_threads == 1


def test_steps_run_at_their_trainers_count_and_blocks_nest(idle_machine):
    before = blas_threads()
    if not before:
        pytest.skip("no BLAS library that threadpoolctl can control")
    big = Trainer(corpus_from_names(_names(300)),
                  TrainConfig.for_preset("default", hidden=256, batch_size=256))
    assert big.blas_threads == 2
    seen = []
    big.run(1, on_step=lambda r: seen.append(blas_threads()))
    assert seen == [[2] * len(before)]
    assert blas_threads() == before
    with training_threads():  # a loop at one thread, then a step of the big model inside it
        assert blas_threads() == [1] * len(before)
        with training_threads(2):
            assert blas_threads() == [2] * len(before)
            with training_threads(2):
                assert blas_threads() == [2] * len(before)
            assert blas_threads() == [2] * len(before)
        assert blas_threads() == [1] * len(before)  # the outer count is back
    assert blas_threads() == before
    with threads.using(1):  # the bench's override
        big.run(1, on_step=lambda r: seen.append(blas_threads()))
    assert seen[-1] == [1] * len(before)
    assert blas_threads() == before


def test_a_pinned_process_never_changes_the_count(idle_machine, monkeypatch):
    before = blas_threads()
    if not before:
        pytest.skip("no BLAS library that threadpoolctl can control")
    monkeypatch.setattr(threads._LIMIT, "pinned", 1)  # as the window's pin_blas_threads does
    big = Trainer(corpus_from_names(_names(300)),
                  TrainConfig.for_preset("default", hidden=256, batch_size=256))
    assert big.blas_threads == 2
    seen = []
    big.run(1, on_step=lambda r: seen.append(blas_threads()))
    with training_threads(2):
        seen.append(blas_threads())
    assert seen == [before, before]
