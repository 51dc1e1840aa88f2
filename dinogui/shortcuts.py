"""Help > Keyboard Shortcuts (F1): read from the window's actions, so it never goes stale."""

from __future__ import annotations

from html import escape

from PySide6.QtGui import QAction, QKeySequence


def shortcut_rows(actions: list[QAction]) -> list[tuple[str, str]]:
    """(command, keys) for each action that has a shortcut, in the order given."""
    rows = []
    for action in actions:
        keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        if keys:
            label = action.text().replace("&&", "\0").replace("&", "").replace("\0", "&")
            rows.append((label.rstrip("…").strip(), keys))
    return rows


def shortcuts_html(rows: list[tuple[str, str]]) -> str:
    cells = "".join(f"<tr><td><b>{escape(keys)}</b></td><td>&nbsp;&nbsp;{escape(label)}</td>"
                    "</tr>" for label, keys in rows)
    return (f"<table>{cells}</table><p>A field takes the mouse wheel once clicked into; "
            "until then the wheel scrolls the column.</p>")
