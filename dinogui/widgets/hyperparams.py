"""Hyperparameter controls: the model's shape (fixed once trained) and the training knobs
(live: they apply from the next step).

The panel only reports what the user changed; the window decides what a
change means (a live setting goes to the trainer, a model setting asks to
reset a trained model first).
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QSpinBox,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from dinogui.core.models import MAX_LAYERS, MODELS
from dinogui.core.optim import Optimizer
from dinogui.core.sample_spec import MAX_SEED
from dinogui.core.trainer import LIVE_FIELDS as TRAINER_LIVE
from dinogui.core.trainer import PRESETS, TrainConfig

DEFAULT_BUDGET = 35_000  # the exercise's num_iterations
# early stopping at a first launch: the default preset's held-out loss is noisy after its
# lowest point; 5 checks in a row without a new best ride out that noise and then stop
DEFAULT_PATIENCE = 5
LIVE_FIELDS = tuple(f for f in TRAINER_LIVE if f != "val_every")  # the live ones shown here
DEFAULT_ONLY = ("cell", "layers", "optimizer", "batch_size")  # the classic preset is the seed's

PRESET_TIPS = {
    "classic": "The original exercise (Dinosaurus Island), exact to its numbers: a tanh RNN, "
               "one name per step with the hidden state carried over, SGD, gradients clipped, "
               "the seed's smoothed loss per name and its sampling. No names are held out.",
    "default": "Faster: mini-batches of names in float32 with Adam (or another optimizer), a "
               "choice of cell, the loss per character, and a held-out tenth of the names, "
               "whose curve shows when the model stops generalising (Patience stops there).",
}
CELL_TIPS = {"rnn": "tanh RNN (the seed's cell)", "gru": "gated recurrent unit",
             "lstm": "long short-term memory"}


class _RangeChecked:
    """A spin box that lets a number outside its range be typed, then refuses it out loud.

    Qt's own boxes swallow the keystroke or clamp the value without a word;
    these keep the previous value and emit `refused` with a message that
    gives the range (the panel shows it).
    """

    def _typed_number(self, text: str) -> float | None:
        text = text.strip()
        if self.specialValueText() and text == self.specialValueText():
            return None
        locale = self.locale()
        number, ok = locale.toDouble(text.replace(locale.groupSeparator(), ""))
        return number if ok else None

    def validate(self, text: str, pos: int):  # noqa: D102 (Qt's)
        state = super().validate(text, pos)
        if state[0] == QValidator.State.Acceptable:
            return state
        number = self._typed_number(text)
        if text.strip() in ("-", "+") or (
                number is not None and not self.minimum() <= number <= self.maximum()):
            return QValidator.State.Intermediate, text, pos  # out of range: judged at Enter
        return state

    def fixup(self, text: str) -> str:  # noqa: D102 (Qt's): editing ended on a bad value
        number = self._typed_number(text)
        if number is not None and not self.minimum() <= number <= self.maximum():
            self.refused.emit(number)
        return super().fixup(text)


class CheckedSpinBox(_RangeChecked, QSpinBox):
    refused = Signal(float)  # the out-of-range number typed (the value is kept)


class CheckedDoubleSpinBox(_RangeChecked, QDoubleSpinBox):
    refused = Signal(float)


class SeedBox(CheckedDoubleSpinBox):
    """A seed, 0 to 4294967295 as the command line takes it: QSpinBox stops at 2**31 - 1.

    A double holds every such integer exactly; shown without decimals, read as an int.
    """

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setDecimals(0)
        self.setRange(0, MAX_SEED)

    def value(self) -> int:  # type: ignore[override]
        return int(super().value())


def _spin(lo: int, hi: int, tip: str, step: int = 1) -> QSpinBox:
    box = CheckedSpinBox()
    box.setRange(lo, hi)
    box.setSingleStep(step)
    box.setGroupSeparatorShown(True)
    box.setKeyboardTracking(False)  # valueChanged once the user finishes typing
    box.setToolTip(tip)
    return box


def _real(lo: float, hi: float, decimals: int, tip: str) -> QDoubleSpinBox:
    box = CheckedDoubleSpinBox()
    box.setRange(lo, hi)
    box.setDecimals(decimals)
    box.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
    box.setKeyboardTracking(False)
    box.setToolTip(tip)
    return box


def _combo(items: list[tuple[str, str]], tip: str) -> QComboBox:
    box = QComboBox()
    for data, label in items:
        box.addItem(label, data)
    box.setToolTip(tip)
    return box


class HyperparamsPanel(QWidget):
    model_changed = Signal()  # a model setting (preset, size, seed, ...) was changed
    live_changed = Signal(dict)  # e.g. {"lr": 0.02}
    budget_changed = Signal(object)  # int, or None for unlimited

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.preset = _combo([(p, p) for p in PRESETS],
                             "Which training recipe: default (faster, with the held-out curve) "
                             "or classic (the original exercise, exact to its numbers)")
        for i, p in enumerate(PRESETS):
            self.preset.setItemData(i, PRESET_TIPS[p], 3)  # Qt.ToolTipRole
        self.cell = _combo([(c, c.upper() if c != "rnn" else "RNN (tanh)") for c in MODELS],
                           "The recurrent cell: " + "; ".join(
                               f"{c}: {CELL_TIPS.get(c, c)}" for c in MODELS))
        self.layers = _spin(1, MAX_LAYERS, "Recurrent layers stacked on each other")
        self.hidden = _spin(1, 4096, "Hidden units per layer: more remember more and train "
                            "slower (the seed: 50)", step=10)
        self.optimizer = _combo([(k, {"sgd": "SGD", "adagrad": "Adagrad", "adam": "Adam"}[k])
                                 for k in Optimizer.KINDS],
                                "How the gradients update the weights")
        self.batch_size = _spin(1, 4096, "Names per training step", step=8)
        self.seed = SeedBox()
        self.seed.setKeyboardTracking(False)
        self.seed.setToolTip("Seeds the initial weights and the order of the names: "
                             "the same seed gives the same run")
        self.lr = _real(0.00001, 100.0, 5, "Learning rate: the step size of each update "
                        "(the seed: 0.01). Applies at the next step, even while training.\n"
                        "Too large and the loss blows up; training then pauses.")
        self.clip = _real(0.01, 1000.0, 2, "Gradients are clipped to [-clip, clip] "
                          "(the seed: 5). Applies at the next step.")
        self.sample_every = _spin(1, 10_000_000, "Report (and draw names into the log) every "
                                  "this many iterations (the seed: 2000)", step=500)
        self.samples = _spin(0, 100, "Names drawn at each report (the seed: 7)")
        self.budget = _spin(0, 100_000_000, "Train until this iteration, then stop; "
                            "'unlimited' trains until you pause (the seed: 35,000)", step=1000)
        self.budget.setSpecialValueText("unlimited")
        self.patience = _spin(0, 1000, "Patience (early stopping): stop after this many quiet "
                              "checks in a row, held-out checks (one every 500 iterations and at "
                              "each report) that bring no better held-out loss. 'off' trains "
                              "to the iterations.\n"
                              "Applies at the next check, even while training; the best "
                              "weights are kept for sampling (From the best).")
        self.patience.setSpecialValueText("off")

        model = QGroupBox("Model")
        model.setToolTip("Changing these needs a fresh model")
        self._model_form = form = QFormLayout(model)
        training = QGroupBox("Training")
        training.setToolTip("These apply from the next step, even while training")
        self._training_form = tform = QFormLayout(training)
        # Alt+letter mnemonics (QFormLayout makes each label the field's buddy), unique in
        # the window together with the menus (F T A V H) and the Sample panel (U E M K R W)
        self.labels: dict[str, str] = {}
        for f, name, text in ((form, "preset", "&Preset"), (form, "cell", "&Cell"),
                              (form, "layers", "La&yers"), (form, "hidden", "Hi&dden units"),
                              (form, "optimizer", "Optimi&zer"),
                              (form, "batch_size", "&Batch size"), (form, "seed", "&Seed"),
                              (tform, "lr", "&Learning rate"), (tform, "clip", "&Gradient clip"),
                              (tform, "sample_every", "Rep&ort every"),
                              (tform, "samples", "&Names per report"),
                              (tform, "budget", "&Iterations"),
                              # the patience: every other letter is taken
                              (tform, "patience", "&Quiet checks")):
            f.addRow(text + ":", getattr(self, name))
            self.labels[name] = text.replace("&", "")
        for f in (form, tform):
            f.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
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
        self.set_config(TrainConfig.for_preset("default", patience=DEFAULT_PATIENCE))
        self.budget.setValue(DEFAULT_BUDGET)
        for w in (self.preset, self.cell, self.optimizer):
            w.currentIndexChanged.connect(self._model_edited)
        for w in (self.layers, self.hidden, self.batch_size, self.seed):
            w.valueChanged.connect(self._model_edited)
        for name in LIVE_FIELDS:
            box = getattr(self, name)
            box.valueChanged.connect(lambda v, name=name: self.live_changed.emit({name: v}))
        self.budget.valueChanged.connect(lambda _v: self.budget_changed.emit(self.budget_value()))
        for name in self.labels:
            box = getattr(self, name)
            if isinstance(box, _RangeChecked):
                box.refused.connect(lambda v, name=name: self._refuse(name, v))
                box.valueChanged.connect(lambda _v: self.problem.setVisible(False))

    def _refuse(self, name: str, typed: float) -> None:
        """Say that a typed value is out of range, and which values the field takes."""
        box = getattr(self, name)
        self.problem.setText(f"{self.labels[name]} {box.locale().toString(typed, 'g', 12)} is "
                             f"out of range: it takes {range_text(box)}. Kept "
                             f"{value_text(box, box.value())}.")
        self.problem.setVisible(True)
        if box.isVisible():
            QToolTip.showText(box.mapToGlobal(box.rect().bottomLeft()), self.problem.text(), box)

    def _model_edited(self, *_args) -> None:
        self._show_preset_rows()
        self.model_changed.emit()

    def _show_preset_rows(self) -> None:
        batched = self.preset.currentData() != "classic"
        for name in DEFAULT_ONLY:
            self._model_form.setRowVisible(getattr(self, name), batched)
        self._training_form.setRowVisible(self.patience, batched)  # classic holds none out

    # -- reading and writing ----------------------------------------------------
    def config(self) -> TrainConfig:
        preset = self.preset.currentData()
        extra = {}
        if preset != "classic":
            extra = dict(cell=self.cell.currentData(), layers=self.layers.value(),
                         optimizer=self.optimizer.currentData(),
                         batch_size=self.batch_size.value(), patience=self.patience.value())
        return TrainConfig.for_preset(
            preset, hidden=self.hidden.value(), lr=self.lr.value(), clip=self.clip.value(),
            seed=self.seed.value(), sample_every=self.sample_every.value(),
            samples=self.samples.value(), **extra)

    def set_config(self, config: TrainConfig) -> None:
        """Show a model's settings without reporting them as the user's changes."""
        with _Quiet(self):
            self.preset.setCurrentIndex(self.preset.findData(config.preset))
            if config.preset != "classic":  # classic leaves the batched choices as they were
                self.cell.setCurrentIndex(self.cell.findData(config.cell))
                self.layers.setValue(config.layers)
                self.optimizer.setCurrentIndex(self.optimizer.findData(config.optimizer))
                self.batch_size.setValue(config.batch_size)
                self.patience.setValue(config.patience)
            self.hidden.setValue(config.hidden)
            self.seed.setValue(config.seed)
            self.lr.setValue(config.lr)
            self.clip.setValue(config.clip)
            self.sample_every.setValue(config.sample_every)
            self.samples.setValue(config.samples)
        self._show_preset_rows()

    def budget_value(self) -> int | None:
        return self.budget.value() or None

    def set_budget(self, budget: int | None) -> None:
        with _Quiet(self):
            self.budget.setValue(budget or 0)

    def values(self) -> dict:
        """Everything shown, for QSettings."""
        return {"preset": self.preset.currentData(), "cell": self.cell.currentData(),
                "layers": self.layers.value(), "hidden": self.hidden.value(),
                "optimizer": self.optimizer.currentData(),
                "batch_size": self.batch_size.value(), "seed": self.seed.value(),
                "lr": self.lr.value(), "clip": self.clip.value(),
                "sample_every": self.sample_every.value(), "samples": self.samples.value(),
                "budget": self.budget.value(),
                "patience": self.patience.value()}

    def set_values(self, values: dict) -> None:
        """Restore remembered values; anything missing or invalid keeps its current value."""
        with _Quiet(self):
            for name in ("preset", "cell", "optimizer"):
                box = getattr(self, name)
                index = box.findData(values.get(name))
                if index >= 0:
                    box.setCurrentIndex(index)
            for name in ("layers", "hidden", "batch_size", "seed", "sample_every", "samples",
                         "budget", "lr", "clip", "patience"):
                value = values.get(name)
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    getattr(self, name).setValue(value)
        self._show_preset_rows()


def value_text(box: QAbstractSpinBox, value: float) -> str:
    """A value as a user would type it: 0.00001, 1,000 (not 0.01000 or 1e-05)."""
    if isinstance(box, QDoubleSpinBox):
        return f"{value:,.{box.decimals()}f}".rstrip("0").rstrip(".")
    if value == box.minimum() and box.specialValueText():
        return box.specialValueText()
    return f"{value:,}"


def range_text(box: QAbstractSpinBox) -> str:
    """'0.00001 to 100', '0 (unlimited) to 100,000,000': the values the box takes."""
    low = f"{box.minimum():,}" if isinstance(box, QSpinBox) else value_text(box, box.minimum())
    if box.specialValueText():
        low += f" ({box.specialValueText()})"
    return f"{low} to {value_text(box, box.maximum())}"


class _Quiet:
    """Block the panel's widgets' signals for the duration of a `with`."""

    def __init__(self, panel: HyperparamsPanel) -> None:
        self.widgets = [getattr(panel, n) for n in (
            "preset", "cell", "layers", "hidden", "optimizer", "batch_size", "seed", *LIVE_FIELDS,
            "budget")]

    def __enter__(self) -> None:
        self.previous = [w.blockSignals(True) for w in self.widgets]

    def __exit__(self, *exc) -> None:
        for w, was in zip(self.widgets, self.previous, strict=True):
            w.blockSignals(was)


def live_change_text(before: TrainConfig, changes: dict) -> tuple[str, str] | None:
    """For a learning-rate or clip change: a line for the log and a short label for the plot
    ("learning rate 0.01 → 0.005", "lr 0.005"); None for other settings."""
    parts, short = [], []
    for name, label, abbrev in (("lr", "learning rate", "lr"), ("clip", "gradient clip", "clip")):
        if name in changes and changes[name] != getattr(before, name):
            parts.append(f"{label} {getattr(before, name):g} → {changes[name]:g}")
            short.append(f"{abbrev} {changes[name]:g}")
    return ("; ".join(parts), ", ".join(short)) if parts else None


SETTING_NAMES = {"preset": "the preset", "cell": "the cell", "layers": "the layers",
                 "hidden": "the hidden units", "optimizer": "the optimizer",
                 "batch_size": "the batch size", "seed": "the seed"}


def plain_settings(changed: list[str]) -> str:
    """Settings as a user calls them: "the preset" (whose own settings follow from it), or
    "the hidden units and the seed"."""
    if "preset" in changed:
        return SETTING_NAMES["preset"]
    names = [SETTING_NAMES.get(k, "the " + k.replace("_", " ")) for k in changed]
    return " and ".join(names) if len(names) < 3 else ", ".join(names[:-1]) + " and " + names[-1]


def apply_live(trainer, changes: dict) -> int:
    """Give the trainer the changed live settings (on the worker, between steps); returns the
    iteration they take effect at, for the trace."""
    trainer.set_live(**changes)
    return trainer.iteration
