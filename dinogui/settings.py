"""What the window remembers between sessions (QSettings), and where it keeps its data.

Values that are not plain strings are stored as JSON text, so they read back
the same from every QSettings backend (the INI files tests use, the registry,
plists). Tests hand the window a QSettings on a temporary INI file and a
temporary data folder, so they never touch the user's own.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, QStandardPaths

from dinogui.core.corpus import bundled_corpus_path
from dinogui.datadir import APPLICATION, ORGANIZATION, default_data_dir  # noqa: F401 (re-exported)

MAX_RECENT = 8
AUTOSAVE_NAME = "autosave.safetensors"  # a checkpoint like any other
LEGACY_AUTOSAVE_NAME = "autosave.npz"  # what versions before safetensors wrote
KEPT_AUTOSAVE_NAME = "autosave-kept.safetensors"  # one the user left for a later launch


def documents_folder() -> Path:
    """The user's Documents folder (QStandardPaths), else the home folder."""
    location = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return Path(location) if location and Path(location).is_dir() else Path.home()


def inside_the_app(folder: Path) -> bool:
    """The bundled data folder, or any folder of the installed package."""
    folder = folder.resolve()
    app_folders = {bundled_corpus_path().parent.resolve(), Path(__file__).resolve().parent}
    return any(folder == f or f in folder.parents for f in app_folders)


INT32 = (-(2**31), 2**31 - 1)  # what a Qt spin box holds; anything beyond is not a choice made
MAX_TEXT = 1000  # characters in a remembered text field


def plain_values(values: dict) -> dict:
    """The remembered choices a panel can take: booleans, short strings, and finite numbers
    a spin box can hold (each panel then clamps to its own range). Anything else, as a
    hand-edited or damaged settings file may hold, is left out: the panel keeps its default."""
    kept = {}
    for key, value in values.items():
        if not isinstance(key, str):
            continue
        if isinstance(value, bool) or (isinstance(value, str) and len(value) <= MAX_TEXT):
            kept[key] = value
        elif isinstance(value, int) and INT32[0] <= value <= INT32[1]:
            kept[key] = value
        elif isinstance(value, float) and math.isfinite(value) and INT32[0] <= value <= INT32[1]:
            kept[key] = value
    return kept


class AppSettings:
    def __init__(self, qsettings: QSettings | None = None) -> None:
        self.q = qsettings if qsettings is not None else QSettings(ORGANIZATION, APPLICATION)

    # -- JSON-valued keys -------------------------------------------------------
    def _get_json(self, key: str, default):
        """The key's JSON value, or `default` when it is missing, of another type or cannot be
        read (malformed, nested too deeply, a number of too many digits): a damaged settings
        file costs the remembered choices, never the launch."""
        text = self.q.value(key)
        if not isinstance(text, str):
            return default
        try:
            value = json.loads(text)
        except (ValueError, RecursionError, MemoryError):  # JSONDecodeError is a ValueError
            return default
        return value if isinstance(value, type(default)) else default

    def _set_json(self, key: str, value) -> None:
        self.q.setValue(key, json.dumps(value))

    # -- window layout ----------------------------------------------------------
    def blob(self, key: str) -> QByteArray | None:
        value = self.q.value(f"window/{key}")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def set_blob(self, key: str, value: QByteArray) -> None:
        self.q.setValue(f"window/{key}", value)

    # -- training and sampling choices ------------------------------------------
    def hyperparameters(self) -> dict:
        return plain_values(self._get_json("training/hyperparameters", {}))

    def set_hyperparameters(self, values: dict) -> None:
        self._set_json("training/hyperparameters", values)

    def sampling(self) -> dict:
        return plain_values(self._get_json("sampling/controls", {}))

    def set_sampling(self, values: dict) -> None:
        self._set_json("sampling/controls", values)

    def loss_scale(self) -> str | None:
        value = self.q.value("view/loss_scale")
        return value if value in ("name", "char") else None

    def set_loss_scale(self, scale: str) -> None:
        self.q.setValue("view/loss_scale", scale)

    # -- files ------------------------------------------------------------------
    def last_corpus(self) -> str | None:
        value = self.q.value("files/last_corpus")
        return value if isinstance(value, str) and value else None

    def set_last_corpus(self, path: str) -> None:
        self.q.setValue("files/last_corpus", path)

    def recent_files(self) -> list[str]:
        return [p for p in self._get_json("files/recent", []) if isinstance(p, str)]

    def add_recent(self, path: str | Path) -> list[str]:
        path = str(Path(path).resolve())
        recent = [path] + [p for p in self.recent_files() if p != path]
        self._set_json("files/recent", recent[:MAX_RECENT])
        return self.recent_files()

    def remove_recent(self, path: str) -> list[str]:
        self._set_json("files/recent", [p for p in self.recent_files() if p != path])
        return self.recent_files()

    def clear_recent(self) -> None:
        self._set_json("files/recent", [])

    def last_folder(self) -> str:
        """Where file dialogs start: the last folder used, else Documents; never a folder
        inside the installed app (its bundled names are opened, not written to)."""
        value = self.q.value("files/last_folder")
        if isinstance(value, str) and value and Path(value).is_dir() \
                and not inside_the_app(Path(value)):
            return value
        return str(documents_folder())

    def set_last_folder(self, path: str | Path) -> None:
        self.q.setValue("files/last_folder", str(Path(path).parent))

    # -- autosave bookkeeping ---------------------------------------------------
    def autosave_source(self, kept: bool = False) -> str | None:
        """The checkpoint file the autosaved model came from, if any (kept: the autosave
        kept for a later launch)."""
        value = self.q.value("autosave/kept_source" if kept else "autosave/source")
        return value if isinstance(value, str) and value else None

    def set_autosave_source(self, path: str | None, kept: bool = False) -> None:
        self.q.setValue("autosave/kept_source" if kept else "autosave/source", path or "")

    # -- notes shown once ---------------------------------------------------------
    def told(self, note: str) -> bool:
        return self.q.value(f"told/{note}") in (True, "true")

    def set_told(self, note: str) -> None:
        self.q.setValue(f"told/{note}", True)

    def sync(self) -> None:
        self.q.sync()
