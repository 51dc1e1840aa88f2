"""Training speed in the window against headless training, same corpus, same iterations.

    python -m dinogui.bench_window [--corpus PATH] [--preset classic|default|both]
                                   [--iterations N] [--repeats R]

Headless is Trainer.run(N) in this process, as `dinogui train` runs it (in a
plain thread; see headless()). In the window is the real MainWindow, shown
(offscreen unless a display is set), training through its worker thread from
pressing Start until the stop reaches the window, with the live plot, status
bar and log updating. The two
alternate R times and the medians are compared; the issue asks the window to
keep at least 90% of the headless speed. The GUI CPU column is the share of
a core the window's thread used; redraw ms is what one plot update cost.
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

DEFAULT_ITERATIONS = {"classic": 20_000, "default": 2_000}


def _wait(app, condition, timeout: float) -> None:
    """Run Qt's event loop until condition() holds, as app.exec() would run it.

    The loop blocks in Qt between events, as the app's does; a busy Python loop
    of processEvents() would take the interpreter lock from training far more
    often than the real window does, and measure the harness, not the window.
    """
    from PySide6.QtCore import QEventLoop, QTimer

    deadline = time.monotonic() + timeout
    loop, timer, expired = QEventLoop(), QTimer(), []

    def check() -> None:
        if condition():
            loop.quit()
        elif time.monotonic() > deadline:
            expired.append(True)
            loop.quit()

    timer.setInterval(10)
    timer.timeout.connect(check)
    timer.start()
    if not condition():
        loop.exec()
    timer.stop()
    if expired:
        raise TimeoutError("the window did not finish in time")


def headless(corpus_path: Path, config, iterations: int) -> tuple[float, int]:
    """Trainer.run in a plain thread of this process, as the window's worker runs it.

    Not in the main thread: once the main thread has set OpenBLAS's thread
    count (Trainer.run does, through core.threads), BLAS calls that other
    threads make under the same one-thread limit ran 5-10x slower here
    (numpy 2's OpenBLAS 0.3.31), which would make every later window run slow.
    """
    from core.corpus import load_corpus
    from core.trainer import Trainer

    trainer = Trainer(load_corpus(corpus_path), config)
    seconds = []

    def run() -> None:
        t0 = time.perf_counter()
        trainer.run(iterations)
        seconds.append(time.perf_counter() - t0)

    thread = threading.Thread(target=run, name="headless")
    thread.start()
    thread.join()
    return seconds[0], trainer.state.total_chars


def in_window(app, corpus_path: Path, preset: str, iterations: int, folder: Path) -> dict:
    from PySide6.QtCore import QSettings

    from dinogui.main_window import MainWindow
    from dinogui.settings import AppSettings

    settings = AppSettings(QSettings(str(folder / "bench.ini"), QSettings.Format.IniFormat))
    window = MainWindow(settings=settings, data_dir=folder, load_corpus_now=False)
    window.resize(1360, 840)
    window.show()
    panel = window.hyperparams
    panel.preset.setCurrentIndex(panel.preset.findData(preset))
    panel.set_budget(iterations)
    window.open_corpus_path(corpus_path, ask=False)
    _wait(app, lambda: window.trainer is not None and not window.busy, 60)
    config = window.config
    batches = []
    window.worker.progress.connect(lambda b: batches.append(len(b.iterations)))
    stopped_at = []  # when the stop reaches the window's thread, not when the poll sees it
    window.worker.stopped.connect(lambda _s: stopped_at.append(time.perf_counter()))
    gui_cpu0 = time.thread_time()
    t0 = time.perf_counter()
    window.actions_.start.trigger()
    _wait(app, lambda: not window.training and window.iteration >= iterations, 600)
    seconds = (stopped_at[-1] if stopped_at else time.perf_counter()) - t0
    gui_cpu = time.thread_time() - gui_cpu0
    result = {"seconds": seconds, "config": config, "chars": window.total_chars,
              "signals": len(batches), "gui_cpu": gui_cpu,
              "redraw_ms": window.loss_plot.redraw_cost * 1000,
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
    window = MainWindow(settings=settings, data_dir=folder, load_corpus_now=False)
    window.hyperparams.preset.setCurrentIndex(window.hyperparams.preset.findData(preset))
    config = window.hyperparams.config()
    window.close()
    window.deleteLater()
    app.processEvents()
    return config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dinogui.bench_window",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", help="name list (default: the bundled dinosaurs)")
    parser.add_argument("--preset", choices=("classic", "default", "both"), default="both")
    parser.add_argument("--iterations", type=int, help="per run (default: 20,000 classic, "
                        "2,000 default)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--verbose", action="store_true", help="print every run")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from core.corpus import bundled_corpus_path
    from dinogui import qt_guard
    from dinogui.worker import pin_blas_threads

    qt_guard.guard()
    pin_blas_threads()  # as the app does
    app = QApplication.instance() or QApplication([])
    corpus = Path(args.corpus) if args.corpus else bundled_corpus_path()
    if not corpus.is_file():
        print(f"bench_window: no corpus at {corpus}; pass --corpus PATH", file=sys.stderr)
        return 2
    presets = ("classic", "default") if args.preset == "both" else (args.preset,)
    print(f"corpus {corpus.name}; {args.repeats} alternating runs each, medians; "
          f"platform {app.platformName()}")
    print(f"{'preset':8} {'iterations':>10} {'headless chars/s':>17} {'window chars/s':>15} "
          f"{'ratio':>6} {'signals/s':>9} {'GUI CPU':>8} {'redraw ms':>9}")
    print("(chars/s: medians; ratio: the median of the pairs' ratios)")
    with tempfile.TemporaryDirectory() as tmp:
        for preset in presets:
            n = args.iterations or DEFAULT_ITERATIONS[preset]
            head_rates, win_rates, runs = [], [], []
            for r in range(args.repeats):
                # each pair runs back to back, in alternating order, so drifting load on a
                # shared machine hits both sides alike; the pairs' ratios are compared
                folder = Path(tmp) / f"{preset}{r}"
                if r % 2:
                    seconds, chars = headless(corpus, config_for(app, corpus, preset, folder), n)
                    run = in_window(app, corpus, preset, n, folder)
                else:
                    run = in_window(app, corpus, preset, n, folder)
                    seconds, chars = headless(corpus, run["config"], n)
                head_rates.append(chars / seconds)
                win_rates.append(run["chars"] / run["seconds"])
                runs.append(run)
                if args.verbose:
                    hr, wr = head_rates[-1], win_rates[-1]
                    print(f"  pair {r + 1}: headless {hr:,.0f} chars/s, window {wr:,.0f} "
                          f"chars/s, ratio {wr / hr:.1%}")
            ratios = [w / h for w, h in zip(win_rates, head_rates, strict=True)]
            h, w = statistics.median(head_rates), statistics.median(win_rates)
            sig = statistics.median(r["signals"] / r["seconds"] for r in runs)
            cpu = statistics.median(r["gui_cpu"] / r["seconds"] for r in runs)
            redraw = statistics.median(r["redraw_ms"] for r in runs)
            print(f"{preset:8} {n:>10,} {h:>17,.0f} {w:>15,.0f} {statistics.median(ratios):>6.1%} "
                  f"{sig:>9.1f} {cpu:>8.0%} {redraw:>9.1f}")
        print(f"load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
