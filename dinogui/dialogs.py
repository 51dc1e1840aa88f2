"""Every question and message the window puts to the user, in one replaceable object.

The window never opens a QFileDialog or QMessageBox itself; it asks its
Dialogs. Tests give it an object with the same methods that answers from a
script and records what was said, so no test needs a click.
"""

from __future__ import annotations

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

CORPUS_FILTER = "Name lists (*.txt);;All files (*)"
CHECKPOINT_FILTER = "dinogui checkpoints (*.safetensors *.npz);;All files (*)"
TEXT_FILTER = "Text files (*.txt);;All files (*)"


class Dialogs:
    """Modal Qt dialogs parented to the window."""

    def __init__(self, parent: QWidget | None = None) -> None:
        self.parent = parent

    def open_path(self, title: str, folder: str, file_filter: str) -> str | None:
        path, _ = QFileDialog.getOpenFileName(self.parent, title, folder, file_filter)
        return path or None

    def open_many(self, title: str, folder: str, file_filter: str) -> list[str]:
        """Files to open, several at once (Ctrl- or Shift-click); [] when cancelled."""
        paths, _ = QFileDialog.getOpenFileNames(self.parent, title, folder, file_filter)
        return list(paths)

    def save_path(self, title: str, suggested: str, file_filter: str) -> str | None:
        path, _ = QFileDialog.getSaveFileName(self.parent, title, suggested, file_filter)
        return path or None

    def confirm(self, title: str, text: str, yes: str = "OK", no: str = "Cancel") -> bool:
        box = QMessageBox(QMessageBox.Icon.Question, title, text, parent=self.parent)
        ok = box.addButton(yes, QMessageBox.ButtonRole.AcceptRole)
        box.addButton(no, QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(ok)
        box.exec()
        return box.clickedButton() is ok

    def confirm_or_later(self, title: str, text: str, yes: str, no: str,
                         later: str = "Later") -> bool | None:
        """True for yes (the default), False for no, None for later (Escape, the close
        button): a question the user may put off without losing anything."""
        box = QMessageBox(QMessageBox.Icon.Question, title, text, parent=self.parent)
        ok = box.addButton(yes, QMessageBox.ButtonRole.AcceptRole)
        refused = box.addButton(no, QMessageBox.ButtonRole.DestructiveRole)
        box.setEscapeButton(box.addButton(later, QMessageBox.ButtonRole.RejectRole))
        box.setDefaultButton(ok)
        box.exec()
        clicked = box.clickedButton()
        return True if clicked is ok else False if clicked is refused else None

    def choose(self, title: str, text: str, options: list[str]) -> int | None:
        """The index of the option picked, or None for Cancel."""
        box = QMessageBox(QMessageBox.Icon.Question, title, text, parent=self.parent)
        buttons = [box.addButton(o, QMessageBox.ButtonRole.AcceptRole) for o in options]
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(buttons[0])
        box.setEscapeButton(cancel)
        box.exec()
        clicked = box.clickedButton()
        return buttons.index(clicked) if clicked in buttons else None

    def inform(self, title: str, text: str) -> None:
        QMessageBox.information(self.parent, title, text)

    def error(self, title: str, text: str) -> None:
        QMessageBox.warning(self.parent, title, text)

    def about(self, title: str, text: str) -> None:
        """The About box: a description, and `text` (versions, folders) copyable."""
        from dinogui.about import AboutDialog

        AboutDialog(self.parent, title, text).exec()
