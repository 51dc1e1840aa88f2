"""Where dinogui keeps its data (autosave, runs, rescued checkpoints), without importing Qt.

The same folder QStandardPaths.AppDataLocation gives the window once the
application's organisation and name are set ("dinogui/dinogui"), so the CLI
and the window agree and no existing autosave is orphaned.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ORGANIZATION = "dinogui"
APPLICATION = "dinogui"


def default_data_dir() -> Path:
    """The user's data folder for dinogui: XDG_DATA_HOME on Linux, as Qt reads it."""
    home = Path.home()
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA") or home / "AppData" / "Roaming")
    elif sys.platform == "darwin":
        base = home / "Library" / "Application Support"
    else:
        xdg = os.environ.get("XDG_DATA_HOME", "")
        base = Path(xdg) if os.path.isabs(xdg) else home / ".local" / "share"
    return base / ORGANIZATION / APPLICATION
