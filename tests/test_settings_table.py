"""core.settings is the one home of every setting's limits: the command line, the window and
checkpoints take exactly the values it allows, and a value survives every hop unchanged.

The tests read the table, never a retyped limit: change a limit there and every check here
follows; write a limit anywhere else and one of them fails.
"""

from __future__ import annotations

import argparse
import math

import numpy as np
import pytest

from dinogui import cli
from dinogui.core import checkpoint
from dinogui.core.corpus import corpus_from_names
from dinogui.core.settings import ITERATIONS, SAMPLING, TINY, TRAINING, Setting
from dinogui.core.trainer import Trainer
from tests.gui_support import WAIT_MS, ScriptedDialogs, open_window

NAMES = ["ab", "abc", "bca", "cab", "bb", "ca", "acb", "bac"]
# settings no flag of `train` takes: the dtype is the preset's, max_len the sampler's, and a
# schedule's length is the run's --iterations, and the time budget is --seconds (SECONDS)
NOT_TRAIN_FLAGS = {"dtype", "max_len", "schedule_iterations", "time_budget"}


def _subparser(name: str) -> argparse.ArgumentParser:
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices[name]


def _actions(name: str) -> dict[str, argparse.Action]:
    return {a.dest: a for a in _subparser(name)._actions}


def _accepts(action: argparse.Action, text: str) -> bool:
    try:
        action.type(text)
    except argparse.ArgumentTypeError:
        return False
    return True


def edges(s: Setting) -> tuple[list[str], list[str]]:
    """Values the setting takes and values just outside it, as a user types them."""
    if s.positive:
        return ["1e-300", "1.5e-05", "1e+300"], ["0", "9.99e-301", "-1e-300", "inf", "nan"]
    if s.kind is int:
        return [str(int(s.low)), str(int(s.high))], [str(int(s.low) - 1), str(int(s.high) + 1)]
    return ([repr(float(s.low)), repr(float(s.high))],
            [repr(float(np.nextafter(s.low, -math.inf))),
             repr(float(np.nextafter(s.high, math.inf))), "nan"])


@pytest.mark.parametrize(("command", "table"), [("train", TRAINING), ("sample", SAMPLING)])
def test_every_option_takes_exactly_what_the_table_allows(command, table):
    actions = _actions(command)
    if command == "train":
        table = {**table, "iterations": ITERATIONS}
        assert set(table) - set(actions) == NOT_TRAIN_FLAGS  # every other setting is a flag
    checked = 0
    for name, setting in table.items():
        action = actions.get(name)
        if action is None:
            continue
        assert action.option_strings == [setting.flag], name
        if setting.choices:
            assert tuple(action.choices) == setting.choices, name
        else:
            good, bad = edges(setting)
            assert all(_accepts(action, v) for v in good), (name, good)
            assert not any(_accepts(action, v) for v in bad), (name, bad)
            assert setting.rule() in action.help, (name, action.help)
        checked += 1
    assert checked >= (15 if command == "train" else 8)


def test_every_window_field_takes_exactly_what_the_table_allows(qtbot):
    from PySide6.QtGui import QAction

    from dinogui.widgets.hyperparams import CONFIG_FIELDS, HyperparamsPanel
    from dinogui.widgets.samples_panel import WINDOW_MAX_COUNT, SamplesPanel

    panel = HyperparamsPanel()
    qtbot.addWidget(panel)
    for name in (*CONFIG_FIELDS, "budget"):
        setting = ITERATIONS if name == "budget" else TRAINING[name]
        box = getattr(panel, name)
        if setting.choices:
            assert tuple(box.itemData(i) for i in range(box.count())) == setting.choices
        elif setting.positive:
            assert box.minimum() == TINY and box.maximum() > 1e300, name
        else:
            assert (box.minimum(), box.maximum()) == (setting.low, setting.high), name
    samples = SamplesPanel(QAction("s"), QAction("c"), QAction("e"))
    qtbot.addWidget(samples)
    for name in ("temperature", "min_len", "max_len", "seed"):
        box = getattr(samples, name)
        assert (box.minimum(), box.maximum()) == (SAMPLING[name].low, SAMPLING[name].high)
    # the window's own representations: 0 stands for "off" (None), and a list in the window
    # holds at most WINDOW_MAX_COUNT names (the command line streams any count)
    assert (samples.top_k.minimum(), samples.top_k.maximum()) == (
        SAMPLING["top_k"].low - 1, SAMPLING["top_k"].high)
    assert samples.top_k.specialValueText() == "off"
    assert (samples.count.minimum(), samples.count.maximum()) == (
        SAMPLING["count"].low, WINDOW_MAX_COUNT)
    assert samples.top_p.maximum() == SAMPLING["top_p"].high
    from dinogui.core.settings import HEALTH_EVERY
    from dinogui.widgets.health_plot import HealthPlot

    health = HealthPlot()
    qtbot.addWidget(health)
    assert (health.every.minimum(), health.every.maximum(), health.every.value()) == (
        HEALTH_EVERY.low, HEALTH_EVERY.high, HEALTH_EVERY.default)


def _limits() -> list[tuple[str, object]]:
    """(setting, value) at each end of every setting the command line and the window share."""
    cases = []
    for name in cli.TRAIN_FLAGS:
        s = TRAINING[name]
        if s.choices:
            cases += [(name, c) for c in s.choices]
        elif s.positive:
            cases += [(name, v) for v in (1e-7, 1.5e-05, 0.005, 3e3)]
        else:
            cases += [(name, s.kind(s.low)), (name, s.kind(s.high))]
    return cases


def _flags(cfg: dict) -> list[str]:
    return [a for k, v in cfg.items() for a in (TRAINING[k].flag, str(v))]


@pytest.mark.parametrize(("name", "value"), _limits())
def test_a_value_at_its_limit_survives_cli_checkpoint_and_window(qtbot, tmp_path, name, value):
    """CLI -> checkpoint -> the window's panel -> a config again: the same value, exactly."""
    from dinogui.widgets.hyperparams import HyperparamsPanel

    extra = {"cell": "gru"} if name == "dropout" else {}  # dropout needs a gated cell
    if name == "layers" and value == TRAINING["layers"].high:
        extra["hidden"] = 4
    given = {"preset": "default", **extra, name: value}
    if name == "preset" and value == "classic":
        given = {"preset": "classic"}
    args = cli.build_parser().parse_args(["train", *_flags(given)])
    config = cli._config_for(args)
    assert getattr(config, name) == value and type(getattr(config, name)) is type(value)
    if name in ("hidden", "batch_size") and value == TRAINING[name].high:
        # no model that large here: the config's hop through a checkpoint is the same code
        loaded = config
    else:
        trainer = Trainer(corpus_from_names(NAMES), config)
        loaded = checkpoint.load(checkpoint.save(trainer, tmp_path / "c.safetensors")).config
    assert loaded == config

    panel = HyperparamsPanel()
    qtbot.addWidget(panel)
    panel.set_config(loaded)
    assert panel.config(base=loaded) == config  # the window changed nothing


def test_reset_rebuilds_a_cli_checkpoint_with_its_own_settings(qtbot, tmp_path, tiny_corpus):
    """The issue's case: settings the panel used to round (lr 1.5e-5 -> 2e-5, clip 0.005 ->
    0.01, batch 10,000 -> 4,096, ...) or does not show at all (dropout, held-out fraction)."""
    path = tmp_path / "cli.safetensors"
    code = cli.main(["train", "--corpus", str(tiny_corpus), "--cell", "gru", "--lr", "1.5e-5",
                     "--clip", "0.005", "--batch-size", "10000", "--samples", "500",
                     "--sample-every", "50000000", "--dropout", "0.3", "--val-fraction", "0.25",
                     "--val-every", "7", "--iterations", "3", "--save", str(path), "--quiet"])
    assert code == 0
    saved = checkpoint.load(path).config
    dialogs = ScriptedDialogs()
    w = open_window(qtbot, tmp_path, tiny_corpus, dialogs=dialogs)
    w.open_checkpoint_path(path)
    qtbot.waitUntil(lambda: w.session.trainer is not None and w.session.iteration == 3
                    and not w.session.busy,
                    timeout=WAIT_MS)
    assert w.hyperparams.config(base=w.session.config) == saved
    dialogs.confirms = [True]  # "reset the model?" (it is saved: nothing is lost)
    dialogs.choices = [1] * 3  # whichever way the window asks, discard
    w.actions_.reset.trigger()
    qtbot.waitUntil(lambda: w.session.iteration == 0 and not w.session.busy, timeout=WAIT_MS)
    assert w.worker.call(lambda t: t.config) == saved
    again = checkpoint.load(checkpoint.save(w.worker.call(lambda t: t),
                                            tmp_path / "again.safetensors"))
    assert again.config == saved
