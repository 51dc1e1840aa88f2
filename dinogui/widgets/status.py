"""The status bar: state, iteration, smoothed loss, speed, elapsed time, and progress with ETA."""

from __future__ import annotations

import math
from collections import deque

from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar

RATE_WINDOW = 2.0  # seconds of batches the speed is measured over


def clock_text(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def rate_text(per_second: float) -> str:
    if per_second >= 1e6:
        return f"{per_second / 1e6:.2f}M"
    if per_second >= 1e4:
        return f"{per_second / 1e3:.0f}k"
    return f"{per_second:,.0f}"


class TrainingStatus:
    """Owns the status bar's permanent labels; the window feeds it and it redraws on refresh()."""

    def __init__(self, bar: QStatusBar) -> None:
        self.state = QLabel("No model")
        self.iteration_label = QLabel()
        self.loss_label = QLabel()
        self.speed_label = QLabel()
        self.elapsed_label = QLabel()
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(220)
        self.progress.setMinimumWidth(160)
        self.progress.setTextVisible(True)
        self.iteration_label.setToolTip("Training steps taken")
        self.loss_label.setToolTip("The smoothed loss, on the plot's scale")
        self.speed_label.setToolTip("Training speed over the last two seconds")
        self.elapsed_label.setToolTip("Time spent training this model")
        for w in (self.state, self.iteration_label, self.loss_label, self.speed_label,
                  self.elapsed_label):
            w.setContentsMargins(6, 0, 6, 0)
            bar.addPermanentWidget(w)
        bar.addPermanentWidget(self.progress)
        self.iteration = 0
        self.smooth = math.nan
        self.smooth_char = math.nan
        self.seconds = 0.0
        self.budget: int | None = None
        self.scale = "name"
        self._marks: deque[tuple[float, int, int]] = deque()  # (wall, iteration, chars)
        self.it_per_s = 0.0
        self.chars_per_s = 0.0
        self.refresh()

    def reset(self, iteration: int, seconds: float, smooth: float, smooth_char: float) -> None:
        self.iteration, self.seconds = iteration, seconds
        self.smooth, self.smooth_char = smooth, smooth_char
        self.forget_speed()
        self.refresh()

    def forget_speed(self) -> None:
        self._marks.clear()
        self.it_per_s = self.chars_per_s = 0.0

    def add_batch(self, wall: float, iteration: int, total_chars: int, seconds: float,
                  smooth: float, smooth_char: float) -> None:
        self.iteration, self.seconds = iteration, seconds
        self.smooth, self.smooth_char = smooth, smooth_char
        marks = self._marks
        marks.append((wall, iteration, total_chars))
        while len(marks) > 2 and wall - marks[1][0] >= RATE_WINDOW:
            marks.popleft()
        if len(marks) >= 2 and marks[-1][0] > marks[0][0]:
            dt = marks[-1][0] - marks[0][0]
            self.it_per_s = (marks[-1][1] - marks[0][1]) / dt
            self.chars_per_s = (marks[-1][2] - marks[0][2]) / dt

    def set_state(self, text: str) -> None:
        self.state.setText(text)

    def set_budget(self, budget: int | None) -> None:
        self.budget = budget
        self.refresh()

    def refresh(self) -> None:
        self.iteration_label.setText(f"Iteration {self.iteration:,}")
        value = self.smooth if self.scale == "name" else self.smooth_char
        unit = "per name" if self.scale == "name" else "per char"
        self.loss_label.setText("Loss —" if math.isnan(value) else f"Loss {value:.4f} {unit}")
        if self.it_per_s > 0:
            self.speed_label.setText(f"{rate_text(self.it_per_s)} it/s · "
                                     f"{rate_text(self.chars_per_s)} chars/s")
        else:
            self.speed_label.setText("— it/s")
        self.elapsed_label.setText(f"Elapsed {clock_text(self.seconds)}")
        budget = self.budget
        self.progress.setVisible(budget is not None)
        if budget is not None:
            self.progress.setRange(0, 1000)
            done = min(self.iteration / budget, 1.0) if budget else 1.0
            self.progress.setValue(int(done * 1000))
            left = budget - self.iteration
            if left <= 0:
                eta = "done"
            elif self.it_per_s > 0:
                eta = f"ETA {clock_text(left / self.it_per_s)}"
            else:
                eta = f"{left:,} to go"
            self.progress.setFormat(f"{done:.0%} · {eta}")
