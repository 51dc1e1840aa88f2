"""Files through the window: checkpoints, corpora (bad, foreign, large, dropped), exports,
and what the window remembers."""

import threading
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDropEvent, QGuiApplication

import dinogui.controllers.files as file_flows
import dinogui.document.file_kinds as file_kinds
import dinogui.main_window as main_window
from dinogui.core import checkpoint
from dinogui.core.corpus import load_corpus
from dinogui.core.trainer import Trainer
from dinogui.settings import AUTOSAVE_NAME
from tests.gui_support import (
    WAIT_MS,
    ScriptedDialogs,
    open_window,
    settings_at,
    train,
    trainer_arrays,
    wait_ready,
)

pytest.importorskip("pytestqt")


def test_save_then_open_restores_the_model_curve_and_settings(qtbot, tmp_path, tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus, preset="default", hidden=16, batch_size=4,
                    seed=7)
    train(qtbot, w, 150)
    path = tmp_path / "run.npz"
    w.dialogs.save_paths = [str(path)]
    assert w.windowTitle() == "tiny[*] — dinogui" and w.isWindowModified()  # shown: tiny*
    w.actions_.save_as.trigger()  # Ctrl+Shift+S
    qtbot.waitUntil(lambda: not w.isWindowModified(), timeout=20_000)
    assert w.windowTitle() == "run.npz[*] — dinogui"  # named after its file from now on
    saved_curve = w.loss_plot.data.series("char")[2].copy()

    w.actions_.reset.trigger()  # saved, so no question
    qtbot.waitUntil(lambda: w.session.iteration == 0 and not w.session.busy, timeout=20_000)
    w.hyperparams.hidden.setValue(50)  # a fresh, different model
    qtbot.waitUntil(lambda: w.session.config.hidden == 50 and not w.session.busy, timeout=20_000)

    w.dialogs.open_paths = [str(path)]
    w.actions_.open_checkpoint.trigger()  # Ctrl+Shift+O
    qtbot.waitUntil(lambda: w.session.iteration == 150 and not w.session.busy, timeout=20_000)
    assert (w.session.config.preset, w.session.config.hidden, w.session.config.batch_size,
            w.session.config.seed) == \
        ("default", 16, 4, 7)
    assert (w.hyperparams.hidden.value(), w.hyperparams.batch_size.value()) == (16, 4)
    np.testing.assert_array_equal(w.loss_plot.data.series("char")[2], saved_curve)
    assert w.loss_plot.scale == "char"  # the default preset's loss, per character
    assert w.windowTitle() == "run.npz[*] — dinogui" and not w.isWindowModified()
    assert w.corpus_panel.fields["names"].text() == "8"

    train(qtbot, w, 200)  # continues, exactly
    straight = Trainer(load_corpus(tiny_corpus), w.session.config)
    straight.run(200)
    np.testing.assert_array_equal(trainer_arrays(w)["loss"], straight.history.column("loss"))

    w.actions_.save.trigger()  # Ctrl+S: back into the same file
    qtbot.waitUntil(lambda: not w.isWindowModified(), timeout=20_000)
    assert checkpoint.load(path).iteration == 200


@pytest.mark.parametrize("content, reason", [(b"\x00\x01binary", "binary"),
                                             (b"\n  \n", "no names"),
                                             (b"caf\xe9\n", "not UTF-8")])
def test_a_bad_corpus_is_refused_with_its_reason_and_nothing_changes(qtbot, tmp_path,
                                                                     tiny_corpus, content,
                                                                     reason):
    w = open_window(qtbot, tmp_path, tiny_corpus)
    train(qtbot, w, 30)
    trainer = w.session.trainer
    bad = tmp_path / "bad.txt"
    bad.write_bytes(content)
    w.dialogs.open_paths = [str(bad)]
    w.actions_.open_corpus.trigger()
    qtbot.waitUntil(lambda: bool(w.dialogs.errors) and not w.session.busy, timeout=20_000)
    assert reason in w.dialogs.errors[-1][1] and str(bad) in w.dialogs.errors[-1][1]
    assert w.dialogs.options == []  # the file is checked before any question
    assert w.session.trainer is trainer and w.session.iteration == 30
    assert w.corpus_panel.title.text() == "tiny" and w.windowTitle() == "tiny[*] — dinogui"
    assert w.actions_.start.isEnabled()


def test_a_model_goes_on_with_names_its_vocabulary_covers_and_refuses_others(qtbot, tmp_path,
                                                                             tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus)
    train(qtbot, w, 60)
    odd = tmp_path / "odd.txt"
    odd.write_text("zoë\nxavier\n", encoding="utf-8")
    w.dialogs.choices = [None]  # the model cannot go on with it: a new model is offered
    w.dialogs.open_paths = [str(odd)]
    w.actions_.open_corpus.trigger()
    qtbot.waitUntil(lambda: not w.dialogs.choices and not w.session.busy, timeout=20_000)
    title, text = w.dialogs.asked[-1]
    assert title == "Cannot train this model on odd.txt"
    assert "'ë'" in text and "'z'" in text and "vocabulary" in text
    assert w.dialogs.options[-1] == ["Start a New Model on It"]  # Cancel keeps everything
    assert w.corpus_panel.title.text() == "tiny" and w.session.iteration == 60

    fits = tmp_path / "fits.txt"
    fits.write_text("Adan\nBeva\nGunnar\n", encoding="utf-8")  # letters of the tiny names
    w.dialogs.choices = [0]
    w.dialogs.open_paths = [str(fits)]
    w.actions_.open_corpus.trigger()
    qtbot.waitUntil(lambda: w.corpus_panel.title.text() == "fits" and not w.session.busy,
                    timeout=20_000)
    assert w.session.iteration == 60 and w.loss_plot.points == 60 and w.isWindowModified()
    train(qtbot, w, 80)
    assert set(w.worker.call(lambda t: t.corpus.names)) == {"adan", "beva", "gunnar"}

    w.dialogs.choices = [0, 1]  # start a new model on it, discarding the unsaved 80
    w.dialogs.open_paths = [str(odd)]
    w.actions_.open_corpus.trigger()
    qtbot.waitUntil(lambda: w.corpus_panel.title.text() == "odd" and not w.session.busy,
                    timeout=20_000)
    assert w.session.iteration == 0 and w.worker.call(lambda t: t.corpus.names) == ["zoë", "xavier"]


def test_a_100k_name_corpus_loads_off_the_window_thread(qtbot, tmp_path, tiny_corpus,
                                                       monkeypatch):
    rng = np.random.default_rng(0)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    names = ["".join(rng.choice(letters, rng.integers(3, 12))) for _ in range(100_000)]
    big = tmp_path / "big.txt"
    big.write_text("\n".join(names), encoding="utf-8")
    w = open_window(qtbot, tmp_path, tiny_corpus)

    loaded_in = []
    real_load = file_flows.load_corpus

    def recording_load(path, *args):
        loaded_in.append(threading.current_thread())
        return real_load(path, *args)

    monkeypatch.setattr(file_flows, "load_corpus", recording_load)
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(w.session.busy))
    timer.start(5)
    w.open_corpus_path(big)
    assert w.session.busy  # returned at once; the file is read elsewhere
    assert not w.actions_.open_corpus.isEnabled()
    wait_ready(qtbot, w)
    timer.stop()
    assert loaded_in and loaded_in[0] is not threading.main_thread()
    assert any(ticks)  # the window's event loop kept running while it loaded
    assert w.corpus_panel.fields["names"].text() == "100,000"
    assert w.corpus_panel.title.text() == "big"


def test_dropping_a_text_file_opens_it_as_a_corpus(qtbot, tmp_path, tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus)
    other = tmp_path / "pokemon.txt"
    other.write_text("pikachu\nbulbasaur\ncharmander\n", encoding="utf-8")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(other))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    w.dropEvent(event)
    qtbot.waitUntil(lambda: w.corpus_panel.title.text() == "pokemon" and not w.session.busy,
                    timeout=20_000)
    assert w.windowTitle() == "pokemon[*] — dinogui"


def test_copy_and_export_the_sampled_names(qtbot, tmp_path, tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus)
    assert not w.actions_.export_samples.isEnabled()  # nothing to export yet
    train(qtbot, w, 50)
    w.samples.count.setValue(5)
    w.actions_.sample.trigger()  # Ctrl+G
    qtbot.waitUntil(lambda: len(w.samples.names()) == 5, timeout=20_000)
    assert w.actions_.export_samples.isEnabled()
    w.actions_.copy_samples.trigger()
    assert QGuiApplication.clipboard().text().splitlines() == w.samples.names()
    out = tmp_path / "names.txt"
    w.dialogs.save_paths = [str(out)]
    w.actions_.export_samples.trigger()
    assert out.read_text(encoding="utf-8").splitlines() == w.samples.names()


def test_the_window_remembers_settings_corpus_and_recent_files(qtbot, tmp_path, tiny_corpus):
    settings = settings_at(tmp_path)
    w = open_window(qtbot, tmp_path, tiny_corpus, settings=settings, hidden=64, lr=0.02,
                    budget=5000)
    w.samples.seed.setValue(9)
    w.resize(w.width(), 555)  # the offscreen screen is 800 x 600: restoring clamps to it
    w.close()

    again = main_window.MainWindow(settings=settings_at(tmp_path), dialogs=ScriptedDialogs(),
                                   data_dir=tmp_path / "data")  # the last corpus, by itself
    qtbot.addWidget(again)
    wait_ready(qtbot, again)
    assert again.corpus_panel.title.text() == "tiny"
    assert (again.session.config.hidden, again.session.config.lr) == (64, 0.02)
    assert again.hyperparams.budget_value() == 5000 and again.samples.seed.value() == 9
    assert again.size().height() == 555
    assert str(tiny_corpus.resolve()) in again.settings.recent_files()
    assert [a.text() for a in again.recent_menu.actions()][0] == "tiny.txt"


def crafted(tmp_path, tiny_corpus, name: str, state=None, arrays=None):
    """A checkpoint of a real model whose metadata (state) or arrays say something else."""
    import json

    from dinogui.core.checkpoint_format import to_safetensors
    from dinogui.core.config import TrainConfig

    t = Trainer(load_corpus(tiny_corpus), TrainConfig.for_preset("default", hidden=8,
                                                                 val_fraction=0.25, val_every=5))
    t.run(20)
    meta = checkpoint.to_meta(t)
    meta["state"].update(state or {})
    tensors = checkpoint.to_arrays(t)
    for key, change in (arrays or {}).items():
        tensors[key] = change(tensors[key])
    path = tmp_path / name
    path.write_bytes(to_safetensors(tensors, {
        "format": checkpoint.FORMAT, "version": str(checkpoint.VERSION),
        "dinogui": json.dumps(meta, default=str)}))
    return path


@pytest.mark.parametrize("damage", [
    {"arrays": {"state/val_losses": lambda a: a[:1]}},  # fewer losses than held-out points
    {"state": {"smooth": "NaN"}},
    {"state": {"best_iteration": 10**9}},
    {"arrays": {"hist/smooth": lambda a: np.full_like(a, np.inf)}},
], ids=["short-curve", "smooth", "best", "inf-history"])
def test_a_crafted_checkpoint_is_refused_whole_and_the_window_keeps_its_model(
        qtbot, tmp_path, tiny_corpus, damage):
    bad = crafted(tmp_path, tiny_corpus, "bad.safetensors", **damage)
    w = open_window(qtbot, tmp_path, tiny_corpus)
    train(qtbot, w, 40)
    before = (w.session.generation, w.session.iteration, w.loss_plot.points, w.windowTitle(),
              w.session.config)
    trainer = w.worker.call(lambda t: t)
    w.open_checkpoint_path(bad)
    qtbot.waitUntil(lambda: bool(w.dialogs.errors), timeout=20_000)
    title, text = w.dialogs.errors[-1]
    assert title == "Cannot open checkpoint" and str(bad) in text and "kept the current" in text
    assert w.dialogs.options == []  # refused before any question about the unsaved 40
    wait_ready(qtbot, w)
    assert (w.session.generation, w.session.iteration, w.loss_plot.points, w.windowTitle(),
            w.session.config) == before
    assert w.worker.call(lambda t: t) is trainer  # the worker trains the model shown
    train(qtbot, w, 60)  # and goes on
    assert w.loss_plot.points == 60


def test_a_crafted_autosave_is_refused_set_aside_and_changes_nothing(qtbot, tmp_path,
                                                                    tiny_corpus):
    (tmp_path / "data").mkdir()
    autosave = crafted(tmp_path / "data", tiny_corpus, AUTOSAVE_NAME,
                       arrays={"state/val_losses": lambda a: a[:1]})
    w = open_window(qtbot, tmp_path, tiny_corpus)
    before = (w.session.generation, w.session.iteration, w.session.config)
    assert w.offer_restore()
    qtbot.waitUntil(lambda: not autosave.exists(), timeout=20_000)
    assert w.dialogs.errors[-1][0] == "Cannot restore the autosaved training"
    assert not w.dialogs.asked  # nothing offered that could not be restored
    assert (autosave.parent / "autosave-discarded.safetensors").exists()  # for a rescue
    assert (w.session.generation, w.session.iteration, w.session.config) == before


def test_save_and_export_start_in_the_users_folders_never_the_bundled_one(qtbot, tmp_path):
    from pathlib import Path

    from dinogui.core.corpus import bundled_corpus_path
    from dinogui.settings import documents_folder

    bundled = bundled_corpus_path()
    w = open_window(qtbot, tmp_path, bundled)  # opened from the app's own data folder
    w.dialogs.save_paths = [None]
    w.actions_.save_as.trigger()
    suggested = Path(w.dialogs.asked[-1][1])
    assert suggested.parent == documents_folder() != bundled.parent
    assert suggested.name == f"{bundled.stem}{file_kinds.CHECKPOINT_SUFFIX}"

    train(qtbot, w, 10)
    (tmp_path / "mine").mkdir()
    w.dialogs.save_paths = [str(tmp_path / "mine" / "m.npz")]
    w.actions_.save_as.trigger()
    qtbot.waitUntil(lambda: not w.isWindowModified(), timeout=20_000)
    w.actions_.sample.trigger()
    qtbot.waitUntil(lambda: bool(w.samples.names()), timeout=20_000)
    w.dialogs.save_paths = [None]
    w.actions_.export_samples.trigger()
    assert Path(w.dialogs.asked[-1][1]).parent == tmp_path / "mine"  # the last folder used


def test_an_autosave_with_an_infinite_held_out_loss_is_restored_not_set_aside(qtbot, tmp_path,
                                                                             tiny_corpus):
    # validation records inf when the model diverges on the held-out names (core/validation.py)
    # and checkpoints keep it: the window must take back the file the app itself wrote
    (tmp_path / "data").mkdir()
    autosave = crafted(tmp_path / "data", tiny_corpus, AUTOSAVE_NAME,
                       arrays={"state/val_losses": lambda a: np.r_[a[:1], np.inf, a[2:]]})
    assert checkpoint.load(autosave).state.val_losses[1] == np.inf  # the engine's own rules
    dialogs = ScriptedDialogs()
    dialogs.confirms = [True]  # Restore
    w = open_window(qtbot, tmp_path, tiny_corpus, dialogs=dialogs)
    assert w.offer_restore()
    qtbot.waitUntil(lambda: bool(dialogs.asked) or bool(dialogs.errors), timeout=20_000)
    assert not dialogs.errors and dialogs.asked[0][0] == "Restore unsaved training?"
    wait_ready(qtbot, w)
    assert w.session.iteration == 20 and autosave.exists()
    assert w.loss_plot.val_y[1] == np.inf and len(w.loss_plot.val_y) == 4
    w.loss_plot.redraw()
    w.loss_plot.auto_range()


@pytest.mark.skipif(not hasattr(__import__("signal"), "SIGXFSZ"), reason="needs RLIMIT_FSIZE")
def test_an_export_that_fails_midway_leaves_the_file_it_replaces(qtbot, tmp_path, tiny_corpus):
    import resource
    import signal

    w = open_window(qtbot, tmp_path, tiny_corpus)
    train(qtbot, w, 50)
    w.samples.count.setValue(200)
    w.actions_.sample.trigger()
    qtbot.waitUntil(lambda: len(w.samples.names()) == 200, timeout=20_000)
    out = tmp_path / "names.txt"
    out.write_text("my own list\n" * 10, encoding="utf-8")  # 120 bytes the user keeps
    w.dialogs.save_paths = [str(out)]
    # a disk that fills during the write: no file may grow past 300 bytes
    limits = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (300, limits[1]))
    try:
        w.actions_.export_samples.trigger()
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, limits)
        signal.signal(signal.SIGXFSZ, previous)
    assert w.dialogs.errors and w.dialogs.errors[-1][0] == "Cannot export samples"
    assert out.read_text(encoding="utf-8") == "my own list\n" * 10
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".names")] == []


@pytest.mark.skipif(not Path("/dev/fd").is_dir(), reason="needs /dev/fd")
def test_a_pipe_is_opened_as_a_corpus_without_losing_its_first_bytes():
    # `dinogui <(grep saurus dinos.txt)`: the window gets /dev/fd/N, a pipe. Telling a
    # checkpoint by its first bytes would eat them (and block on a FIFO nobody writes to)
    import os

    r, wfd = os.pipe()
    try:
        os.write(wfd, b"Tyrannosaurus\nAllosaurus\n")
        os.close(wfd)
        pipe = Path(f"/dev/fd/{r}")
        assert not file_kinds.is_checkpoint(pipe)
        assert load_corpus(pipe).names == ["tyrannosaurus", "allosaurus"]
    finally:
        os.close(r)


def test_save_as_onto_the_models_own_corpus_is_refused_and_keeps_it(qtbot, tmp_path,
                                                                    tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus)
    train(qtbot, w, 20)
    names = tiny_corpus.read_bytes()
    w.dialogs.save_paths = [str(tiny_corpus)]  # "All files", then the list itself
    w.actions_.save_as.trigger()
    qtbot.waitUntil(lambda: bool(w.dialogs.errors), timeout=20_000)
    title, text = w.dialogs.errors[-1]
    assert title == "Cannot save checkpoint" and str(tiny_corpus) in text
    assert "names this model trains on" in text
    assert tiny_corpus.read_bytes() == names and w.isWindowModified()


# -- File > Hold Out Names From File (dinogui train --val-file) ----------------------------

def test_a_held_out_file_is_the_models_held_out_names_and_never_trained_on(qtbot, tmp_path,
                                                                          tiny_corpus):
    """As `train --val-file`: exactly the file's names are held out (one of them in the list
    too: not trained on), none drawn by a fraction; a file with a character the list never
    uses is refused in one line and the model stays; a new list afterwards draws its own."""
    w = open_window(qtbot, tmp_path, tiny_corpus, preset="default", hidden=8, batch_size=2)
    train(qtbot, w, 5)
    apart = tmp_path / "apart.txt"
    apart.write_text("Gus\nBobby\nCyra\n", encoding="utf-8")  # Gus is in the list too
    w.dialogs.open_paths = [str(apart)]
    w.dialogs.choices = [1]  # the trained model is discarded for the new one ("Discard")
    w.actions_.hold_out_file.trigger()
    qtbot.waitUntil(lambda: w.session.iteration == 0 and not w.session.busy, timeout=WAIT_MS)
    t = w.session.trainer
    val = sorted(t.corpus.vocab.decode(t._encoded[i]) for i in t.val_rows)
    trained = {t.corpus.vocab.decode(t._encoded[i]) for i in t.train_rows}
    assert val == ["bobby", "cyra", "gus"] and "gus" not in trained
    assert len(trained) == 7 and t.config.val_fraction == 0.0
    assert t.config.hidden == 8  # the model's own settings, but the split
    assert "Held out the 3 names of apart.txt (1 of the list's among them, not trained on)" \
        in w.log.toPlainText()

    strange = tmp_path / "strange.txt"
    strange.write_text("Zoë\n", encoding="utf-8")
    w.dialogs.open_paths = [str(strange)]
    w.actions_.hold_out_file.trigger()
    qtbot.waitUntil(lambda: bool(w.dialogs.errors), timeout=WAIT_MS)
    assert "never uses" in w.dialogs.errors[-1][1] and w.session.trainer is t

    other = tmp_path / "other.txt"
    other.write_text("Ann\nBea\nCal\nDee\nEli\nFay\nGil\nHan\nIda\nJon\n", encoding="utf-8")
    w.open_corpus_path(other, ask=False)
    qtbot.waitUntil(lambda: w.session.trainer is not t and not w.session.busy,
                    timeout=WAIT_MS)
    fresh = w.session.trainer
    assert not fresh.corpus.held_out and fresh.config.val_fraction == 0.1
    assert len(fresh.val_rows) == 1
