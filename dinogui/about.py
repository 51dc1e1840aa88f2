"""Help > About: what dinogui is, and the versions and folders a bug report needs, copyable."""

from __future__ import annotations

import platform
from pathlib import Path

from PySide6.QtCore import qVersion
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from dinogui import __version__

DESCRIPTION = (
    "<p>A desktop trainer for character-level name generators: a NumPy recurrent network "
    "learns a list of names live, and invents new ones.</p>"
    "<p>The <i>default</i> preset trains mini-batches with Adam and stops by itself when the "
    "held-out loss stops improving; <i>classic</i> is the original Dinosaurus Island "
    "exercise, exact to its numbers.</p>"
    "<p>F5 start · F6 pause · F10 one step · Ctrl+G sample</p>"
    "<p>MIT licence.</p>")


def about_text(data_dir: str | Path, settings_file: str | None = None) -> str:
    """One line per version and folder, as pasted into a bug report."""
    import numpy
    import pyqtgraph
    import PySide6

    lines = [f"dinogui {__version__}",
             f"Python {platform.python_version()} ({platform.python_implementation()})",
             f"Qt {qVersion()}",
             f"PySide6 {PySide6.__version__}",
             f"pyqtgraph {pyqtgraph.__version__}",
             f"NumPy {numpy.__version__}",
             f"System {platform.system()} {platform.release()} ({platform.machine()})",
             f"Data folder {data_dir}"]
    if settings_file:
        lines.append(f"Settings {settings_file}")
    return "\n".join(lines)


class AboutDialog(QDialog):
    """The description, then the versions in a read-only box (selectable) and a Copy button."""

    def __init__(self, parent: QWidget | None, title: str, details: str) -> None:
        super().__init__(parent)
        from dinogui.icon import app_icon

        self.setWindowTitle(title)
        self.details = details
        icon = QLabel()
        icon.setPixmap(app_icon().pixmap(64, 64))
        heading = QLabel(f"<h3>dinogui {__version__}</h3>{DESCRIPTION}")
        heading.setWordWrap(True)
        heading.setTextInteractionFlags(heading.textInteractionFlags()
                                        | heading.textInteractionFlags().TextSelectableByMouse)
        top = QHBoxLayout()
        top.addWidget(icon, 0, heading.alignment().AlignTop)
        top.addWidget(heading, 1)

        self.text = QPlainTextEdit(details)
        self.text.setReadOnly(True)  # selectable and copyable, not editable
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        lines = details.count("\n") + 1
        self.text.setFixedHeight(self.text.fontMetrics().lineSpacing() * (lines + 1) + 12)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy = QPushButton("&Copy")
        self.copy.setToolTip("Copy the versions and folders to the clipboard (for a bug report)")
        buttons.addButton(self.copy, QDialogButtonBox.ButtonRole.ActionRole)
        self.copy.clicked.connect(self.copy_details)
        buttons.rejected.connect(self.reject)
        self.close_button = buttons.button(QDialogButtonBox.StandardButton.Close)
        self.close_button.setDefault(True)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.text)
        layout.addWidget(buttons)
        self.setMinimumWidth(480)

    def copy_details(self) -> None:
        QGuiApplication.clipboard().setText(self.details)
        self.copy.setText("Copied")
