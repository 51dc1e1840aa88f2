"""Every field of the window's Model, Training and Sample panels does what it says, exactly.

Each field is set the way a user sets it (setValue / setCurrentIndex on the widget, typing
into it) and the window applies it; the trainer in the worker's thread must then hold that
value and act on it exactly as a headless `Trainer` built independently from the same values
(never from the window's own config, which could share a bug). Sampling fields must draw
what `dinogui sample` prints for the same settings, and other names than the neighbouring
value, so an ignored or off-by-one field fails. One test enumerates the panels' input
widgets and fails when one has no test here. The wheel changes only a field the user
clicked into; over the others it scrolls the column.
"""

from __future__ import annotations

import inspect
import re
import sys

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from dinogui import cli
from dinogui.core import recipe
from dinogui.core.config import TrainConfig
from dinogui.core.corpus import load_corpus
from dinogui.core.sampling import display_name
from dinogui.core.trainer import Trainer
from dinogui.widgets.hyperparams import DEFAULT_MIX
from tests.gui_support import (
    WAIT_MS,
    ScriptedDialogs,
    open_window,
    set_panel,
    settle,
    train,
    wait_stopped,
    wheel,
)

pytest.importorskip("pytestqt")

NOTE = re.compile(r"^\[(\d\d:\d\d:\d\d|end)\] ?")


def apply(qtbot, w, **values) -> None:
    """Set hyperparameter fields as a user would, and wait for the window to act on them."""
    set_panel(w, **values)
    qtbot.waitUntil(lambda: not w.session.busy,
                    timeout=WAIT_MS)  # a model setting rebuilds the model


def worker_config(w) -> TrainConfig:
    return w.worker.call(lambda t: t.config)


def logged_reports(text: str) -> list[tuple[int, list[str]]]:
    """(iteration, names) of each report block in the Reports log, as `dinogui train` prints.

    A block runs to the next report or time-stamped note and ends with a blank line; a
    report's names may be empty lines themselves (the classic scheme keeps empty draws).
    """
    reports, block = [], None
    for line in [*text.splitlines(), "[end]"]:
        if line.startswith("Iteration: ") or NOTE.match(line):
            if block is not None:
                reports.append((block[0], block[1][:-1]))  # the separating blank line
            block = None
        if line.startswith("Iteration: "):
            block = (int(line.split(",")[0].split()[1]), [])
        elif block is not None and not line.startswith("held-out loss"):
            block[1].append(line)
    return reports


def history(t: Trainer) -> dict[str, np.ndarray]:
    return t.history.to_arrays()


# -- the Model and Training panels ------------------------------------------------------

def test_preset(qtbot, tmp_path, tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus)  # classic
    assert "Wax" in w.worker.call(lambda t: t.params)
    apply(qtbot, w, preset="default")
    cfg = worker_config(w)
    assert cfg.preset == "default" and cfg.val_fraction == 0.1 and cfg.optimizer == "adam"
    assert "W_h" in w.worker.call(lambda t: t.params)
    apply(qtbot, w, preset="classic")
    assert worker_config(w).preset == "classic" and "Wax" in w.worker.call(lambda t: t.params)


def test_the_seed_fields_take_every_seed_the_command_line_takes(qtbot, tmp_path, tiny_corpus):
    """0 to 4294967295 (RandomState's range), past QSpinBox's 2**31 - 1."""
    w = open_window(qtbot, tmp_path, tiny_corpus)
    top = 2**32 - 1
    assert w.hyperparams.seed.maximum() == w.samples.seed.maximum() == top
    apply(qtbot, w, seed=3_000_000_000)
    seed = worker_config(w).seed
    assert seed == 3_000_000_000 and isinstance(seed, int)
    headless = Trainer(load_corpus(tiny_corpus), TrainConfig.for_preset("classic",
                                                                        seed=3_000_000_000))
    np.testing.assert_array_equal(w.worker.call(lambda t: t.params["Wax"].copy()),
                                  headless.params["Wax"])


def test_the_quality_preset_and_its_budget_field(qtbot, tmp_path, tiny_corpus, monkeypatch):
    """Chosen in the Preset combo: its own settings, the list's model, the Budget field in
    place of Iterations; the Budget reaches the trainer (live) and training stops there.
    Chosen away: the default preset's settings come back."""
    from dinogui.core import quality, settings, timebudget
    from tests.test_quality import StepClock

    w = open_window(qtbot, tmp_path, tiny_corpus, preset=None)  # a first launch: the recipe
    hp = w.hyperparams
    apply(qtbot, w, preset="quality")
    cfg = worker_config(w)
    assert (cfg.preset, cfg.lr_schedule, cfg.patience, cfg.time_budget,
            cfg.schedule_iterations) == ("quality", "cosine", 0, settings.QUALITY_SECONDS, 0)
    picks = quality.settings_for(w.session.trainer.corpus, settings.QUALITY_SECONDS)
    assert {k: getattr(cfg, k) for k in quality.MODEL} == {k: picks[k] for k in quality.MODEL}
    assert (cfg.layers, hp.layers.value()) == (2, 2)  # a short list's pick from 5 s
    assert hp.time_budget.isVisibleTo(hp) and not hp.budget.isVisibleTo(hp)
    assert hp.budget_value() is None and hp.time_budget.value() == settings.QUALITY_SECONDS
    assert w.status.budget is None  # no iterations to count down to: the time instead
    assert w.status.time_budget == settings.QUALITY_SECONDS
    assert w.status.progress.text() == "0% · 5:00 left"
    assert hp.follows_recipe()
    corpus = w.session.trainer.corpus
    assert f"Model: {quality.describe(corpus, settings.QUALITY_SECONDS)}." in w.log.toPlainText()
    monkeypatch.setattr(timebudget, "clock", StepClock(0.0625))  # 1/16 s a step
    apply(qtbot, w, time_budget=2.5)  # live: the same model
    qtbot.waitUntil(lambda: worker_config(w).time_budget == 2.5, timeout=WAIT_MS)
    assert w.status.time_budget == 2.5
    w.actions_.start.trigger()
    qtbot.waitUntil(lambda: not w.session.training and w.session.iteration > 0, timeout=WAIT_MS)
    assert w.session.iteration == 40 and worker_config(w).schedule_iterations == 40
    assert "Reached the time budget (2.5 s of training) at iteration 40" in w.statusBar(
        ).currentMessage() + w.log.toPlainText()
    apply(qtbot, w, time_budget=5)  # more time: it trains on from there
    w.actions_.start.trigger()
    qtbot.waitUntil(lambda: not w.session.training and w.session.iteration > 40, timeout=WAIT_MS)
    assert w.session.iteration == 80
    # the schedule the trainer sized came back with the stop: the next step's rate is its end
    assert w.session.config.schedule_iterations == worker_config(w).schedule_iterations == 80
    assert w.session.next_rate() == 0.0
    # Reset: a fresh model sizes its own schedule to its own steps' time, not the old one's
    w.dialogs.choices = [1]  # Discard the unsaved training
    w.actions_.reset.trigger()
    qtbot.waitUntil(lambda: w.session.iteration == 0 and not w.session.busy, timeout=WAIT_MS)
    assert worker_config(w).schedule_iterations == 0 and worker_config(w).time_budget == 5
    assert w.session.next_rate() == worker_config(w).lr
    w.dialogs.choices = [1]  # the trained model is discarded for a new one ("Discard")
    apply(qtbot, w, preset="default")
    cfg = worker_config(w)
    assert (cfg.preset, cfg.lr_schedule, cfg.patience, cfg.time_budget) == (
        "default", "constant", recipe.COMMON["patience"], 0.0)
    assert hp.budget.isVisibleTo(hp) and not hp.time_budget.isVisibleTo(hp)
    assert w.status.budget == hp.budget_value() == hp.budget.value()
    assert w.status.time_budget is None


# the non-default values set below, and the independent config they must give
MODEL = dict(cell="gru", layers=2, hidden=7, optimizer="adagrad", batch_size=3, seed=11)
LIVE = dict(lr=0.03, clip=0.25, sample_every=13, samples=4, patience=0)
BUDGET = 40


def test_model_and_training_fields_reach_the_trainer_and_act_exactly(qtbot, tmp_path,
                                                                      tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus, preset="default", mix_ngram=0)
    for name, value in MODEL.items():  # one at a time: each must be applied by itself
        apply(qtbot, w, **{name: value})
        assert getattr(worker_config(w), name) == value, name
    # the learning rate typed, as a user types it (Enter ends the edit)
    lr = w.hyperparams.lr
    lr.selectAll()
    qtbot.keyClicks(lr, str(LIVE["lr"]))
    qtbot.keyClick(lr, Qt.Key.Key_Return)
    assert lr.value() == LIVE["lr"]
    # a live change is queued to the worker's thread before this question, so it is applied
    assert worker_config(w).lr == LIVE["lr"]
    for name, value in LIVE.items():
        if name != "lr":
            apply(qtbot, w, **{name: value})
            assert getattr(worker_config(w), name) == value, name
    cfg = TrainConfig.for_preset("default", **MODEL, **LIVE)
    assert worker_config(w) == cfg

    w.hyperparams.budget.setValue(BUDGET)  # Iterations: training stops exactly there
    w.actions_.start.trigger()
    wait_stopped(qtbot, w)
    assert w.session.iteration == BUDGET == w.worker.call(lambda t: t.iteration)
    got = w.worker.call(lambda t: history(t))
    params = w.worker.call(lambda t: {k: v.copy() for k, v in t.params.items()})
    slots = w.worker.call(lambda t: {k.split("/")[0] for k in t.optimizer.state})

    corpus = load_corpus(tiny_corpus)
    straight = Trainer(corpus, cfg)
    reports = straight.run(BUDGET)
    want = history(straight)
    for k in want:
        np.testing.assert_array_equal(got[k], want[k], err_msg=k)
    for k in straight.params:
        np.testing.assert_array_equal(params[k], straight.params[k], err_msg=k)
    assert len(got["loss"]) == BUDGET

    # each field's effect, read from what the window's trainer did
    assert {k.split("/")[0] for k in params if "/" in k} == {"l0", "l1"}  # layers
    for layer in ("l0", "l1"):  # hidden units, and a GRU's 3 gate blocks (cell)
        assert params[f"{layer}/W_h"].shape == (7, 3 * 7)
    assert slots == {"mem"}  # adagrad's accumulator
    # batch size: names per step, an epoch of the 7 training names in steps of 3, 3 and 1
    assert got["names"].tolist() == ([3, 3, 1] * BUDGET)[:BUDGET]
    logged = logged_reports(w.log.toPlainText())
    assert [it for it, _ in logged] == [0, 13, 26, 39]  # report every
    assert all(len(names) == 4 for _, names in logged)  # names per report
    assert logged == [(r.iteration, [display_name(n) for n in r.samples])
                      for r in reports if r.samples is not None]

    # the comparison bites for each trajectory setting: another value, another run
    def losses(**change) -> np.ndarray:
        t = Trainer(corpus, TrainConfig.for_preset("default", **{**MODEL, **LIVE, **change}))
        t.run(5)
        return history(t)["loss"]

    assert losses(seed=11)[0] == got["loss"][0]
    for change in (dict(seed=12), dict(seed=10), dict(lr=0.02), dict(clip=0.26)):
        assert not np.array_equal(losses(**change), got["loss"][:5]), change


def test_quiet_checks_stop_at_exactly_that_many_checks_without_a_new_best(qtbot, tmp_path,
                                                                         tiny_corpus):
    small = dict(hidden=16, batch_size=4, sample_every=10, samples=0)
    w = open_window(qtbot, tmp_path, tiny_corpus, preset="default", **small)
    apply(qtbot, w, patience=3)
    assert worker_config(w).patience == 3
    w.hyperparams.budget.setValue(600)
    w.actions_.start.trigger()
    wait_stopped(qtbot, w)

    corpus = load_corpus(tiny_corpus)

    def stops(patience: int) -> int:
        t = Trainer(corpus, TrainConfig.for_preset("default", patience=patience, **small))
        t.run(600)
        return t.iteration

    assert w.session.iteration == w.worker.call(lambda t: t.iteration) == stops(3) < 600
    assert stops(2) != stops(3) != stops(4)  # off by one would stop elsewhere
    assert "Stopped: no better held-out loss for 3 checks" in w.status.state.toolTip()


# -- the Sample panel -----------------------------------------------------------------------

# every field away from the panel's defaults (count 10, seed 0, "From the best" on)
BASE = dict(count=30, seed=3, temperature=1.0, top_k=0, min_len=0, max_len=50, prefix="",
            suffix="", new_only=False, best=False, top_p=0.0, beam=False)
BASE_FLAGS = ["--count", "30", "--seed", "3"]
# field: (value, its flags, [(a neighbouring or default value, its flags), ...])
SAMPLE_CASES = {
    "count": (31, ["--count", "31"], [(30, ["--count", "30"]), (32, ["--count", "32"])]),
    "seed": (5, ["--seed", "5"], [(4, ["--seed", "4"]), (6, ["--seed", "6"])]),
    "temperature": (0.75, ["--temperature", "0.75"],
                    [(0.7, ["--temperature", "0.7"]), (0.8, ["--temperature", "0.8"]),
                     (1.0, [])]),
    "top_k": (2, ["--top-k", "2"], [(1, ["--top-k", "1"]), (3, ["--top-k", "3"]), (0, [])]),
    "top_p": (0.7, ["--top-p", "0.7"], [(0.6, ["--top-p", "0.6"]),
                                        (0.8, ["--top-p", "0.8"]), (0.0, [])]),
    "beam": (True, ["--beam"], [(False, [])]),
    "min_len": (5, ["--min-len", "5"], [(4, ["--min-len", "4"]), (6, ["--min-len", "6"]),
                                        (0, [])]),
    "max_len": (4, ["--max-len", "4"], [(3, ["--max-len", "3"]), (5, ["--max-len", "5"]),
                                        (50, [])]),
    "prefix": ("e", ["--prefix", "e"], [("", []), ("d", ["--prefix", "d"])]),
    "suffix": ("n", ["--suffix", "n"], [("", []), ("s", ["--suffix", "s"])]),
    "new_only": (True, ["--new-only"], [(False, [])]),
    "best": (True, ["--best"], [(False, [])]),
}


def draw(qtbot, w, **fields) -> list[str]:
    """Set the Sample panel's fields as a user would, press Sample, and return the names."""
    p = w.samples
    for name, value in fields.items():
        box = getattr(p, name)
        if isinstance(box, QCheckBox):
            box.setChecked(value)
        elif isinstance(box, QLineEdit):
            box.clear()
            qtbot.keyClicks(box, value)
        else:
            box.setValue(value)
    p.summary.setText("")
    errors = len(w.dialogs.errors)
    w.actions_.sample.trigger()
    qtbot.waitUntil(lambda: p.summary.text() != "" or len(w.dialogs.errors) > errors,
                    timeout=WAIT_MS)
    assert len(w.dialogs.errors) == errors, w.dialogs.errors[-1]
    return p.names()


def test_each_sampling_field_draws_what_dinogui_sample_draws(qtbot, tmp_path, tiny_corpus,
                                                              capsys):
    w = open_window(qtbot, tmp_path, tiny_corpus, preset="default", hidden=16, batch_size=4,
                    sample_every=25, patience=0)
    train(qtbot, w, 150)  # not yet memorised: nearby temperatures draw other names
    best = w.worker.call(lambda t: t.state.best_iteration)
    assert 0 < best < 150  # the best weights are not the latest: "From the best" matters
    path = tmp_path / "model.safetensors"
    w.dialogs.save_paths = [str(path)]
    w.actions_.save_as.trigger()
    qtbot.waitUntil(lambda: not w.isWindowModified(), timeout=WAIT_MS)

    def printed(flags: list[str]) -> list[str]:
        capsys.readouterr()
        assert cli.main(["sample", "--checkpoint", str(path), *BASE_FLAGS, *flags]) == 0
        return capsys.readouterr().out.splitlines()

    assert draw(qtbot, w, **BASE) == printed([])
    for field, (value, flags, neighbours) in SAMPLE_CASES.items():
        names = draw(qtbot, w, **{**BASE, field: value})
        assert names == printed(flags), field
        for other, other_flags in neighbours:
            assert printed(other_flags) != names, (field, other)
    assert len(draw(qtbot, w, **{**BASE, "count": 31})) == 31
    top = 2**32 - 1  # the largest seed: beyond what a QSpinBox holds
    assert draw(qtbot, w, **{**BASE, "seed": top}) == printed(["--seed", str(top)])


def test_the_count_model_and_the_mixed_ngram_reach_the_trainer(qtbot, tmp_path, tiny_corpus):
    """Cell ngram shows its order (and hides the network's fields), fits in one step, as
    `Trainer` alone does; Mix n-gram makes the hybrid, its weight fitted at the first check."""
    dialogs = ScriptedDialogs()
    dialogs.choices = [1]  # the fitted count model is discarded for the network ("Discard")
    w = open_window(qtbot, tmp_path, tiny_corpus, dialogs=dialogs, preset="default")
    hp = w.hyperparams
    assert not hp.order.isVisibleTo(w) and hp.mix_ngram.isVisibleTo(w)
    apply(qtbot, w, cell="ngram")
    apply(qtbot, w, order=3)
    cfg = worker_config(w)
    assert (cfg.cell, cfg.order) == ("ngram", 3)
    assert hp.order.isVisibleTo(w)
    assert not any(getattr(hp, n).isVisibleTo(w) for n in ("hidden", "layers", "mix_ngram", "lr"))
    w.hyperparams.budget.setValue(10)
    w.actions_.start.trigger()
    wait_stopped(qtbot, w)
    assert w.session.iteration == 1  # fitted: one step is the whole training
    got = w.worker.call(lambda t: {k: v.copy() for k, v in t.params.items()})
    straight = Trainer(load_corpus(tiny_corpus), cfg)
    straight.run(10)
    assert straight.iteration == 1
    for k, v in straight.params.items():
        np.testing.assert_array_equal(got[k], v, err_msg=k)

    apply(qtbot, w, cell="gru")
    apply(qtbot, w, mix_ngram=2)
    cfg = worker_config(w)
    assert (cfg.cell, cfg.mix_ngram) == ("gru", 2)
    assert not hp.order.isVisibleTo(w) and hp.hidden.isVisibleTo(w)
    w.hyperparams.budget.setValue(3)
    w.actions_.start.trigger()
    wait_stopped(qtbot, w)
    mix = w.worker.call(lambda t: {k: v.copy() for k, v in t.mix.items()})
    straight = Trainer(load_corpus(tiny_corpus), cfg)
    straight.run(3)
    for k, v in straight.mix.items():
        np.testing.assert_array_equal(mix[k], v, err_msg=k)
    assert w.worker.call(lambda t: t.state.val_losses) == straight.state.val_losses


# -- every field has a test above -----------------------------------------------------------

# each input widget of the panels (its attribute name) -> the test that pins it
SCHEDULE = dict(lr_schedule="cosine", warmup=3, weight_decay=0.05)


def test_schedule_warmup_and_weight_decay_fields_reach_the_trainer(qtbot, tmp_path,
                                                                   tiny_corpus):
    """The schedule ends at the Iterations budget; the run is the headless one's exactly."""
    w = open_window(qtbot, tmp_path, tiny_corpus, preset="default")
    apply(qtbot, w, patience=0)
    w.hyperparams.budget.setValue(BUDGET)
    apply(qtbot, w, lr_schedule="cosine")
    assert worker_config(w).lr_schedule == "cosine"
    apply(qtbot, w, warmup=3)
    assert worker_config(w).warmup == 3
    apply(qtbot, w, weight_decay=0.05)
    assert worker_config(w).weight_decay == 0.05
    cfg = TrainConfig.for_preset("default", patience=0, mix_ngram=DEFAULT_MIX,
                                 schedule_iterations=BUDGET, **SCHEDULE)
    cfg = recipe.apply(cfg, load_corpus(tiny_corpus))  # the window's model is the recipe's
    assert worker_config(w) == cfg
    w.hyperparams.budget.setValue(BUDGET + 5)  # the schedule follows the budget
    assert worker_config(w).schedule_iterations == BUDGET + 5
    w.hyperparams.budget.setValue(BUDGET)
    w.actions_.start.trigger()
    wait_stopped(qtbot, w)
    assert w.session.iteration == BUDGET
    params = w.worker.call(lambda t: {k: v.copy() for k, v in t.params.items()})
    straight = Trainer(load_corpus(tiny_corpus), cfg)
    straight.run(BUDGET)
    for k in straight.params:
        np.testing.assert_array_equal(params[k], straight.params[k], err_msg=k)
    # a cosine schedule with unlimited iterations is refused in one line, nothing changed
    w.hyperparams.budget.setValue(0)
    assert worker_config(w).schedule_iterations == BUDGET
    assert "needs the run's number of iterations" in w.hyperparams.problem.text()


def test_kind_draws_what_dinogui_sample_label_draws(qtbot, tmp_path, capsys):
    """The Kind field of a labelled model: the names `dinogui sample --label` draws."""
    from tests.test_gui_labels import draw, open_kinds

    w = open_kinds(qtbot, tmp_path)
    train(qtbot, w, 60)
    path = tmp_path / "kinds.safetensors"
    w.dialogs.save_paths = [str(path)]
    w.actions_.save_as.trigger()
    qtbot.waitUntil(lambda: not w.isWindowModified(), timeout=20_000)
    w.samples.seed.setValue(2)
    for kind in ("vwx", "abc:0.3,vwx:0.7"):
        got = draw(qtbot, w, kind, count=12)
        capsys.readouterr()
        assert cli.main(["sample", "--checkpoint", str(path), "--label", kind, "--seed", "2",
                         "--count", "12", "--best"]) == 0
        assert got == capsys.readouterr().out.splitlines()


COVERED = {
    ("samples", "kind"): "test_kind_draws_what_dinogui_sample_label_draws",
    ("hyperparams", "preset"): "test_preset",
    ("hyperparams", "time_budget"): "test_the_quality_preset_and_its_budget_field",
    **{("hyperparams", name): "test_model_and_training_fields_reach_the_trainer_and_act_exactly"
       for name in (*MODEL, *LIVE, "budget")},
    **{("hyperparams", name): "test_the_count_model_and_the_mixed_ngram_reach_the_trainer"
       for name in ("order", "mix_ngram")},
    **{("hyperparams", name): "test_schedule_warmup_and_weight_decay_fields_reach_the_trainer"
       for name in ("lr_schedule", "warmup", "weight_decay")},
    ("hyperparams", "patience"): "test_quiet_checks_stop_at_exactly_that_many_checks_without_"
                                 "a_new_best",
    **{("samples", name): "test_each_sampling_field_draws_what_dinogui_sample_draws"
       for name in SAMPLE_CASES},
}
INPUTS = (QSpinBox, QDoubleSpinBox, QComboBox, QLineEdit, QCheckBox)


def test_every_field_of_the_panels_has_a_test_here(qtbot, tmp_path):
    """A new field needs a test above: the list is read from the panels, not a copy of it."""
    w = open_window(qtbot, tmp_path)
    found = set()
    for panel_name in ("hyperparams", "samples"):
        panel = getattr(w, panel_name)
        names = {id(v): k for k, v in vars(panel).items() if isinstance(v, INPUTS)}
        for box in panel.findChildren(QWidget):
            if not isinstance(box, INPUTS) or _inside_a_spin_box_or_combo(box, panel):
                continue
            assert id(box) in names, f"a {type(box).__name__} of {panel_name} has no name"
            found.add((panel_name, names[id(box)]))
    assert len(found) >= 25  # 13 model and training fields, 12 sampling fields
    module = sys.modules[__name__]
    missing = sorted(found - set(COVERED))
    assert not missing
    for (panel_name, name), test in COVERED.items():
        assert (panel_name, name) in found, f"{panel_name}.{name} is no longer a field"
        source = inspect.getsource(getattr(module, test))
        in_cases = name in {*MODEL, *LIVE, *SAMPLE_CASES}
        assert name in source or in_cases, f"{test} never sets {name}"


def _inside_a_spin_box_or_combo(box, panel) -> bool:
    """A spin box's own line edit is part of the spin box, not another field."""
    parent = box.parentWidget()
    while parent is not None and parent is not panel:
        if isinstance(parent, (QAbstractSpinBox, QComboBox)):
            return True
        parent = parent.parentWidget()
    return False


# -- the wheel scrolls the settings, it does not change them --------------------------------

def test_the_wheel_over_an_unfocused_field_scrolls_the_column_and_changes_nothing(qtbot,
                                                                                tmp_path):
    w = open_window(qtbot, tmp_path)
    w.resize(1000, 500)  # short enough that the settings column scrolls
    settle()
    hp, bar = w.hyperparams, w.left_scroll.verticalScrollBar()
    assert bar.maximum() > 0
    hidden, preset = hp.hidden.value(), hp.preset.currentIndex()
    w.loss_plot.setFocus()  # the user last clicked the plot
    assert not hp.hidden.hasFocus()
    wheel(hp.hidden, -3)  # three notches down, as the user scrolls the column
    wheel(hp.preset, -1)
    assert hp.hidden.value() == hidden and hp.preset.currentIndex() == preset
    assert bar.value() > 0  # the column scrolled instead
    assert not hp.hidden.hasFocus()  # and the wheel did not take the focus to the field
    for box in (w.samples.count, w.samples.temperature):  # the sampling column too
        before = box.value()
        wheel(box, 2)
        assert box.value() == before


def test_the_wheel_changes_a_field_the_user_clicked_into(qtbot, tmp_path):
    w = open_window(qtbot, tmp_path)
    box = w.samples.count
    box.setFocus()
    qtbot.waitUntil(box.hasFocus)
    before = box.value()
    wheel(box, 2)
    assert box.value() == before + 2
