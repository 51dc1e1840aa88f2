"""Hyperparameter controls: the model's shape (fixed once trained) and the training knobs
(live: they apply from the next step).

The panel only reports what the user changed; the window decides what a
change means (a live setting goes to the trainer, a model setting asks to
reset a trained model first).
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QToolButton,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from dinogui.core import quality, recipe
from dinogui.core.config import LIVE_FIELDS as TRAINER_LIVE
from dinogui.core.config import TrainConfig
from dinogui.core.settings import ITERATIONS, TRAINING
from dinogui.widgets.fields import CheckedSpinBox, SeedBox, _RangeChecked, field_for
from dinogui.widgets.setting_rows import (
    CHOICE_LABELS,
    CONFIG_FIELDS,
    FIELD_MIN_WIDTH,
    FIELD_STEPS,
    MODEL_ROWS,
    PRESET_TIPS,
    TRAINING_ROWS,
)

__all__ = ["CheckedSpinBox", "HyperparamsPanel", "SeedBox"]

DEFAULT_BUDGET = ITERATIONS.default  # the exercise's num_iterations
# early stopping at a first launch, the recipe's: checks come four per epoch and the held-out
# loss is noisy after its lowest point; three epochs without a new best ride that out
DEFAULT_PATIENCE = recipe.COMMON["patience"]
# a first launch mixes the network with the recipe's n-gram (a 5-gram): on every list measured
# the hybrid's best held-out loss was 0.02-0.26 nats/char below the count model's and below the
# network's alone (docs/training.md, "The count model and the hybrid")
DEFAULT_MIX = recipe.COMMON["mix_ngram"]
# the live ones shown here; the schedule's length is the Iterations field's budget
LIVE_FIELDS = tuple(f for f in TRAINER_LIVE if f not in ("val_every", "schedule_iterations"))
DEFAULT_ONLY = ("cell", "layers", "optimizer", "batch_size", "mix_ngram")
DEFAULT_ONLY_TRAINING = ("weight_decay", "patience")  # classic: SGD without decay, none held out
# the quality preset's one knob, shown for it alone; it trains for a time, not to Iterations
QUALITY_ONLY = ("time_budget",)
NOT_QUALITY = ("budget",)
# what choosing the quality preset writes into the fields (its own settings), and what leaving
# it gives back: the default preset's first-launch training settings
QUALITY_FIELDS = ("lr_schedule", "patience", "weight_decay", "time_budget")
# what the count model (cell ngram) has no use for: it counts, with no weights to train, and is
# fitted in one step with one check
NETWORK_ONLY = ("layers", "hidden", "optimizer", "batch_size", "mix_ngram")
NETWORK_LIVE = ("lr", "lr_schedule", "warmup", "weight_decay", "clip", "patience")


def _field(name: str, tip: str):
    if name == "budget":
        box = field_for(ITERATIONS, tip)
        box.setSpecialValueText("unlimited")
    else:
        box = field_for(TRAINING[name], tip, CHOICE_LABELS.get(name))
    if name in FIELD_STEPS:
        box.setSingleStep(FIELD_STEPS[name])
    return box


class HyperparamsPanel(QWidget):
    model_changed = Signal()  # a model setting (preset, size, seed, ...) was changed
    live_changed = Signal(dict)  # e.g. {"lr": 0.02}
    budget_changed = Signal(object)  # int, or None for unlimited

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        for name, _label, tip in MODEL_ROWS + TRAINING_ROWS:
            setattr(self, name, _field(name, tip))
        for i, p in enumerate(TRAINING["preset"].choices):
            self.preset.setItemData(i, PRESET_TIPS[p], 3)  # Qt.ToolTipRole

        model = QGroupBox("Model")
        model.setToolTip("Changing these needs a fresh model")
        self._model_form = form = QFormLayout(model)
        training = QGroupBox("Training")
        training.setToolTip("These apply from the next step, even while training")
        self._training_form = tform = QFormLayout(training)
        self.labels: dict[str, str] = {}
        self._rows: dict[str, tuple[QFormLayout, QWidget]] = {}  # each field's form and row
        # the learning-rate finder's button sits beside its field (the window gives its action)
        self.find_lr_button = QToolButton()
        self.find_lr_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        # as a toolbar button: Tab goes from field to field; the keyboard has Training > Find
        self.find_lr_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        for f, rows in ((form, MODEL_ROWS), (tform, TRAINING_ROWS)):
            for name, text, _tip in rows:
                box = getattr(self, name)
                row = _beside(box, self.find_lr_button) if name == "lr" else box
                f.addRow(text + ":", row)
                f.labelForField(row).setBuddy(box)  # Alt+letter: the field itself
                self._rows[name] = (f, row)
                self.labels[name] = text.replace("&", "")
        for f in (form, tform):
            f.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for name in self.labels:  # narrow enough for a 1024-pixel window (they grow wider)
            box = getattr(self, name)
            box.setMinimumWidth(min(box.minimumSizeHint().width(), FIELD_MIN_WIDTH))
        self.problem = QLabel()  # why a typed value was refused
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #c0392b;")
        self.problem.setVisible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(model)
        layout.addWidget(training)
        layout.addWidget(self.problem)

        # a first launch shows the default preset, stopping by itself (classic is one click away)
        self.set_config(TrainConfig.for_preset("default", patience=DEFAULT_PATIENCE,
                                               mix_ngram=DEFAULT_MIX))
        self.budget.setValue(DEFAULT_BUDGET)
        # the model fields as the recipe (or the first launch) left them: while they are
        # unchanged, a new list gets its own recipe (core.recipe)
        self._recipe_shown: dict | None = self._model_values()
        self._preset_shown = self._read("preset")  # what a preset change changes from
        for w in (self.preset, self.cell, self.optimizer, self.lr_schedule):
            w.currentIndexChanged.connect(self._model_edited)
        self.mix_ngram.setSpecialValueText("off")
        for w in (self.layers, self.hidden, self.batch_size, self.seed, self.order,
                  self.mix_ngram):
            w.valueChanged.connect(self._model_edited)
        for name in LIVE_FIELDS:
            box = getattr(self, name)
            if isinstance(box, QComboBox):
                box.currentIndexChanged.connect(lambda _i: self.live_changed.emit(
                    {"lr_schedule": self._read("lr_schedule"), **self._horizon()}))
            elif name == "time_budget":  # a new budget: a schedule sized to end with it
                box.valueChanged.connect(lambda v: self.live_changed.emit(
                    {"time_budget": v, **self._horizon()}))
            else:
                box.valueChanged.connect(lambda v, name=name: self.live_changed.emit({name: v}))
        self.budget.valueChanged.connect(lambda _v: self.budget_changed.emit(self.budget_value()))
        self.budget.valueChanged.connect(self._budget_edited)
        for name in self.labels:
            box = getattr(self, name)
            if isinstance(box, _RangeChecked):
                box.refused.connect(lambda v, name=name: self._refuse(name, v))
                box.valueChanged.connect(lambda _v: self.problem.setVisible(False))

    def _refuse(self, name: str, typed: float) -> None:
        """Say that a typed value is out of range, and which values the field takes."""
        box = getattr(self, name)
        self.problem.setText(f"{self.labels[name]} {box.locale().toString(typed, 'g', 12)} is "
                             f"out of range: it must be {box.setting.rule()}. Kept "
                             f"{box.textFromValue(box.value())}.")
        self.problem.setVisible(True)
        if box.isVisible():
            QToolTip.showText(box.mapToGlobal(box.rect().bottomLeft()), self.problem.text(), box)

    def _horizon(self) -> dict:
        """The schedule's length for a cosine or linear schedule: the Iterations budget (the
        quality preset's is sized to its time Budget by the trainer: 0)."""
        if self._read("lr_schedule") == "constant" or self._read("preset") == "quality":
            return {"schedule_iterations": 0}
        return {"schedule_iterations": self.budget_value() or 0}

    def _budget_edited(self, _value) -> None:
        if self._read("lr_schedule") != "constant":
            self.live_changed.emit(self._horizon())

    def show_problem(self, text: str) -> None:
        """Say why a change was refused (and kept what was)."""
        self.problem.setText(text)
        self.problem.setVisible(True)

    def _model_edited(self, *_args) -> None:
        preset = self._read("preset")
        into_or_out = preset != self._preset_shown and "quality" in (preset, self._preset_shown)
        if into_or_out:
            self._preset_settings(preset)
        self._preset_shown = preset
        self._show_preset_rows()
        if into_or_out:  # it trains by time, the others to Iterations
            self.budget_changed.emit(self.budget_value())
        self.model_changed.emit()

    def _preset_settings(self, preset: str) -> None:
        """Into or out of the quality preset: its own training settings (a cosine schedule to
        the Budget, no patience), or back to the default preset's first-launch ones."""
        own = TrainConfig.for_preset(preset, patience=None if preset == "quality" else
                                     DEFAULT_PATIENCE)
        with _Quiet(self):
            for name in QUALITY_FIELDS:
                self._write(name, getattr(own, name))

    def _show_preset_rows(self) -> None:
        batched = self.preset.currentData() != "classic"
        counts = batched and self.cell.currentData() == "ngram"
        only_batched = (*DEFAULT_ONLY, *DEFAULT_ONLY_TRAINING)
        networks_only = (*NETWORK_ONLY, *NETWORK_LIVE)
        # classic is the seed's (none held out, no decay); the count model's one field is
        # the order
        shown = {name: (batched or name not in only_batched)
                 and not (counts and name in networks_only)
                 for name in {*only_batched, *networks_only}}
        shown["order"] = counts
        is_quality = self.preset.currentData() == "quality"
        shown.update({name: is_quality for name in QUALITY_ONLY})
        shown.update({name: not is_quality for name in NOT_QUALITY})
        for name, visible in shown.items():
            form, row = self._rows[name]
            form.setRowVisible(row, visible)

    # -- the default preset's recipe --------------------------------------------
    def _model_values(self) -> dict:
        return {n: self._read(n) for n in ("preset", *quality.MODEL) if hasattr(self, n)}

    def follows_recipe(self) -> bool:
        """The default preset with the model fields as the recipe (or a first launch) set
        them: the user has not shaped the model, so a new list gets its recipe."""
        shown, preset = self._recipe_shown, self._read("preset")
        # the default recipe leaves the layers to the user; the quality preset picks them
        ignored = {"preset": None} if preset == "quality" else {"preset": None, "layers": None}
        return (shown is not None and preset in ("default", "quality")
                and {**self._model_values(), **ignored} == {**shown, **ignored})

    def show_recipe(self, config: TrainConfig) -> None:
        """Show a config the recipe picked, and remember it as the recipe's."""
        self.set_config(config)
        self._recipe_shown = self._model_values()

    # -- reading and writing ----------------------------------------------------
    def _shown(self, preset: str) -> tuple[str, ...]:
        """The config fields that belong to a preset (classic has no batched choices)."""
        if preset == "classic":
            return tuple(n for n in CONFIG_FIELDS
                         if n not in (*DEFAULT_ONLY, *DEFAULT_ONLY_TRAINING, "order",
                                      *QUALITY_ONLY))
        return CONFIG_FIELDS if preset == "quality" else tuple(
            n for n in CONFIG_FIELDS if n not in QUALITY_ONLY)

    def _read(self, name: str):
        box = getattr(self, name)
        return box.currentData() if isinstance(box, QComboBox) else box.value()

    def _write(self, name: str, value) -> bool:
        """Show a value; False (and nothing changed) when the field has no such value."""
        box = getattr(self, name)
        if isinstance(box, QComboBox):
            index = box.findData(value)
            if index >= 0:
                box.setCurrentIndex(index)
            return index >= 0
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
                box.minimum() <= value <= box.maximum()):
            return False
        box.setValue(value)
        return True

    def config(self, base: TrainConfig | None = None) -> TrainConfig:
        """The settings shown. Those the panel does not show (dropout, the held-out fraction,
        ...) are `base`'s, the current model's, when it has the shown preset; else the
        preset's own: a change of hidden units never resets a checkpoint's dropout."""
        preset = self.preset.currentData()
        shown = {n: self._read(n) for n in self._shown(preset) if n != "preset"}
        shown.update(self._horizon())
        if base is not None and base.preset == preset:
            return replace(base, **shown)
        if base is not None and "classic" not in (base.preset, preset):
            # default and quality share the engine: the model's unshown settings (the
            # recipe's dropout, ...) stay; only quality has a time budget
            return replace(base, preset=preset, **{"time_budget": 0.0, **shown})
        return TrainConfig.for_preset(preset, **shown)

    def set_config(self, config: TrainConfig) -> None:
        """Show a model's settings without reporting them as the user's changes.

        Every value the table allows fits its field (the fields are built from the table), so
        config() gives back exactly this config; classic leaves the batched choices as they were.
        """
        with _Quiet(self):
            for name in self._shown(config.preset):
                if not self._write(name, getattr(config, name)):
                    raise ValueError(f"{name} {getattr(config, name)!r} does not fit its field")
        self._preset_shown = config.preset
        self._show_preset_rows()

    def budget_value(self) -> int | None:
        """The Iterations to train to (None: unlimited; the quality preset trains by time)."""
        if self._read("preset") == "quality":
            return None
        return self.budget.value() or None

    def set_budget(self, budget: int | None) -> None:
        with _Quiet(self):
            self.budget.setValue(budget or 0)

    def values(self) -> dict:
        """Everything shown, for QSettings (and whether the recipe shaped the model)."""
        return {**{name: self._read(name) for name in (*CONFIG_FIELDS, "budget")},
                "recipe": self.follows_recipe()}

    def set_values(self, values: dict) -> None:
        """Restore remembered values; anything missing or invalid keeps its current value."""
        with _Quiet(self):
            for name in ("preset", *CONFIG_FIELDS[1:], "budget"):
                if name in values:
                    self._write(name, values[name])
        self._preset_shown = self._read("preset")
        self._show_preset_rows()
        # the recipe goes on shaping a model it shaped last time, never one the user did
        # (nothing remembered: a first launch, which the recipe shapes)
        if values:
            self._recipe_shown = self._model_values() if values.get("recipe") is True else None


def _beside(field: QWidget, button: QToolButton) -> QWidget:
    """A field with a small button on its right, as one form row's field."""
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(4)
    layout.addWidget(field, 1)
    layout.addWidget(button)
    return row


class _Quiet:
    """Block the panel's widgets' signals for the duration of a `with`."""

    def __init__(self, panel: HyperparamsPanel) -> None:
        self.widgets = [getattr(panel, n) for n in (*CONFIG_FIELDS, "budget")]

    def __enter__(self) -> None:
        self.previous = [w.blockSignals(True) for w in self.widgets]

    def __exit__(self, *exc) -> None:
        for w, was in zip(self.widgets, self.previous, strict=True):
            w.blockSignals(was)
