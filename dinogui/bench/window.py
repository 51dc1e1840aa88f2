"""Training speed in the window against headless training, same corpus, same iterations.

    python -m dinogui.bench.window [--corpus PATH] [--preset classic|default|both]
                                   [--iterations N] [--repeats R]

Headless is Trainer.run(N) in this process, as `dinogui train` runs it (in a
plain thread; see headless()). In the window is the real MainWindow, shown
(offscreen unless a display is set), training through its worker thread from
pressing Start until the stop reaches the window, with the live plot, status
bar and log updating. The two alternate R times and the pairs' ratios are
compared; the issue asks the window to keep at least 90% of the headless
speed.

On a shared machine one run's speed swings by 10-20% with the other jobs, so
the bench also reports what the window takes from training directly: the
share of the time the training thread was on a CPU (its thread CPU time over
the wall time). Headless it is ~100%; in the window the rest is time spent
waiting for Python's interpreter lock while the window's thread held it.
The GUI CPU column is the share of a core the window's thread used; redraw ms
is the CPU time one plot update (and its paint) took, paints/s how often the
loss plot was painted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from dinogui.arguments import positive_int

DEFAULT_ITERATIONS = {"classic": 20_000, "default": 6_000}  # ~3-4 s each here
DEFAULT_REPEATS = 5


def _wait(app, condition, timeout: float, wake=None) -> None:
    """Run Qt's event loop until condition() holds, as app.exec() would run it.

    The loop blocks in Qt between events, as the app's does; a busy Python loop
    of processEvents() would take the interpreter lock from training far more
    often than the real window does, and measure the harness, not the window.
    `wake` (a signal) checks the condition when it fires; without it, or as a
    fallback, a slow timer checks it.
    """
    from PySide6.QtCore import QEventLoop, QTimer

    deadline = time.monotonic() + timeout
    loop, timer, expired = QEventLoop(), QTimer(), []

    def check(*_args) -> None:
        if condition():
            loop.quit()
        elif time.monotonic() > deadline:
            expired.append(True)
            loop.quit()

    timer.setInterval(10 if wake is None else 5000)  # with a wake signal: only the deadline
    timer.timeout.connect(check)
    if wake is not None:
        wake.connect(check)
    timer.start()
    if not condition():
        loop.exec()
    timer.stop()
    if wake is not None:
        wake.disconnect(check)
    if expired:
        raise TimeoutError("the window did not finish in time")


def headless(corpus_path: Path, config, iterations: int) -> dict:
    """Trainer.run in a plain thread of this process, as the window's worker runs it.

    Not in the main thread: once the main thread has set OpenBLAS's thread
    count (Trainer.run does, through core.threads), BLAS calls that other
    threads make under the same one-thread limit ran 5-10x slower here
    (numpy 2's OpenBLAS 0.3.31), which would make every later window run slow.
    """
    from dinogui.core.corpus import load_corpus
    from dinogui.core.trainer import Trainer

    trainer = Trainer(load_corpus(corpus_path), config)
    timed = []

    def run() -> None:
        cpu0, t0 = time.thread_time(), time.perf_counter()
        trainer.run(iterations)
        timed.append((time.perf_counter() - t0, time.thread_time() - cpu0))

    thread = threading.Thread(target=run, name="headless")
    thread.start()
    thread.join()
    seconds, cpu = timed[0]
    return {"seconds": seconds, "chars": trainer.state.total_chars, "train_cpu": cpu}


def _watch(worker):
    """Counts the progress signals and notes when the stop arrives in the window's thread.

    The count is kept by a plain function, which PySide calls in the emitting (training)
    thread: a slot in the window's thread would be one more wake-up per batch there, a
    cost the real window does not have. The stop goes to a QObject in the window's thread.
    """
    from PySide6.QtCore import QObject, Signal, Slot

    class Watch(QObject):
        done = Signal()

        def __init__(self) -> None:
            super().__init__()
            self.counted: list[int] = []
            self.stopped_at: float | None = None
            # a plain function, not a method of this QObject: PySide calls it directly
            worker.progress.connect(lambda _batch: self.counted.append(1))
            worker.stopped.connect(self.on_stopped)

        @property
        def batches(self) -> int:
            return len(self.counted)

        @Slot(object)
        def on_stopped(self, _stopped) -> None:
            self.stopped_at = time.perf_counter()
            self.done.emit()

    return Watch()


def in_window(app, corpus_path: Path, preset: str, iterations: int, folder: Path) -> dict:
    from PySide6.QtCore import QSettings

    from dinogui.main_window import MainWindow
    from dinogui.settings import AppSettings

    settings = AppSettings(QSettings(str(folder / "bench.ini"), QSettings.Format.IniFormat))
    settings.set_told("close-autosave")  # no one to read the first close's note
    window = MainWindow(settings=settings, data_dir=folder, load_corpus_now=False)
    window.resize(1360, 840)
    window.fit_on_show = False  # measured at this size, whatever the screen
    window.show()
    panel = window.hyperparams
    panel.preset.setCurrentIndex(panel.preset.findData(preset))
    panel.set_budget(iterations)
    window.open_corpus_path(corpus_path, ask=False)
    _wait(app, lambda: window.session.trainer is not None and not window.session.busy, 60)
    config = window.session.config
    watch = _watch(window.worker)
    train_cpu0 = window.worker.call(lambda _t: time.thread_time())  # in the training thread
    gui_cpu0, paints0 = time.thread_time(), window.loss_plot.view.paints
    t0 = time.perf_counter()
    window.actions_.start.trigger()
    _wait(app, lambda: watch.stopped_at is not None and not window.session.training, 600,
          wake=watch.done)
    seconds = watch.stopped_at - t0
    gui_cpu = time.thread_time() - gui_cpu0
    train_cpu, chars = window.worker.call(lambda t: (time.thread_time(), t.state.total_chars))
    result = {"seconds": seconds, "config": config, "chars": chars,
              "signals": watch.batches, "gui_cpu": gui_cpu, "train_cpu": train_cpu - train_cpu0,
              "redraw_ms": window.loss_plot.redraw_cost * 1000,
              "paints": window.loss_plot.view.paints - paints0,
              "points": window.loss_plot.points}
    window.close()
    window.deleteLater()
    app.processEvents()
    return result


def config_for(app, corpus: Path, preset: str, folder: Path):
    """The settings the window would train with (without training)."""
    from PySide6.QtCore import QSettings

    from dinogui.main_window import MainWindow
    from dinogui.settings import AppSettings

    settings = AppSettings(QSettings(str(folder / "config.ini"), QSettings.Format.IniFormat))
    settings.set_told("close-autosave")  # no one to read the first close's note
    window = MainWindow(settings=settings, data_dir=folder, load_corpus_now=False)
    window.hyperparams.preset.setCurrentIndex(window.hyperparams.preset.findData(preset))
    config = window.hyperparams.config()
    window.close()
    window.deleteLater()
    app.processEvents()
    return config


def _rate(run: dict) -> float:
    return run["chars"] / run["seconds"]


def _busy(run: dict) -> float:
    """The share of the run's time the training thread was on a CPU."""
    return run["train_cpu"] / run["seconds"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dinogui.bench.window",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", help="name list (default: the bundled dinosaurs)")
    parser.add_argument("--preset", choices=("classic", "default", "both"), default="both")
    parser.add_argument("--iterations", type=positive_int,
                        help="per run (default: 20,000 classic, 6,000 default)")
    parser.add_argument("--repeats", type=positive_int, default=DEFAULT_REPEATS,
                        help=f"pairs per preset (default {DEFAULT_REPEATS})")
    parser.add_argument("--verbose", action="store_true", help="print every pair")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from dinogui import qt_guard
    from dinogui.core.corpus import bundled_corpus_path
    from dinogui.worker import pin_blas_threads

    qt_guard.guard()
    pin_blas_threads()  # as the app does
    app = QApplication.instance() or QApplication([])
    corpus = Path(args.corpus) if args.corpus else bundled_corpus_path()
    if not corpus.is_file():
        print(f"bench_window: no corpus at {corpus}; pass --corpus PATH", file=sys.stderr)
        return 2
    presets = ("classic", "default") if args.preset == "both" else (args.preset,)
    print(f"corpus {corpus.name}; {args.repeats} alternating pairs each; "
          f"platform {app.platformName()}")
    print(f"{'preset':8} {'iterations':>10} {'headless chars/s':>17} {'window chars/s':>15} "
          f"{'ratio':>6} {'on CPU':>13} {'signals/s':>9} {'GUI CPU':>8} {'redraw ms':>9} "
          f"{'paints/s':>8}")
    print("(chars/s: medians; ratio: the median of the pairs' ratios; on CPU: the share of the\n"
          " time the training thread ran, headless/window, medians: what the window's thread\n"
          " takes from training, unlike chars/s unmoved by how fast the shared machine is)")
    with tempfile.TemporaryDirectory() as tmp:
        for preset in presets:
            n = args.iterations or DEFAULT_ITERATIONS[preset]
            pairs = []
            for r in range(args.repeats):
                # each pair runs back to back, in alternating order, so drifting load on a
                # shared machine hits both sides alike; the pairs' ratios are compared
                folder = Path(tmp) / f"{preset}{r}"
                if r % 2:
                    head = headless(corpus, config_for(app, corpus, preset, folder), n)
                    run = in_window(app, corpus, preset, n, folder)
                else:
                    run = in_window(app, corpus, preset, n, folder)
                    head = headless(corpus, run["config"], n)
                pairs.append((head, run))
                if args.verbose:
                    hr, wr = _rate(head), _rate(run)
                    print(f"  pair {r + 1}: headless {hr:,.0f} chars/s, window {wr:,.0f} "
                          f"chars/s, ratio {wr / hr:.1%}; on CPU {_busy(head):.1%} / "
                          f"{_busy(run):.1%}")
            heads, runs = [h for h, _ in pairs], [w for _, w in pairs]
            med = statistics.median
            ratio = med(_rate(w) / _rate(h) for h, w in pairs)
            busy = f"{med(map(_busy, heads)):.1%}/{med(map(_busy, runs)):.1%}"
            sig = med(w["signals"] / w["seconds"] for w in runs)
            cpu = med(w["gui_cpu"] / w["seconds"] for w in runs)
            redraw = med(w["redraw_ms"] for w in runs)
            paints = med(w["paints"] / w["seconds"] for w in runs)
            print(f"{preset:8} {n:>10,} {med(map(_rate, heads)):>17,.0f} "
                  f"{med(map(_rate, runs)):>15,.0f} {ratio:>6.1%} {busy:>13} "
                  f"{sig:>9.1f} {cpu:>8.1%} {redraw:>9.1f} {paints:>8.1f}")
        print(f"load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
