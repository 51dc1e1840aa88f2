"""Grab the README's screenshots: the window before training and while it trains.

    python -m dinogui.bench.screenshots [--corpus PATH] [--out resources] [--name screenshot]
                                  [--preset classic|default] [--iterations N]

writes <name>-start.png (the window ready to train), <name>.png (training,
with names sampled) and <name>-samples.png (paused, names drawn with
constraints, three starred as favourites).

Runs the real window offscreen (unless a display is set) on temporary
settings, so the user's own are never touched.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dinogui.bench.screenshots")
    parser.add_argument("--corpus", help="name list (default: the bundled dinosaurs)")
    parser.add_argument("--out", default="resources")
    parser.add_argument("--iterations", type=int, default=3_000,
                        help="train this far before the 'during' shot")
    parser.add_argument("--preset", default="default", choices=("classic", "default"))
    parser.add_argument("--name", default="screenshot")
    parser.add_argument("--size", default="1280x800", help="window size, WxH")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from dinogui import qt_guard
    from dinogui.core.corpus import bundled_corpus_path
    from dinogui.main_window import MainWindow
    from dinogui.settings import AppSettings

    qt_guard.guard()
    app = QApplication.instance() or QApplication([])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    def wait(condition, timeout: float = 300.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition() and time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.005)

    with tempfile.TemporaryDirectory() as tmp:
        settings = AppSettings(QSettings(str(Path(tmp) / "s.ini"), QSettings.Format.IniFormat))
        settings.set_told("close-autosave")  # no one to read the first close's note
        window = MainWindow(settings=settings, data_dir=tmp, load_corpus_now=False)
        panel = window.hyperparams
        panel.preset.setCurrentIndex(panel.preset.findData(args.preset))
        panel.set_budget(None if args.preset == "default" else 35_000)
        window.status.set_budget(panel.budget_value())
        window.open_corpus_path(args.corpus or bundled_corpus_path(), ask=False)
        window.fit_on_show = False  # this size, whatever the (offscreen) screen says
        width, height = (int(v) for v in args.size.lower().split("x"))
        window.resize(width, height)
        window.show()
        wait(lambda: window.trainer is not None and not window.busy)
        wait(lambda: False, 0.5)
        start, during = out / f"{args.name}-start.png", out / f"{args.name}.png"
        window.grab().save(str(start))
        window.actions_.start.trigger()
        # the default preset may stop by itself first (patience)
        wait(lambda: window.iteration >= args.iterations or not window.training)
        window.actions_.sample.trigger()
        wait(lambda: bool(window.samples.names()))
        wait(lambda: False, 1.5)  # a plot redraw or two
        window.grab().save(str(during))

        samples = out / f"{args.name}-samples.png"
        window.actions_.pause.trigger()
        wait(lambda: not window.training)
        panel = window.samples
        panel.count.setValue(12)
        panel.suffix.setText("saurus")
        panel.new_only.setChecked(True)
        panel.clear()
        window.actions_.sample.trigger()
        wait(lambda: bool(panel.names()))
        for row in panel.rows()[1:6:2]:
            panel.set_favourite(row, True)
        wait(lambda: False, 1.0)
        window.grab().save(str(samples))
        window.close()
    print(f"wrote {start}, {during} and {samples}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
