"""Keeps the Inspector's snapshot of the weights current while it is the tab in front: at once
for another model or a stopped one, every few seconds while training when Follow is ticked."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QTabWidget

from dinogui.controllers.shell import Shell
from dinogui.core.trainer import Trainer
from dinogui.document.name_scores import ModelSnapshot
from dinogui.widgets.inspector import InspectorView

INSPECTOR_FOLLOW_MS = 2000  # the Inspector takes new weights this often while training


class InspectorFollower(QObject):
    def __init__(self, shell: Shell, view: InspectorView, tabs: QTabWidget) -> None:
        """tabs: the tab widget that holds the view (it follows only while in front)."""
        super().__init__(shell)
        self.shell = shell
        self.view = view
        self.tabs = tabs
        self.asking = False  # a snapshot is on its way
        # ticks only while the Inspector is the tab in front: no wake-ups of the window's
        # thread (and hand-overs of the GIL) for a view nobody looks at
        self.timer = QTimer(self)
        self.timer.setInterval(INSPECTOR_FOLLOW_MS)
        self.timer.timeout.connect(self.follow)
        tabs.currentChanged.connect(self._shown_or_hidden)

    def _in_front(self) -> bool:
        return self.tabs.currentWidget() is self.view

    def _shown_or_hidden(self, _index: int = 0) -> None:
        if self._in_front():
            self.timer.start()
        else:
            self.timer.stop()
        self.follow()

    def refresh(self) -> None:
        """Ctrl+Shift+I: take the model's weights now (and show the Inspector)."""
        self.tabs.setCurrentWidget(self.view)
        self.take()

    def follow(self) -> None:
        s = self.shell.session
        if self.shell.closing or not self._in_front():
            return
        snap = self.view.snapshot
        if snap is not None and self.view.snapshot_key == (s.generation, s.iteration):
            return
        if snap is None or snap.generation != s.generation or not s.training \
                or self.view.follow.isChecked():
            self.take()

    def take(self) -> None:
        sh, s = self.shell, self.shell.session
        if s.trainer is None or self.asking or sh.closing:
            return
        generation = s.generation
        known = s.summary.known if s.summary is not None else frozenset()

        def snapshot(t: Trainer) -> ModelSnapshot:
            return ModelSnapshot(t.sampler(copy_params=True), t.iteration, generation,
                                 t.corpus.lowercase, t.corpus.names, known)

        def taken(snap, error) -> None:
            self.asking = False
            if error is not None:
                sh.note(f"Inspector: could not read the model: {error}")
            elif snap.generation == s.generation:
                self.view.set_snapshot(snap)
                if snap.iteration != s.iteration and not s.training:
                    self.follow()  # stepped meanwhile

        self.asking = True
        sh.worker.ask(snapshot, taken)
