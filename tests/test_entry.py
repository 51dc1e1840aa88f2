"""Ways in: `dinogui FILE` (a name list or a checkpoint, told by content), Help > About, Help >
Keyboard Shortcuts (F1) and `dinogui --install-desktop` (a menu entry and its icon)."""

import configparser
import os
import platform
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy
import pyqtgraph
import PySide6
import pytest
from PySide6.QtCore import Qt, qVersion
from PySide6.QtGui import QGuiApplication, QImage

from dinogui import __version__, app, cli, desktop
from dinogui.controllers.files import is_checkpoint
from dinogui.core import checkpoint
from dinogui.core.config import TrainConfig
from dinogui.core.corpus import load_corpus
from dinogui.core.trainer import Trainer
from dinogui.main_window import MainWindow
from tests.conftest import REPO
from tests.gui_support import WAIT_MS, ScriptedDialogs, open_window, settings_at

pytest.importorskip("pytestqt")


@pytest.fixture
def saved(tmp_path, tiny_corpus) -> Path:
    """A checkpoint of a classic model trained 40 iterations on the tiny corpus."""
    t = Trainer(load_corpus(tiny_corpus), TrainConfig())
    t.run(40)
    path = tmp_path / "model.safetensors"
    checkpoint.save(t, path)
    return path


# -- the command line ---------------------------------------------------------------------
@pytest.fixture
def opened(monkeypatch):
    """What `dinogui ...` would open the window on, without opening it."""
    calls = []
    monkeypatch.setattr(app, "run_app", lambda open_file=None: calls.append(open_file) or 0)
    return calls


@pytest.mark.parametrize("argv, file", [
    ([], None),
    (["names.txt"], "names.txt"),
    (["model.npz"], "model.npz"),
    (["--", "train"], "train"),  # a file that is named like a command
    (["--", "-odd.txt"], "-odd.txt"),
])
def test_a_file_argument_opens_the_window_on_it(opened, argv, file):
    assert cli.main(argv) == 0
    assert opened == [file]


def test_subcommands_are_not_taken_for_files(opened, capsys, tiny_corpus):
    assert cli.main(["train", "--corpus", str(tiny_corpus), "--iterations", "3",
                     "--quiet"]) == 0
    assert capsys.readouterr().out.startswith("trained to iteration 3:")
    assert opened == []  # no window


@pytest.mark.parametrize("argv, message", [
    (["a.txt", "b.txt"], "give one file to open"),
    (["a.txt", "--install-desktop"], "--install-desktop takes no file"),
    (["--install-desktop", "train"], "--install-desktop goes alone"),
    (["--", "a.txt", "b.txt"], "give one file to open"),
])
def test_argument_mistakes_are_one_line(opened, capsys, argv, message):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("dinogui: error: ") and message in err and len(err.splitlines()) == 1
    assert opened == []


def test_help_names_the_file_and_the_commands(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    assert "[FILE | {train,sample,score,export,lr-find,bench} ...]" in out
    assert "--install-desktop" in out


def test_checkpoints_are_told_by_name_or_content(tmp_path, saved, tiny_corpus):
    renamed = tmp_path / "model.txt"
    renamed.write_bytes(saved.read_bytes())
    assert is_checkpoint(saved) and is_checkpoint(renamed)
    assert not is_checkpoint(tiny_corpus) and not is_checkpoint(tmp_path / "missing.txt")
    odd = tmp_path / "odd.txt"
    odd.write_text("abcdefgh{name\n", encoding="utf-8")  # 8 bytes and a brace: not a header
    assert not is_checkpoint(odd)


# -- the window on a file -----------------------------------------------------------------
def launch(qtbot, tmp_path, file, dialogs=None, settings=None):
    """The window as `dinogui FILE` starts it: the last corpus, a restore offer, the file."""
    dialogs = dialogs or ScriptedDialogs()
    tmp_path.mkdir(parents=True, exist_ok=True)
    w = MainWindow(settings=settings or settings_at(tmp_path), dialogs=dialogs,
                   data_dir=tmp_path / "data")
    qtbot.addWidget(w)
    w.show()
    app.start(w, None if file is None else str(file))
    return w


def settle(qtbot, w):
    qtbot.waitUntil(lambda: not w.session.busy and not w.tasks.busy
                    and w.session.trainer is not None,
                    timeout=WAIT_MS)


def test_dinogui_checkpoint_opens_that_model(qtbot, tmp_path, saved):
    renamed = tmp_path / "model-copy.txt"  # recognised by its content, whatever its name
    renamed.write_bytes(saved.read_bytes())
    for path in (saved, renamed):
        w = launch(qtbot, tmp_path / path.stem, path)
        settle(qtbot, w)
        qtbot.waitUntil(lambda w=w: w.session.iteration == 40, timeout=WAIT_MS)
        assert w.session.checkpoint_path == path and w.session.summary.title == "tiny"
        assert not w.dialogs.errors and not w.isWindowModified()


def test_dinogui_corpus_opens_that_list(qtbot, tmp_path):
    names = tmp_path / "towns.txt"
    names.write_text("Aston\nBrill\nCowley\nDidcot\nEynsham\n", encoding="utf-8")
    w = launch(qtbot, tmp_path, names)
    qtbot.waitUntil(lambda: w.session.summary is not None and w.session.summary.title == "towns",
                    timeout=WAIT_MS)
    settle(qtbot, w)
    assert w.session.trainer is not None and w.session.iteration == 0 and not w.dialogs.errors
    assert w.settings.last_corpus() == str(names.resolve())


def menu_message(qtbot, tmp_path, path, action: str):
    """What File > Open Checkpoint / Open Corpus says about the same file."""
    dialogs = ScriptedDialogs()
    dialogs.open_paths = [str(path)]
    w = launch(qtbot, tmp_path / "menu", None, dialogs=dialogs)
    settle(qtbot, w)
    getattr(w.actions_, action).trigger()
    qtbot.waitUntil(lambda: bool(dialogs.errors), timeout=WAIT_MS)
    return dialogs.errors[-1]


@pytest.mark.parametrize("kind", ["damaged checkpoint", "binary junk", "missing"])
def test_a_bad_file_gets_the_menu_s_message_and_the_window_still_opens(qtbot, tmp_path,
                                                                        saved, kind):
    if kind == "damaged checkpoint":
        bad, action = tmp_path / "bad.npz", "open_checkpoint"
        bad.write_bytes(saved.read_bytes()[:300])  # a zip cut short
    elif kind == "binary junk":
        bad, action = tmp_path / "junk.txt", "open_corpus"
        bad.write_bytes(bytes(range(256)) * 4)
    else:
        bad, action = tmp_path / "gone.txt", "open_corpus"
    dialogs = ScriptedDialogs()
    w = launch(qtbot, tmp_path, bad, dialogs=dialogs)
    qtbot.waitUntil(lambda: bool(dialogs.errors), timeout=WAIT_MS)
    settle(qtbot, w)
    assert dialogs.errors == [menu_message(qtbot, tmp_path, bad, action)]
    assert str(bad.name) in dialogs.errors[0][1]
    # the window is up on the last corpus (here the bundled dinosaurs), ready to train
    assert w.isVisible() and w.session.summary.title == "dinosaurs" and w.actions_.start.isEnabled()


def leave_unsaved_training(qtbot, tmp_path, corpus) -> None:
    """A session that trains 25 iterations on `corpus` (then its last corpus) and closes."""
    first = launch(qtbot, tmp_path, corpus)
    qtbot.waitUntil(lambda: first.session.summary is not None
                    and first.session.summary.title == "tiny", timeout=WAIT_MS)
    settle(qtbot, first)
    first.hyperparams.budget.setValue(25)
    first.hyperparams.patience.setValue(0)  # 8 names are checked every step: 5 would stop it
    first.actions_.start.trigger()
    qtbot.waitUntil(lambda: not first.session.training and first.session.iteration == 25,
                    timeout=WAIT_MS)
    first.close()
    assert first.autosave_path.is_file()


def test_a_restored_model_is_not_replaced_by_the_last_corpus(qtbot, tmp_path, tiny_corpus):
    """At launch the last corpus loads and gets a model; a restore must come after it."""
    leave_unsaved_training(qtbot, tmp_path, tiny_corpus)
    dialogs = ScriptedDialogs()
    dialogs.confirms = [True]
    w = launch(qtbot, tmp_path, None, dialogs=dialogs)
    qtbot.waitUntil(lambda: len(dialogs.asked) == 1, timeout=WAIT_MS)
    settle(qtbot, w)
    assert w.session.iteration == 25 and w.isWindowModified() and w.session.summary.title == "tiny"


def test_unsaved_training_is_offered_back_first_then_the_file(qtbot, tmp_path, saved,
                                                              tiny_corpus):
    leave_unsaved_training(qtbot, tmp_path, tiny_corpus)

    dialogs = ScriptedDialogs()
    dialogs.confirms = [True]  # restore it
    dialogs.choices = [None]  # then Cancel opening the file: it would replace the restored model
    w = launch(qtbot, tmp_path, saved, dialogs=dialogs)
    qtbot.waitUntil(lambda: len(dialogs.asked) == 2, timeout=WAIT_MS)
    settle(qtbot, w)
    assert dialogs.asked[0][0] == "Restore unsaved training?"
    assert dialogs.asked[1][0] == "Unsaved training"  # opening the file would discard it
    assert w.session.iteration == 25 and w.isWindowModified()  # the restored model, kept


# -- Help > About -----------------------------------------------------------------------
def test_about_shows_versions_and_the_data_folder(qtbot, tmp_path):
    w = launch(qtbot, tmp_path, None)
    w.actions_.about.trigger()
    title, text = w.dialogs.infos[-1]
    assert title == "About dinogui"
    lines = text.splitlines()
    assert lines[0] == f"dinogui {__version__}"
    for expected in (f"Python {platform.python_version()}", f"Qt {qVersion()}",
                     f"PySide6 {PySide6.__version__}", f"pyqtgraph {pyqtgraph.__version__}",
                     f"NumPy {numpy.__version__}", f"Data folder {tmp_path / 'data'}",
                     f"Settings {tmp_path / 'dinogui.ini'}"):
        assert any(line.startswith(expected) for line in lines), expected


def test_the_about_box_text_is_selectable_and_copies(qtbot, tmp_path):
    from dinogui.about import AboutDialog, about_text

    details = about_text(tmp_path)
    box = AboutDialog(None, "About dinogui", details)
    qtbot.addWidget(box)
    box.show()
    assert box.text.toPlainText() == details and box.text.isReadOnly()
    QGuiApplication.clipboard().clear()
    box.copy.click()
    assert QGuiApplication.clipboard().text() == details
    assert box.close_button.isDefault()
    box.grab().save(str(tmp_path / "about.png"))


# -- dinogui --install-desktop ----------------------------------------------------------------
def desktop_values(path: Path) -> dict:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # keys are case-sensitive
    parser.read(path, encoding="utf-8")
    assert parser.sections() == ["Desktop Entry"]
    return dict(parser["Desktop Entry"])


def exec_argv(value: str) -> list[str]:
    """Exec read as the Desktop Entry spec says: the string escapes (\\\\ is one backslash),
    then words split at spaces, a double-quoted word taking \\" \\` \\$ \\\\ as those
    characters; field codes dropped and %% read as %."""
    value = value.replace("\\\\", "\\")
    words, word, quoted, i = [], None, False, 0
    while i < len(value):
        c = value[i]
        if quoted and c == "\\" and value[i + 1: i + 2] in ('"', "`", "$", "\\"):
            word, i = word + value[i + 1], i + 2
            continue
        if c == '"':
            quoted, word = not quoted, word or ""
        elif c == " " and not quoted:
            if word is not None:
                words.append(word)
            word = None
        else:
            word = (word or "") + c
        i += 1
    assert not quoted, value
    if word is not None:
        words.append(word)
    return [w.replace("%%", "%") for w in words if w not in ("%f", "%F", "%u", "%U")]


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="freedesktop menus only")
def test_install_desktop_writes_a_menu_entry_and_the_icon(tmp_path):
    data = tmp_path / "xdg data"  # a space: Exec and paths must cope
    env = dict(os.environ, XDG_DATA_HOME=str(data), QT_QPA_PLATFORM="offscreen",
               PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, "-m", "dinogui", "--install-desktop"], env=env,
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    entry = data / "applications" / "dinogui.desktop"
    icon = data / "icons" / "hicolor" / "256x256" / "apps" / "dinogui.png"
    assert f"wrote {entry}" in done.stdout and f"wrote {icon}" in done.stdout

    values = desktop_values(entry)
    assert values["Type"] == "Application" and values["Name"] == "dinogui"
    assert values["Icon"] == "dinogui" and values["Terminal"] == "false"
    categories = values["Categories"].split(";")
    assert values["Categories"].endswith(";") and "Education" in categories
    assert values["Exec"].endswith(" %f")
    argv = exec_argv(values["Exec"])
    assert argv == [sys.executable, "-m", "dinogui"]
    ran = subprocess.run([*argv, "--version"], env=env, capture_output=True, text=True,
                         timeout=120)
    assert ran.stdout.strip() == f"dinogui {__version__}", ran.stderr

    for size in desktop.ICON_SIZES:
        png = data / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "dinogui.png"
        image = QImage(str(png))
        assert (image.width(), image.height()) == (size, size)
    assert QImage(str(icon)).pixelColor(128, 200).green() > 100  # the green tile, drawn


def test_exec_quotes_what_the_spec_reserves():
    line = desktop.exec_line(["/opt/my apps/py$thon", "-m", "dinogui"])
    assert line == '"/opt/my apps/py\\\\$thon" -m dinogui %f'
    assert exec_argv(line) == ["/opt/my apps/py$thon", "-m", "dinogui"]
    assert desktop.exec_line(["/a/100%/python"]) == "/a/100%%/python %f"


def test_install_desktop_failure_is_one_line(tmp_path, capsys, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("XDG_DATA_HOME", str(blocker))
    assert cli.main(["--install-desktop"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("dinogui: error: ") and str(blocker) in err
    assert len(err.splitlines()) == 1


def test_the_real_app_opens_a_checkpoint_given_on_the_command_line(tmp_path, saved):
    """`dinogui model.npz` in a fresh process: the window comes up on that model."""
    script = textwrap.dedent(f"""
        import sys
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication
        from dinogui import cli
        app = QApplication(sys.argv)

        def check():
            windows = [w for w in app.topLevelWidgets() if w.inherits("QMainWindow")]
            s = windows[0].session if windows else None
            if s is not None and s.iteration == 40 and not s.busy:
                print("opened", s.checkpoint_path, "at", s.iteration)
                windows[0].close()
            else:
                QTimer.singleShot(50, check)

        QTimer.singleShot(0, check)
        sys.exit(cli.main([{str(saved)!r}]))
    """)
    home = tmp_path / "home"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=str(home),
               XDG_CONFIG_HOME=str(home / "config"), XDG_DATA_HOME=str(home / "data"),
               PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, timeout=120, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert f"opened {saved} at 40" in done.stdout, done.stdout + done.stderr


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="freedesktop menus only")
def test_the_desktop_entry_validates_and_offers_dinogui_for_lists_and_checkpoints(tmp_path):
    import shutil
    import xml.etree.ElementTree as ET

    written = desktop.install_desktop(tmp_path)
    entry = tmp_path / "applications" / "dinogui.desktop"
    mime = tmp_path / "mime" / "packages" / "dinogui.xml"
    assert entry in written and mime in written
    values = desktop_values(entry)
    assert values["Version"] == "1.0"  # the only version older validators accept
    main = {"AudioVideo", "Audio", "Video", "Development", "Education", "Game", "Graphics",
            "Network", "Office", "Science", "Settings", "System", "Utility"}
    assert [c for c in values["Categories"].split(";") if c in main] == ["Education"]
    assert values["MimeType"] == "text/plain;application/x-dinogui-checkpoint;"
    ns = "{http://www.freedesktop.org/standards/shared-mime-info}"
    kind = ET.parse(mime).getroot().find(f"{ns}mime-type")
    assert kind.get("type") == "application/x-dinogui-checkpoint"
    assert [g.get("pattern") for g in kind.findall(f"{ns}glob")] == ["*.safetensors"]
    if shutil.which("desktop-file-validate"):
        done = subprocess.run(["desktop-file-validate", str(entry)], capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr
    if shutil.which("update-mime-database"):  # the type was registered, by the install
        assert "application/x-dinogui-checkpoint" in (tmp_path / "mime" / "types").read_text()


# -- Help > Keyboard Shortcuts (F1) ---------------------------------------------------------

def test_f1_lists_every_shortcut_of_the_window(qtbot, tmp_path):
    from PySide6.QtGui import QKeySequence

    w = open_window(qtbot, tmp_path)
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow)
    qtbot.keyClick(w, Qt.Key.Key_F1)  # as the user presses it
    [(title, text)] = w.dialogs.infos
    assert title == "Keyboard Shortcuts"
    keyed = [a for a in w.actions_.all() if not a.shortcut().isEmpty()]
    assert len(keyed) >= 20
    for a in keyed:
        keys = a.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        assert f"<b>{keys}</b>" in text, a.text()
    for words in ("Start", "Sample", "Star Favourite", "Keyboard Shortcuts", "Save Checkpoint"):
        assert f"&nbsp;&nbsp;{words}</td>" in text
    help_menu = next(a.menu() for a in w.menuBar().actions() if a.text() == "&Help")
    assert w.actions_.shortcuts in help_menu.actions()
