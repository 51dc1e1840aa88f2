"""Nothing is lost: closing mid-training, autosave and restore; plus what the window enables,
the plot with a million points, and the real app started and closed as a user would."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from dinogui import qt_guard
from dinogui.core import checkpoint
from dinogui.main_window import MainWindow
from dinogui.widgets.loss_plot import COST_RATIO, MAX_REDRAW_MS, LossPlot
from tests.gui_support import (
    WAIT_MS,
    ScriptedDialogs,
    open_window,
    set_panel,
    settings_at,
    settle,
    train,
    wait_ready,
)

pytest.importorskip("pytestqt")


def test_closing_during_training_stops_the_thread_and_autosaves(qtbot, tmp_path, tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus, budget=0)
    w.actions_.start.trigger()
    qtbot.waitUntil(lambda: w.session.iteration > 100, timeout=20_000)
    w.actions_.quit.trigger()  # Ctrl+Q
    assert w.worker_thread.thread.isFinished() and not w.worker_thread.thread.isRunning()
    saved = checkpoint.load(w.autosave_path)
    assert saved.iteration >= 100
    assert saved.iteration == w.worker.call(lambda t: t.iteration)  # everything trained is in


def test_the_next_launch_offers_to_restore_the_autosave(qtbot, tmp_path, tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus)
    train(qtbot, w, 250)
    w.close()

    dialogs = ScriptedDialogs()
    dialogs.confirms = [True]
    again = open_window(qtbot, tmp_path, dialogs=dialogs)
    assert again.offer_restore()  # read in the background, then asked
    wait_ready(qtbot, again)
    assert "iteration 250 on tiny" in dialogs.asked[-1][1]
    assert again.session.iteration == 250 and again.loss_plot.points == 250
    assert again.isWindowModified()  # restored progress is still unsaved
    assert again.session.checkpoint_path is None  # Ctrl+S asks where

    again.close()  # still unsaved: written back to the autosave
    dialogs = ScriptedDialogs()
    dialogs.confirms = [False]
    third = open_window(qtbot, tmp_path, dialogs=dialogs)
    assert third.offer_restore()  # there is one to offer: read, asked, discarded
    qtbot.waitUntil(lambda: not third.autosave_path.exists(), timeout=20_000)
    # asked, and nothing restored
    assert not third.dialogs.confirms and third.session.trainer is None
    assert (third.autosave_path.parent / "autosave-discarded.safetensors").exists()
    assert not third.offer_restore()  # asked once only


def test_autosave_runs_while_training_and_goes_once_the_model_is_saved(qtbot, tmp_path,
                                                                       tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus, budget=0)
    w.actions_.start.trigger()
    qtbot.waitUntil(lambda: w.session.iteration > 50, timeout=20_000)
    w.autosaver.timer.timeout.emit()  # as every few minutes
    qtbot.waitUntil(w.autosave_path.exists, timeout=20_000)
    assert w.session.training
    w.actions_.pause.trigger()
    qtbot.waitUntil(lambda: not w.session.training, timeout=20_000)
    w.dialogs.save_paths = [str(tmp_path / "kept.npz")]
    w.actions_.save.trigger()  # no file yet: Save asks where
    qtbot.waitUntil(lambda: not w.isWindowModified(), timeout=20_000)
    assert not w.autosave_path.exists()


def test_actions_are_enabled_only_when_they_make_sense(qtbot, tmp_path, tiny_corpus):
    w = open_window(qtbot, tmp_path)
    a = w.actions_
    assert w.session.trainer is None and w.windowTitle() == "dinogui"
    assert [x.isEnabled() for x in (a.start, a.pause, a.step, a.save, a.sample)] == [False] * 5
    assert a.open_corpus.isEnabled() and a.open_checkpoint.isEnabled() and a.quit.isEnabled()

    w.open_corpus_path(tiny_corpus)
    wait_ready(qtbot, w)
    assert [x.isEnabled() for x in (a.start, a.pause, a.step, a.reset)] == \
        [True, False, True, False]
    w.hyperparams.budget.setValue(0)
    a.start.trigger()
    assert not a.start.isEnabled() and a.pause.isEnabled() and not a.step.isEnabled()
    a.pause.trigger()  # at once: the worker may not have taken a step yet
    qtbot.waitUntil(lambda: not w.session.training, timeout=20_000)
    assert a.start.isEnabled() and a.step.isEnabled()
    a.step.trigger()
    qtbot.waitUntil(lambda: not w.session.training and w.session.iteration > 0, timeout=20_000)
    assert a.start.text() == "&Resume" and a.reset.isEnabled()
    assert [x.shortcut().toString() for x in (a.start, a.pause, a.step, a.open_corpus,
                                              a.open_checkpoint, a.save, a.save_as, a.quit,
                                              a.sample)] == \
        ["F5", "F6", "F10", "Ctrl+O", "Ctrl+Shift+O", "Ctrl+S", "Ctrl+Shift+S", "Ctrl+Q",
         "Ctrl+G"]


def test_a_budget_reached_asks_before_training_on(qtbot, tmp_path, tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus)
    train(qtbot, w, 100)
    assert w.status.progress.isVisible() and w.status.progress.value() == 1000
    w.dialogs.confirms = [True]
    w.actions_.start.trigger()
    assert "budget of 100" in w.dialogs.asked[-1][1]
    qtbot.waitUntil(lambda: not w.session.training and w.session.iteration == 1100, timeout=20_000)
    assert w.hyperparams.budget_value() == 1100


def test_the_plot_switches_scale_and_draws_a_million_points_downsampled(qtbot):
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.resize(800, 400)
    plot.show()
    n = 1_000_000
    rng = np.random.default_rng(0)
    loss = 20 + 5 * rng.random(n)
    chars = rng.integers(4, 12, n)
    plot.append(np.arange(n), loss, chars, np.ones(n), np.full(n, 22.0), np.full(n, 2.0))
    plot.redraw()
    plot.view.getPlotItem().getViewBox().prepareForPaint()
    shown_x, shown_y = plot.step_curve.getData()
    assert 0 < len(shown_x) < 5_000  # about two points per pixel column, not a million
    assert len(plot.step_curve.xData) < 5_000  # handed over as its overview, not every point
    assert shown_y.min() == loss.min() and shown_y.max() == loss.max()  # the peaks are kept
    vb = plot.view.getPlotItem().getViewBox()
    assert vb.viewRange()[0][1] >= n - 1  # all in view

    wheel_zoom(plot.view.viewport())  # the user zooms in: every point, clipped to the view
    assert len(plot.step_curve.xData) == n and vb.viewRange()[0][1] < n - 1
    assert len(plot.step_curve.getData()[0]) < 5_000
    plot.auto_range()  # Fit: the whole curve again, from its overview
    assert len(plot.step_curve.xData) < 5_000

    plot.set_scale("char")
    x, step, smooth = plot.data.series("char")
    np.testing.assert_array_equal(step, loss / chars)
    assert "per character" in plot.view.getPlotItem().getAxis("left").labelText
    plot.set_preset("classic")
    assert plot.scale == "name" and "the original exercise's" in plot.caption.text()


def wheel_zoom(widget) -> None:
    """One notch of the mouse wheel over the middle of the widget, as a user zooms a plot."""
    from PySide6.QtCore import QPoint, QPointF, Qt
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    at = QPointF(widget.width() / 2, widget.height() / 2)
    QApplication.sendEvent(widget, QWheelEvent(
        at, widget.mapToGlobal(at), QPoint(0, 0), QPoint(0, 120), Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False))


def _grow(plot: LossPlot, start: int, n: int) -> None:
    """n more steps of a falling, noisy loss, as training hands them over."""
    x = np.arange(start, start + n)
    loss = 30 * np.exp(-x / 3000) + np.random.default_rng(start).gamma(2.0, 2.0, n)
    plot.append(x, loss, np.full(n, 9), np.ones(n), loss * 0.9, loss * 0.1)


def test_each_live_redraw_is_one_paint_within_the_time_budget(qtbot):
    """Painting holds the interpreter lock the training thread needs: a batch that finds a
    redraw due draws it (one paint: the auto-range asks for no second one), a batch too soon
    waits for the next, and the next redraw waits COST_RATIO times what this one cost."""
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.resize(700, 450)
    plot.show()
    qtbot.waitExposed(plot)
    _grow(plot, 0, 500)
    qtbot.waitUntil(lambda: plot.view.paints > 0 and not plot._dirty)
    settle()
    for k in range(1, 5):
        qtbot.waitUntil(lambda: plot.redraw_due)
        before, x_range = plot.view.paints, plot.view.getPlotItem().getViewBox().viewRange()[0]
        t0 = time.perf_counter()
        _grow(plot, 2000 * k - 1500, 2000)  # a batch of progress, as the window hands it over
        assert not plot._dirty and not plot.redraw_due  # handed to the curves, next put off
        _grow(plot, 2000 * k + 500, 10)  # the next batch comes too soon: kept for later
        assert plot._dirty
        qtbot.waitUntil(lambda before=before: plot.view.paints > before)
        settle()  # any paint the first one asked for would come now
        assert plot.view.paints == before + 1
        assert plot.view.getPlotItem().getViewBox().viewRange()[0][1] > x_range[1]  # it grew
        waited = plot._next_redraw - t0
        assert waited >= min(MAX_REDRAW_MS, COST_RATIO * 1000 * plot.redraw_cost) / 1000 * 0.99


def test_plots_behind_another_tab_wait_until_shown(qtbot):
    from PySide6.QtWidgets import QLabel, QTabWidget

    from dinogui.document.messages import Report
    from dinogui.widgets.novelty_plot import NoveltyPlot

    tabs = QTabWidget()
    qtbot.addWidget(tabs)
    plot, novelty = LossPlot(), NoveltyPlot()
    front = QLabel("samples")
    for widget, label in ((front, "Samples"), (plot, "Loss"), (novelty, "Novelty")):
        tabs.addTab(widget, label)
    tabs.resize(700, 450)
    tabs.show()
    _grow(plot, 0, 300)
    novelty.add_reports([Report(0, 20.0, 2.0, ["abc", "zed"])], frozenset({"abc"}))
    settle()
    assert plot.step_curve.xData is None and novelty.points.getData()[0] is None
    assert plot.view.paints == 0

    tabs.setCurrentWidget(plot)
    qtbot.waitUntil(lambda: plot.step_curve.xData is not None and plot.view.paints > 0)
    assert len(plot.step_curve.xData) == 300
    tabs.setCurrentWidget(novelty)
    x, y = novelty.points.getData()
    assert list(x) == [0] and list(y) == [50.0]


def test_the_qt_guard_keeps_void_calls_from_freeing_none():
    assert qt_guard.guard() == qt_guard.guard()  # measured once
    from PySide6.QtCore import QObject

    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(20_000):  # without the guard, PySide6 6.12.0 on 3.11 aborts here
        probe.setObjectName("x")
    assert qt_guard.leaked_per_call() == 0 or before > 1 << 39


def app_script(corpus, at_50: str) -> str:
    """`dinogui` with no arguments, in a fresh process: open the corpus, train without a
    budget, and run `at_50` (Python, `w` is the window) once 50 iterations are done."""
    return textwrap.dedent(f"""
        import sys
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication
        from dinogui import cli
        app = QApplication(sys.argv)
        said = []

        def window():
            return next(w for w in app.topLevelWidgets() if w.inherits("QMainWindow"))

        def progressed(batch):
            if batch.iteration >= 50 and not said:
                said.append(True)
                w = window()
                {at_50}

        def start_when_ready():
            w = window()
            if w.session.trainer is not None and not w.session.busy:
                poll.stop()
                w.worker.progress.connect(progressed)
                w.hyperparams.budget.setValue(0)  # unlimited: trains until told
                w.actions_.start.trigger()

        def open_corpus():
            window().open_corpus_path({str(corpus)!r}, ask=False)
            poll.start(10)

        def answer_notes():
            # a note the window puts up (the first close's "kept"): printed, then Enter
            box = app.activeModalWidget()
            if box is not None:
                print("NOTE:", box.windowTitle(), flush=True)
                box.accept()
            QTimer.singleShot(20, answer_notes)

        poll = QTimer()
        poll.timeout.connect(start_when_ready)
        answer_notes()
        QTimer.singleShot(0, open_corpus)
        sys.exit(cli.main([]))
    """)


def app_process(tmp_path, script: str) -> tuple[subprocess.Popen, Path]:
    home = tmp_path / "home"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=str(home),
               XDG_CONFIG_HOME=str(home / "config"), XDG_DATA_HOME=str(home / "data"),
               PYTHONPATH=os.pathsep.join([os.getcwd(), os.environ.get("PYTHONPATH", "")]))
    app = subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True,
                           cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return app, home


def test_the_app_starts_trains_and_closes_cleanly_with_exit_status_0(tmp_path, tiny_corpus):
    """`dinogui` with no arguments, closed with Ctrl+Q while training, in a fresh process."""
    app, home = app_process(tmp_path, app_script(tiny_corpus, "w.actions_.quit.trigger()"))
    try:
        out, err = app.communicate(timeout=120)
    finally:
        app.kill()
    assert app.returncode == 0, err
    assert "NOTE: Training kept for the next launch" in out  # the first close says so
    assert "QThread" not in err and "Traceback" not in err, err
    autosave = home / "data" / "dinogui" / "dinogui" / "autosave.safetensors"
    assert checkpoint.load(autosave).iteration >= 50
    assert (home / "config" / "dinogui" / "dinogui.conf").exists()  # QSettings remembered


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_termination_signal_writes_the_autosave_before_exiting(tmp_path, tiny_corpus, signum):
    """Logout or shutdown: the desktop sends SIGTERM (or SIGHUP) to the training window."""
    app, home = app_process(tmp_path, app_script(tiny_corpus, 'print("READY", flush=True)'))
    try:
        line = app.stdout.readline()  # blocks until the window trains (or the process ends)
        assert line.strip() == "READY", app.stderr.read()
        app.send_signal(signum)
        _out, err = app.communicate(timeout=120)
    finally:
        app.kill()
    assert app.returncode == 0, err
    assert "Traceback" not in err, err
    autosave = home / "data" / "dinogui" / "dinogui" / "autosave.safetensors"
    assert checkpoint.load(autosave).iteration >= 50


def test_a_missing_last_corpus_falls_back_quietly(qtbot, tmp_path):
    settings = settings_at(tmp_path)
    settings.set_last_corpus(str(tmp_path / "gone.txt"))
    w = MainWindow(settings=settings, dialogs=ScriptedDialogs(), data_dir=tmp_path / "data")
    qtbot.addWidget(w)
    qtbot.waitUntil(lambda: not w.session.busy, timeout=20_000)
    assert not w.dialogs.errors  # the bundled corpus, or an empty window that says what to do



def unwritable_autosave(w) -> None:
    w.autosave_path.mkdir(parents=True)  # a folder where the file goes: every write fails


def test_a_close_that_cannot_write_the_autosave_asks_and_cancel_keeps_the_window(
        qtbot, tmp_path, tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus)
    train(qtbot, w, 60)
    unwritable_autosave(w)
    w.dialogs.choices = [None]  # Cancel (Escape)
    w.close()
    assert w.isVisible() and not w.shell.closing and w.worker_thread.thread.isRunning()
    title, text = w.dialogs.asked[-1]
    assert title == "Unsaved training would be lost"
    assert str(w.autosave_path) in text and "60 unsaved iterations" in text
    assert w.dialogs.options[-1] == ["Save As…", "Quit Anyway"]  # the first is the default
    train(qtbot, w, 80)  # still a working window

    kept = tmp_path / "kept.npz"
    w.dialogs.choices = [0]  # Save As…
    w.dialogs.save_paths = [str(kept)]
    w.close()
    assert not w.isVisible() and w.shell.closing
    assert checkpoint.load(kept).iteration == 80  # everything trained is in the file


def test_quit_anyway_closes_without_a_file(qtbot, tmp_path, tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus)
    train(qtbot, w, 30)
    unwritable_autosave(w)
    w.dialogs.choices = [1]  # Quit Anyway
    w.close()
    assert not w.isVisible() and not w.worker_thread.thread.isRunning()
    assert w.autosave_path.is_dir() and not list(tmp_path.glob("*.npz"))


def test_a_save_as_that_fails_too_asks_again(qtbot, tmp_path, tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus)
    train(qtbot, w, 30)
    unwritable_autosave(w)
    (tmp_path / "taken.npz").mkdir()
    w.dialogs.choices = [0, 0]
    w.dialogs.save_paths = [str(tmp_path / "taken.npz"), str(tmp_path / "second.npz")]
    w.close()
    assert str(tmp_path / "taken.npz") in w.dialogs.asked[-2][1]  # said why, asked again
    assert not w.isVisible() and checkpoint.load(tmp_path / "second.npz").iteration == 30


def test_a_damaged_settings_file_is_clamped_or_ignored_and_the_window_starts(qtbot, tmp_path,
                                                                             tiny_corpus):
    settings = settings_at(tmp_path)
    settings.q.setValue("training/hyperparameters", json.dumps({
        "hidden": 1e10, "batch_size": 1e30, "seed": 12345678901234567890, "lr": "fast",
        "clip": [1, 2], "sample_every": float("nan"), "samples": 10**40, "layers": True,
        "budget": -5, "preset": 7, "cell": "lstm", "optimizer": None, 3: "x"}))
    settings.q.setValue("sampling/controls", json.dumps({
        "count": 10**12, "seed": -(10**25), "temperature": "hot", "prefix": "k" * 100_000,
        "max_len": 5000, "new_only": "yes", "top_k": float("inf")}))
    settings.q.setValue("window/geometry", "not a geometry")
    settings.sync()
    w = MainWindow(settings=settings_at(tmp_path), dialogs=ScriptedDialogs(),
                   data_dir=tmp_path / "data", corpus=tiny_corpus)
    qtbot.addWidget(w)
    wait_ready(qtbot, w)
    assert not w.dialogs.errors and not w.dialogs.asked
    hp, sp = w.hyperparams, w.samples
    # beyond what a spin box holds, or not a number: ignored (the defaults stay)
    assert (hp.hidden.value(), hp.batch_size.value(), hp.seed.value()) == (50, 48, 0)
    assert (hp.lr.value(), hp.clip.value(), hp.sample_every.value()) == (0.01, 5.0, 2000)
    assert (hp.samples.value(), hp.layers.value()) == (7, 1)
    assert (sp.count.value(), sp.seed.value(), sp.temperature.value()) == (10, 0, 1.0)
    assert sp.prefix.text() == "" and not sp.new_only.isChecked() and sp.top_k.value() == 0
    # out of the settings table's range: ignored, never clamped to another value
    assert hp.budget.value() == 35_000
    assert sp.max_len.value() == 1000  # the Sample panel's own box clamps
    assert hp.cell.currentData() == "lstm"  # the sound values are kept
    assert w.session.config.hidden == 50 and w.session.config.seed == 0  # and the model uses them


FIT_SCRIPT = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    from PySide6.QtCore import QPoint
    from PySide6.QtWidgets import QApplication
    from tests.gui_support import ScriptedDialogs, settings_at
    from dinogui.main_window import MainWindow

    app = QApplication(sys.argv)
    folder = Path(sys.argv[1])

    def opened():
        w = MainWindow(settings=settings_at(folder), dialogs=ScriptedDialogs(),
                       data_dir=folder / "data", load_corpus_now=False)
        w.show()
        app.processEvents()
        return w

    def report(w):
        def corner(widget):
            p = widget.mapTo(w, QPoint(widget.width(), widget.height()))
            return [p.x(), p.y()]
        a = w.screen().availableGeometry()
        return {"available": [a.x(), a.y(), a.width(), a.height()],
                "geometry": [w.x(), w.y(), w.width(), w.height()],
                "minimum": [w.minimumSizeHint().width(), w.minimumSizeHint().height()],
                "samples": corner(w.samples), "status": corner(w.statusBar()),
                "left": corner(w.left_scroll)}

    first = opened()
    shown = report(first)
    first.resize(1700, 1100)  # as on a bigger screen, and remembered on close
    first.close()
    again = opened()
    print(json.dumps({"first": shown, "restored": report(again)}))
    again.close()
""")


@pytest.mark.parametrize("screen, scale", [((1024, 768), "1"), ((1280, 720), "1"),
                                           ((2048, 1536), "2"), ((1920, 1080), "1.5")],
                         ids=["1024x768", "1280x720", "2048x1536@2", "1920x1080@1.5"])
def test_the_window_fits_the_screen_and_a_bigger_remembered_size_is_not_restored(
        tmp_path, screen, scale):
    width, height = screen
    config = tmp_path / "screen.json"
    config.write_text(json.dumps({"screens": [{
        "name": "test", "x": 0, "y": 0, "width": width, "height": height,
        "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}))
    env = dict(os.environ, QT_QPA_PLATFORM=f"offscreen:configfile={config}",
               QT_SCALE_FACTOR=scale,
               PYTHONPATH=os.pathsep.join([os.getcwd(), os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, "-c", FIT_SCRIPT, str(tmp_path)], env=env,
                          capture_output=True, text=True, timeout=120,
                          cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    logical = (round(width / float(scale)), round(height / float(scale)))
    for shown in result.values():
        ax, ay, aw, ah = shown["available"]
        x, y, w, h = shown["geometry"]
        assert (aw, ah) == logical
        # the window and room for its frame lie on the screen
        assert ax <= x and x + w + 16 <= ax + aw + 8 and ay <= y and y + h <= ay + ah
        assert w <= 1360 and h <= 840
        # nothing is cut off at the right or the bottom
        assert shown["samples"][0] <= w and shown["status"] == [w, h]
        assert shown["left"][0] < shown["samples"][0]
    # the minimum size fits a 1024x768 screen, with room for a frame and a taskbar
    mw, mh = result["first"]["minimum"]
    assert mw <= 1024 - 16 and mh <= 768 - 80


def test_a_signal_close_that_cannot_write_the_autosave_asks_nobody_and_closes(
        qtbot, tmp_path, tiny_corpus, capfd):
    w = open_window(qtbot, tmp_path, tiny_corpus)
    train(qtbot, w, 30)
    unwritable_autosave(w)
    w.terminate(signal.SIGTERM)  # as the self-pipe delivers it: logout does not wait
    assert not w.isVisible() and not w.worker_thread.thread.isRunning()
    assert w.dialogs.options == []
    assert f"could not write the autosave: {w.autosave_path}" in capfd.readouterr().out


def test_a_signal_close_with_a_hung_up_terminal_still_closes(qtbot, tmp_path, tiny_corpus,
                                                               monkeypatch):
    class HungUp:  # a terminal closed by the SIGHUP: every write fails with EIO
        def write(self, text):
            raise OSError(5, "Input/output error")

        def flush(self):
            raise OSError(5, "Input/output error")

    w = open_window(qtbot, tmp_path, tiny_corpus)
    train(qtbot, w, 30)
    unwritable_autosave(w)
    monkeypatch.setattr(sys, "stdout", HungUp())
    w.terminate(signal.SIGHUP)
    assert not w.isVisible() and not w.worker_thread.thread.isRunning()
    assert w.dialogs.options == []

def test_a_budget_raised_to_train_on_stays_with_that_model(qtbot, tmp_path, tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus)
    train(qtbot, w, 100)
    w.dialogs.confirms = [True]  # Train on to 1,100
    w.actions_.start.trigger()
    qtbot.waitUntil(lambda: not w.session.training and w.session.iteration == 1100, timeout=20_000)
    assert w.settings.hyperparameters()["budget"] == 100  # not remembered as the user's
    w.dialogs.choices = [1]  # Discard the unsaved training
    set_panel(w, hidden=20)  # a new model
    qtbot.waitUntil(lambda: w.session.config.hidden == 20 and not w.session.busy, timeout=20_000)
    assert w.hyperparams.budget_value() == 100 and w.status.budget == 100
    w.close()
    assert settings_at(tmp_path).hyperparameters()["budget"] == 100


def test_an_autosave_left_by_an_older_version_is_still_offered(qtbot, tmp_path, tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus)
    train(qtbot, w, 40)
    w.close()
    new = w.autosave_path
    legacy = new.with_name("autosave.npz")  # the name before safetensors
    new.replace(legacy)
    dialogs = ScriptedDialogs()
    dialogs.confirms = [True]
    again = open_window(qtbot, tmp_path, dialogs=dialogs)
    assert again.offer_restore()
    qtbot.waitUntil(lambda: again.session.iteration == 40 and not again.session.busy,
                    timeout=20_000)
    again.dialogs.save_paths = [str(tmp_path / "kept.safetensors")]
    again.actions_.save.trigger()
    qtbot.waitUntil(lambda: not again.isWindowModified(), timeout=20_000)
    assert not legacy.exists() and not new.exists()  # saved: no autosave of either name


# -- closing says what happens to the work; Escape keeps the autosave -----------------------

def test_the_first_close_mid_training_says_the_work_is_kept_then_never_again(qtbot, tmp_path,
                                                                           tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus, budget=0)
    w.actions_.start.trigger()
    qtbot.waitUntil(lambda: w.session.iteration > 20, timeout=WAIT_MS)
    w.actions_.quit.trigger()  # Ctrl+Q mid-training
    assert w.shell.closing and w.autosave_path.is_file()
    [(title, text)] = w.dialogs.infos
    assert title == "Training kept for the next launch"
    assert "offers them back the next time it starts" in text and "appears once" in text

    again = open_window(qtbot, tmp_path / "b", tiny_corpus, budget=0,
                        settings=w.settings)  # the same user, another session
    again.actions_.start.trigger()
    qtbot.waitUntil(lambda: again.session.iteration > 20, timeout=WAIT_MS)
    again.close()
    assert again.shell.closing and again.autosave_path.is_file()
    assert again.dialogs.infos == []  # told once: closing is quick from then on


def test_escape_on_restore_keeps_the_autosave_for_the_next_launch(qtbot, tmp_path,
                                                                 tiny_corpus):
    from tests.gui_support import ScriptedDialogs, wait_ready

    first = open_window(qtbot, tmp_path, tiny_corpus)
    train(qtbot, first, 30)
    first.close()

    dialogs = ScriptedDialogs()
    dialogs.confirms = [None]  # Escape
    second = open_window(qtbot, tmp_path, tiny_corpus, dialogs=dialogs)
    assert second.offer_restore()
    qtbot.waitUntil(lambda: not dialogs.confirms and not second.session.busy, timeout=WAIT_MS)
    assert second.session.iteration == 0  # nothing restored...
    kept = second.autosaver.kept_path
    assert kept.is_file() and "offers it again at the next launch" in second.log.toPlainText()
    train(qtbot, second, 10)  # ...and this session's own unsaved training
    second.close()  # goes to the usual autosave, beside the kept one
    assert kept.is_file() and second.autosave_path.is_file()

    dialogs = ScriptedDialogs()
    dialogs.confirms = [False, True]  # Discard this session's, then Restore the kept one
    third = open_window(qtbot, tmp_path, dialogs=dialogs)
    assert third.offer_restore()
    qtbot.waitUntil(lambda: len(dialogs.asked) == 1 and not third.session.busy, timeout=WAIT_MS)
    assert "iteration 10 on tiny" in dialogs.asked[0][1]
    assert third.offer_restore()  # the one kept for later comes next
    qtbot.waitUntil(lambda: third.session.iteration == 30 and not third.session.busy,
                    timeout=WAIT_MS)
    wait_ready(qtbot, third)
    assert "iteration 30 on tiny" in dialogs.asked[1][1]
    assert not kept.exists() and third.isWindowModified()


def test_escape_on_the_real_restore_question_means_later(qtbot):
    from PySide6.QtCore import QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QWidget

    from dinogui.dialogs import Dialogs

    parent = QWidget()
    qtbot.addWidget(parent)
    answers = []

    def press(key) -> None:
        box = QApplication.activeModalWidget()
        if box is None:
            QTimer.singleShot(10, lambda: press(key))
            return
        QTest.keyClick(box, key)

    for key in (Qt.Key.Key_Escape, Qt.Key.Key_Return):
        QTimer.singleShot(0, lambda k=key: press(k))
        answers.append(Dialogs(parent).confirm_or_later("Restore unsaved training?", "…",
                                                        yes="Restore", no="Discard"))
    assert answers == [None, True]  # Escape: later; Enter: Restore, the default


def test_opening_the_list_a_restored_model_trains_on_asks_nothing(qtbot, tmp_path,
                                                                  tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus)
    train(qtbot, w, 30)
    generation = w.session.generation
    w.open_path(tiny_corpus)  # `dinogui tiny.txt`: the names this model trains on
    qtbot.waitUntil(lambda: not w.session.busy, timeout=WAIT_MS)
    assert w.dialogs.asked == []  # no "train this model on it, or start a new one?"
    assert w.session.generation == generation and w.session.iteration == 30
    assert "already trains on these names" in w.statusBar().currentMessage()

    other = tmp_path / "other.txt"
    other.write_text("Ada\nBob\n", encoding="utf-8")
    w.dialogs.choices = [None]  # other names: the question stays (Cancel)
    w.open_path(other)
    qtbot.waitUntil(lambda: len(w.dialogs.asked) == 1 and not w.session.busy, timeout=WAIT_MS)
    assert "Train this model on other.txt" in w.dialogs.asked[0][1]
