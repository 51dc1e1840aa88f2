"""Training > Find Learning Rate: copy the model between two steps (on the worker), sweep
the copy in the background (the task pool), show the curve; "Use this rate" types the
suggestion into the Learning rate field, which applies it as any edit of it does."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from dinogui.core import lr_find
from dinogui.widgets.lr_find_dialog import LrFindDialog

if TYPE_CHECKING:
    from dinogui.main_window import MainWindow


class LrFinder(QObject):
    shown = Signal(object)  # the LrFindDialog, once it is on screen

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.w = window
        self.running = False
        self.dialog: LrFindDialog | None = None

    def find(self) -> None:
        w = self.w
        if w.trainer is None or w.busy or self.running or w.closing:
            return
        self.running = True
        w.update_actions()
        w.note("Finding a learning rate: a short sweep on a copy of the model…")

        def swept(sweep, error) -> None:
            self.running = False
            if w.closing:
                return
            w.update_actions()
            if error is not None:
                w.refuse("Cannot find a learning rate", error, "left the model as it was")
                return
            self._show(sweep)

        def copied(twin, error) -> None:
            if error is not None or w.closing:
                swept(None, error)
                return
            # the sweep copies again: `twin` is already private, its own copy costs little
            w.tasks.run(lambda: lr_find.find_lr(twin), swept)

        w.worker.ask(lr_find.copy_trainer, copied)

    def _show(self, sweep: lr_find.Sweep) -> None:
        if self.dialog is not None:
            self.dialog.close()
        dialog = self.dialog = LrFindDialog(sweep, self.w)
        dialog.use_rate.connect(self.use)
        dialog.show()
        if sweep.suggestion is not None:
            self.w.note(f"Suggested learning rate: {sweep.suggestion:g}")
        self.shown.emit(dialog)

    def use(self, rate: float) -> None:
        """As if typed into the Learning rate field: it reaches the trainer at the next step."""
        self.w.hyperparams.lr.setValue(rate)
