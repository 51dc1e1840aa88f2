"""A settings file that cannot be read is ignored (the defaults are used), never a crash:
deeply nested JSON in any remembered key, as a damaged or hostile file may hold."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.gui_support import settings_at

REPO = Path(__file__).resolve().parent.parent
DEEP = "[" * 5000 + "]" * 5000
JSON_KEYS = ("training/hyperparameters", "sampling/controls", "files/recent")
HOSTILE = {
    "deep list": DEEP,
    "deep inside a map": '{"hidden": ' + DEEP + ', "lr": 0.5}',
    "deep map": '{"a": ' * 5000 + "1" + "}" * 5000,
    "huge integer": '{"hidden": ' + "9" * 5000 + "}",
    "not JSON": "{[",
}


def test_each_unreadable_json_value_reads_as_the_default(tmp_path):
    for what, text in HOSTILE.items():
        settings = settings_at(tmp_path / what.replace(" ", "-"))
        for key in JSON_KEYS:
            settings.q.setValue(key, text)
        assert settings.hyperparameters() == {}, what
        assert settings.sampling() == {}, what
        assert settings.recent_files() == [], what
        assert settings.add_recent(tmp_path / "a.txt") == [str((tmp_path / "a.txt").resolve())]


WINDOW = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    from PySide6.QtWidgets import QApplication
    from tests.gui_support import ScriptedDialogs, settings_at
    from dinogui.main_window import MainWindow

    folder = Path(sys.argv[1])
    app = QApplication(sys.argv)
    w = MainWindow(settings=settings_at(folder), dialogs=ScriptedDialogs(),
                   data_dir=folder / "data")
    w.show()
    app.processEvents()
    print(json.dumps({"hidden": w.hyperparams.hidden.value(), "count": w.samples.count.value(),
                      "recent": w.settings.recent_files(), "asked": w.dialogs.asked}))
    w.close()
""")


def test_the_window_starts_on_a_settings_file_nested_5000_deep(tmp_path):
    settings = settings_at(tmp_path)
    for key in JSON_KEYS:
        settings.q.setValue(key, DEEP)
    settings.sync()
    proc = subprocess.run([sys.executable, "-c", WINDOW, str(tmp_path)], cwd=REPO,
                          capture_output=True, text=True, timeout=120,
                          env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr and "RecursionError" not in proc.stderr
    shown = json.loads(proc.stdout.strip().splitlines()[-1])
    assert shown == {"hidden": 50, "count": 10, "recent": [], "asked": []}
