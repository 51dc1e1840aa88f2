"""File > Open Recent: the files opened lately, the last corpus and folder remembered in
the settings, and a recent file that has gone away said and dropped."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from dinogui.controllers.shell import Shell


class RecentFiles(QObject):
    def __init__(self, shell: Shell, menu: QMenu, clear: QAction,
                 open_path: Callable[[str | Path], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.shell, self.menu, self.clear_action = shell, menu, clear
        self.open_path = open_path

    def fill(self) -> None:
        menu, recent = self.menu, self.shell.settings.recent_files()
        menu.clear()
        for path in recent:
            action = menu.addAction(Path(path).name)
            action.setToolTip(path)
            action.setStatusTip(path)
            action.triggered.connect(lambda _=False, p=path: self.open_recent(p))
        if recent:
            menu.addSeparator()
        menu.addAction(self.clear_action)
        self.clear_action.setEnabled(bool(recent))

    def open_recent(self, path: str) -> None:
        if not Path(path).is_file():
            self.shell.dialogs.error("Open Recent", f"{path}: no such file (removed from the list)")
            self.shell.settings.remove_recent(path)
            self.fill()
        else:
            self.open_path(path)

    def clear(self) -> None:
        self.shell.settings.clear_recent()
        self.fill()

    def remember(self, path: Path, corpus: bool = False) -> None:
        """An opened or saved file: first in the list (each of several lists by kind alone),
        its folder the next dialog's, a name list the next launch's corpus."""
        s = self.shell.settings
        kinds = getattr(path, "paths", None)
        if corpus and kinds is None:
            s.set_last_corpus(str(path.resolve()))
        s.set_last_folder(path)
        for one in kinds or [path]:
            s.add_recent(Path(one))
        self.fill()
