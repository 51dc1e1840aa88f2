"""`dinogui --install-desktop`: a menu entry and its icon for freedesktop desktops (Linux, BSD).

Writes, under $XDG_DATA_HOME (default ~/.local/share):
  applications/dinogui.desktop                 the menu entry (Exec runs this Python's dinogui)
  icons/hicolor/<n>x<n>/apps/dinogui.png       the app's icon, drawn by dinogui.icon at each size
  mime/packages/dinogui.xml                    the checkpoint's MIME type (shared-mime-info)

Only the user's own folders are touched; deleting those files removes the entry again.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from dinogui.core.atomic import write_atomic

APP_ID = "dinogui"  # the .desktop file's name, the icon's name and the app's desktopFileName
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256)
CHECKPOINT_MIME = "application/x-dinogui-checkpoint"
# file managers offer dinogui for name lists (plain text) and its checkpoints
MIME_TYPES = ("text/plain", CHECKPOINT_MIME)
# a low weight: .safetensors files of other programs keep their own type where one is known
MIME_XML = f"""<?xml version="1.0" encoding="UTF-8"?>
<mime-info xmlns="http://www.freedesktop.org/standards/shared-mime-info">
  <mime-type type="{CHECKPOINT_MIME}">
    <comment>dinogui checkpoint</comment>
    <sub-class-of type="application/octet-stream"/>
    <glob pattern="*.safetensors" weight="40"/>
  </mime-type>
</mime-info>
"""
# characters that make the Desktop Entry spec's Exec quoting necessary
_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")


class DesktopError(Exception):
    """Cannot install here, with a message for the user."""


def data_home() -> Path:
    """$XDG_DATA_HOME, or ~/.local/share when it is unset or not absolute (as the spec says)."""
    value = os.environ.get("XDG_DATA_HOME", "")
    return Path(value) if value and os.path.isabs(value) else Path.home() / ".local" / "share"


def exec_line(argv: list[str]) -> str:
    """argv as a Desktop Entry Exec value, quoted and escaped as the spec asks, plus %f."""
    words = []
    for arg in argv:
        if _RESERVED & set(arg):
            arg = '"' + "".join("\\" + c if c in '"`$\\' else c for c in arg) + '"'
        words.append(arg.replace("%", "%%"))
    # the string-value escape applies before the quoting above is read back
    return " ".join(words).replace("\\", "\\\\") + " %f"


def desktop_entry(argv: list[str]) -> str:
    return "\n".join([
        "[Desktop Entry]",
        "Type=Application",
        "Version=1.0",  # older validators know no other; nothing here needs a later one
        "Name=dinogui",
        "GenericName=Name Generator Trainer",
        "Comment=Train a recurrent network on a list of names and invent new ones",
        f"Exec={exec_line(argv)}",
        f"Icon={APP_ID}",
        "Terminal=false",
        "Categories=Education;ArtificialIntelligence;",  # one main category: listed once
        f"MimeType={';'.join(MIME_TYPES)};",
        "Keywords=RNN;neural network;names;dinosaurs;machine learning;",
        f"StartupWMClass={APP_ID}",
        "",
    ])


def launch_command() -> list[str]:
    """This interpreter running dinogui: right in a virtual environment that is not on PATH."""
    return [sys.executable, "-m", "dinogui"]


def install_desktop(base: Path | None = None) -> list[Path]:
    """Write the menu entry and the icons; returns the files written."""
    if sys.platform in ("win32", "darwin"):
        raise DesktopError("--install-desktop is for Linux desktops (freedesktop menus); "
                           "on Windows and macOS start dinogui from a terminal or pin it")
    from dinogui.icon import icon_image  # Qt: only when installing

    base = base or data_home()
    written = []
    try:
        for size in ICON_SIZES:
            path = base / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            if not icon_image(size).save(str(path), "PNG"):
                raise DesktopError(f"{path}: could not write the icon")
            written.append(path)
        mime = base / "mime" / "packages" / f"{APP_ID}.xml"
        mime.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(mime, MIME_XML.encode("utf-8"))
        written.append(mime)
        entry = base / "applications" / f"{APP_ID}.desktop"
        entry.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(entry, desktop_entry(launch_command()).encode("utf-8"))
        written.append(entry)
    except OSError as e:
        raise DesktopError(f"{e.filename or base}: {e.strerror or e}") from None
    _refresh_caches(base)
    return written


def _refresh_caches(base: Path) -> None:
    """Rebuild the desktop's MIME and menu caches where their tools are installed (without
    them the desktop rebuilds them itself, later)."""
    for tool, folder in (("update-mime-database", base / "mime"),
                         ("update-desktop-database", base / "applications")):
        if shutil.which(tool):
            subprocess.run([tool, str(folder)], capture_output=True, timeout=60, check=False)
