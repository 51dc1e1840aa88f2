"""Hyperparameter controls: the model's shape (fixed once trained) and the training knobs
(live: they apply from the next step).

The panel only reports what the user changed; the window decides what a
change means (a live setting goes to the trainer, a model setting asks to
reset a trained model first).
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from dinogui.core.models import MAX_LAYERS, MODELS
from dinogui.core.optim import Optimizer
from dinogui.core.trainer import PRESETS, TrainConfig

DEFAULT_BUDGET = 35_000  # the exercise's num_iterations
LIVE_FIELDS = ("lr", "clip", "sample_every", "samples")
DEFAULT_ONLY = ("cell", "layers", "optimizer", "batch_size")  # the classic preset is the seed's

PRESET_TIPS = {
    "classic": "The Dinosaurus Island exercise exactly: a tanh RNN, one name per step with the "
               "hidden state carried over, SGD, gradients clipped, the seed's smoothed loss per "
               "name and its sampling.",
    "default": "Mini-batches of names in float32 with Adam (or another optimizer), a choice of "
               "cell, the loss per character, and a held-out tenth of the names.",
}
CELL_TIPS = {"rnn": "tanh RNN (the seed's cell)", "gru": "gated recurrent unit",
             "lstm": "long short-term memory"}


def _spin(lo: int, hi: int, tip: str, step: int = 1) -> QSpinBox:
    box = QSpinBox()
    box.setRange(lo, hi)
    box.setSingleStep(step)
    box.setGroupSeparatorShown(True)
    box.setKeyboardTracking(False)  # valueChanged once the user finishes typing
    box.setToolTip(tip)
    return box


def _real(lo: float, hi: float, decimals: int, tip: str) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
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
        self.preset = _combo([(p, p) for p in PRESETS], "Which training recipe")
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
        self.seed = _spin(0, 2**31 - 1, "Seeds the initial weights and the order of the names: "
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

        model = QGroupBox("Model")
        model.setToolTip("Changing these needs a fresh model")
        self._model_form = form = QFormLayout(model)
        form.addRow("Preset:", self.preset)
        form.addRow("Cell:", self.cell)
        form.addRow("Layers:", self.layers)
        form.addRow("Hidden units:", self.hidden)
        form.addRow("Optimizer:", self.optimizer)
        form.addRow("Batch size:", self.batch_size)
        form.addRow("Seed:", self.seed)
        training = QGroupBox("Training")
        training.setToolTip("These apply from the next step, even while training")
        tform = QFormLayout(training)
        tform.addRow("Learning rate:", self.lr)
        tform.addRow("Gradient clip:", self.clip)
        tform.addRow("Report every:", self.sample_every)
        tform.addRow("Names per report:", self.samples)
        tform.addRow("Iterations:", self.budget)
        for f in (form, tform):
            f.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(model)
        layout.addWidget(training)

        self.set_config(TrainConfig.for_preset("default"))  # the batched choices' defaults
        self.set_config(TrainConfig())
        self.budget.setValue(DEFAULT_BUDGET)
        for w in (self.preset, self.cell, self.optimizer):
            w.currentIndexChanged.connect(self._model_edited)
        for w in (self.layers, self.hidden, self.batch_size, self.seed):
            w.valueChanged.connect(self._model_edited)
        for name in LIVE_FIELDS:
            box = getattr(self, name)
            box.valueChanged.connect(lambda v, name=name: self.live_changed.emit({name: v}))
        self.budget.valueChanged.connect(lambda _v: self.budget_changed.emit(self.budget_value()))

    def _model_edited(self, *_args) -> None:
        self._show_preset_rows()
        self.model_changed.emit()

    def _show_preset_rows(self) -> None:
        batched = self.preset.currentData() != "classic"
        for name in DEFAULT_ONLY:
            self._model_form.setRowVisible(getattr(self, name), batched)

    # -- reading and writing ----------------------------------------------------
    def config(self) -> TrainConfig:
        preset = self.preset.currentData()
        extra = {}
        if preset != "classic":
            extra = dict(cell=self.cell.currentData(), layers=self.layers.value(),
                         optimizer=self.optimizer.currentData(),
                         batch_size=self.batch_size.value())
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
                "budget": self.budget.value()}

    def set_values(self, values: dict) -> None:
        """Restore remembered values; anything missing or invalid keeps its current value."""
        with _Quiet(self):
            for name in ("preset", "cell", "optimizer"):
                box = getattr(self, name)
                index = box.findData(values.get(name))
                if index >= 0:
                    box.setCurrentIndex(index)
            for name in ("layers", "hidden", "batch_size", "seed", "sample_every", "samples",
                         "budget", "lr", "clip"):
                value = values.get(name)
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    getattr(self, name).setValue(value)
        self._show_preset_rows()


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
