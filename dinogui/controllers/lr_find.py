"""Training > Find Learning Rate: copy the model between two steps (on the worker), sweep
the copy in the background (the task pool), show the curve; "Use this rate" types the
suggestion into the Learning rate field, which applies it as any edit of it does."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from dinogui.controllers.shell import Shell
from dinogui.core import lr_find
from dinogui.widgets.hyperparams import HyperparamsPanel
from dinogui.widgets.lr_find_dialog import LrFindDialog


class LrFinder(QObject):
    shown = Signal(object)  # the LrFindDialog, once it is on screen
    running_changed = Signal(bool)  # a sweep began or ended: Find Learning Rate follows

    def __init__(self, shell: Shell, hyperparams: HyperparamsPanel) -> None:
        """hyperparams: the panel whose Learning rate field "Use this rate" types into."""
        super().__init__(shell)
        self.shell = shell
        self.hyperparams = hyperparams
        self.running = False
        self.dialog: LrFindDialog | None = None

    def find(self) -> None:
        sh, s = self.shell, self.shell.session
        if s.trainer is None or s.busy or self.running or sh.closing:
            return
        self._set_running(True)
        sh.note("Finding a learning rate: a short sweep on a copy of the model…")

        def swept(sweep, error) -> None:
            self._set_running(False)
            if sh.closing:
                return
            if error is not None:
                sh.refuse("Cannot find a learning rate", error, "left the model as it was")
                return
            self._show(sweep)

        def copied(twin, error) -> None:
            if error is not None or sh.closing:
                swept(None, error)
                return
            # the sweep copies again: `twin` is already private, its own copy costs little
            sh.tasks.run(lambda: lr_find.find_lr(twin), swept)

        sh.worker.ask(lr_find.copy_trainer, copied)

    def _set_running(self, running: bool) -> None:
        self.running = running
        self.running_changed.emit(running)

    def _show(self, sweep: lr_find.Sweep) -> None:
        if self.dialog is not None:
            self.dialog.close()
        # over the settings it would change (a dialog sits over its parent's window)
        dialog = self.dialog = LrFindDialog(sweep, self.hyperparams)
        dialog.use_rate.connect(self.use)
        dialog.show()
        if sweep.suggestion is not None:
            self.shell.note(f"Suggested learning rate: {sweep.suggestion:g}")
        self.shown.emit(dialog)

    def use(self, rate: float) -> None:
        """As if typed into the Learning rate field: it reaches the trainer at the next step."""
        self.hyperparams.lr.setValue(rate)
