"""The status bar: state, iteration, smoothed loss, learning rate, speed, elapsed time, and
progress with the time left.

Messages go to an eliding label left of these (MessageBar): QStatusBar's own
message is clipped at the first permanent label, cutting it mid-word.
"""

from __future__ import annotations

import math
from collections import deque

from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import QLabel, QProgressBar, QSizePolicy, QStatusBar, QWidget

RATE_WINDOW = 2.0  # seconds of batches the speed is measured over


def clock_text(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def lr_text(lr: float) -> str:
    """A learning rate in at most 7 characters: 0.01, 0.00312, 3.1e-05, 0."""
    return f"{lr:.3g}" if lr == 0 or lr >= 1e-3 else f"{lr:.2g}"


def rate_text(per_second: float) -> str:
    if per_second >= 1e6:
        return f"{per_second / 1e6:.2f}M"
    if per_second >= 1e4:
        return f"{per_second / 1e3:.0f}k"
    return f"{per_second:,.0f}"


class ElidedLabel(QLabel):
    """A one-line label that shows as much of its text as fits, with "…", and all in a tooltip.

    Its size policy is Ignored, so a long text never pushes its neighbours aside.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.full_text = ""
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(1)

    def set_full_text(self, text: str) -> None:
        self.full_text = text
        self.setToolTip(text if text else "")
        self._elide()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        room = self.contentsRect().width()
        self.setText(self.fontMetrics().elidedText(self.full_text, Qt.TextElideMode.ElideRight,
                                                   room))


class ShrinkLabel(QLabel):
    """A one-line label that gives up its width before the progress bar does, drawn with "…"
    for what it cannot show; text() stays whole (and a tooltip where one says it in full).

    At 1024 pixels, with no message to step aside for, the state, speed and time labels
    together with the progress bar wanted more than the bar's width: Qt squeezed the
    progress bar below its text ("Finished early…" on two cut lines) and cut "lr 0.003" to
    "lr (". These labels have their width when there is room, and "…" at the least.
    """

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        margins = self.contentsMargins()
        return QSize(self.fontMetrics().horizontalAdvance("…") + margins.left()
                     + margins.right() + 2, super().minimumSizeHint().height())

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt's name)
        rect = self.contentsRect()
        shown = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight,
                                              rect.width())
        painter = QPainter(self)
        self.style().drawItemText(painter, rect, int(self.alignment()), self.palette(),
                                  self.isEnabled(), shown, self.foregroundRole())
        painter.end()


class FitProgress(QProgressBar):
    """A progress bar at least as wide as its text ("Finished early: no held-out gain" wrapped
    to two cut lines in the 160 pixels the percentages need)."""

    LEAST = 160  # the width of "100% · ETA 0:00:00"

    def _text_width(self) -> int:
        """Its text's width, at least LEAST (an explicit minimum width would overrule the
        hint, and the layout then squeezes the bar below its text)."""
        text = self.fontMetrics().horizontalAdvance(self.text()) + 24 \
            if self.isTextVisible() else 0
        return max(text, self.LEAST)

    # (Qt's minimumSizeHint calls sizeHint: each widens its own, never calling the other)
    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        hint = super().minimumSizeHint()
        return QSize(max(hint.width(), self._text_width()), hint.height())

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        hint = super().sizeHint()
        return QSize(max(hint.width(), self._text_width()), hint.height())

    def setFormat(self, text: str) -> None:  # noqa: N802 (Qt's name)
        if text != self.format():
            super().setFormat(text)
            self.updateGeometry()


class MessageBar(QStatusBar):
    """A status bar whose messages elide before the permanent labels instead of running under
    them; showMessage, currentMessage and clearMessage keep QStatusBar's meaning.

    On a narrow window (1024 pixels) the labels leave a message a third of the bar, and the
    window's usual messages were cut to "Stopped…". So while a message is shown, the labels
    given to set_yielding() step aside, in their order, as far as the message needs to be read
    whole (as Qt's temporary messages hide a status bar's normal widgets); a message too long
    even then elides beside all of them.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.yielding: list[QWidget] = []  # hidden, first to last, to make room for a message
        self.stepped_aside: list[QWidget] = []  # those hidden now
        self._arranging = False
        self.message_label = ElidedLabel()
        self.message_label.setContentsMargins(4, 0, 4, 0)
        self.addWidget(self.message_label, 1)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.clearMessage)
        self._own = False  # messageChanged is ours, not Qt's
        self.messageChanged.connect(self._from_qt)

    def _from_qt(self, text: str) -> None:
        """Qt's own messages (menu status tips) call the C++ showMessage: shown here instead."""
        if self._own:
            return
        self._own = True
        QStatusBar.clearMessage(self)
        self._own = False
        self.showMessage(text)

    def set_yielding(self, widgets: list[QWidget]) -> None:
        """Permanent widgets that may hide while a message needs their room, first to last."""
        self.yielding = list(widgets)
        self._make_room()

    def _make_room(self) -> None:
        """Show the yielding widgets again, then hide as few as the message needs to fit; none
        if it cannot fit even so. Measured on the laid-out bar (hints differ from widths)."""
        if self._arranging:
            return
        self._arranging = True
        try:
            self._arrange()
        finally:
            self._arranging = False

    def _arrange(self) -> None:
        def fits() -> bool:
            self.layout().activate()
            return self.message_label.width() >= need

        for w in self.stepped_aside:
            w.setVisible(True)
        self.stepped_aside = []
        label = self.message_label
        margins = label.contentsMargins()
        need = label.fontMetrics().horizontalAdvance(label.full_text) + margins.left() \
            + margins.right() + 2
        if not label.full_text or not self.isVisible() or fits():
            return
        for w in self.yielding:
            if w.isVisible():
                w.setVisible(False)
                self.stepped_aside.append(w)
                if fits():
                    return
        for w in self.stepped_aside:  # too long anyway: it elides, and the labels stay
            w.setVisible(True)
        self.stepped_aside = []
        self.layout().activate()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._make_room()

    def showMessage(self, text: str, timeout: int = 0) -> None:  # noqa: N802 (Qt's name)
        self.message_label.set_full_text(text)
        self._make_room()
        self._timer.stop()
        if timeout > 0:
            self._timer.start(timeout)
        self._own = True
        self.messageChanged.emit(text)
        self._own = False

    def currentMessage(self) -> str:  # noqa: N802 (Qt's name)
        return self.message_label.full_text

    def clearMessage(self) -> None:  # noqa: N802 (Qt's name)
        self.showMessage("")


class TrainingStatus:
    """Owns the status bar's permanent labels; the window feeds it and it redraws on refresh()."""

    def __init__(self, bar: QStatusBar) -> None:
        self.state = ShrinkLabel("No model")
        self.iteration_label = QLabel()
        self.loss_label = QLabel()
        self.speed_label = ShrinkLabel()
        self.elapsed_label = ShrinkLabel()
        # the rate of the last step (the next one's before training), as the schedule gives
        # it. Its width when there is room, but no minimum: the bar is the window's widest part
        # on a 1024-pixel screen and must not widen it; the tooltip says it in full
        self.rate_label = ShrinkLabel()
        self.lr: float | None = None
        self.favourites_label = QLabel()
        self.favourites_label.setToolTip("Names you starred (Samples > Star Favourite, Ctrl+D)")
        # always there, empty while there are none (showing it changed the layout), and it
        # never widens the window (it did, by 8 pixels off a 1024-pixel screen): it takes the
        # room the message leaves (its width when there is room, but no minimum: an Ignored
        # policy left it 1 pixel wide, never seen); the Favourites list says the count in full
        self.favourites_label.setMinimumWidth(1)
        self.progress = FitProgress()
        self.progress.setMaximumWidth(280)
        self.progress.setTextVisible(True)
        self.iteration_label.setToolTip("Training steps taken")
        self.loss_label.setToolTip("The smoothed loss, on the plot's scale")
        self.speed_label.setToolTip("Training speed over the last two seconds")
        self.elapsed_label.setToolTip("Time spent training this model")
        for w in (self.state, self.iteration_label, self.loss_label, self.rate_label,
                  self.speed_label, self.elapsed_label, self.favourites_label):
            w.setContentsMargins(6, 0, 6, 0)
            bar.addPermanentWidget(w)
        bar.addPermanentWidget(self.progress)
        if isinstance(bar, MessageBar):  # a long message reads whole: these step aside for it
            bar.set_yielding([self.rate_label, self.elapsed_label, self.speed_label, self.state,
                              self.loss_label, self.iteration_label])
        self.iteration = 0
        self.smooth = math.nan
        self.smooth_char = math.nan
        self.seconds = 0.0
        self.budget_spent: float | None = None  # of a time budget, as the trainer counts
        self.budget: int | None = None
        self.time_budget: float | None = None  # seconds (the quality preset's Budget)
        self.scale = "name"
        self._marks: deque[tuple[float, int, int]] = deque()  # (wall, iteration, chars)
        self.it_per_s = 0.0
        self.chars_per_s = 0.0
        self.finished: tuple[str, str] | None = None  # (short, why) after an early stop
        self.refresh()

    def set_finished(self, short: str | None, why: str = "") -> None:
        """Training ended before the budget for a reason (early stopping): the progress bar
        reads finished and says why, instead of "9% · 31,999 to go"; None: it counts again."""
        self.finished = None if short is None else (short, why)
        self.refresh()

    def reset(self, iteration: int, seconds: float, smooth: float, smooth_char: float,
              lr: float | None = None) -> None:
        """Another model: its figures, and `lr`, the rate its next step takes (None: none)."""
        self.finished = None
        self.lr = lr
        self.iteration, self.seconds = iteration, seconds
        self.budget_spent = None  # until a batch says: the model's training time
        self.smooth, self.smooth_char = smooth, smooth_char
        self.forget_speed()
        self.refresh()

    def forget_speed(self) -> None:
        """Training stopped (or starts again): no speed until new steps measure one."""
        self._marks.clear()
        self.it_per_s = self.chars_per_s = 0.0

    def add_batch(self, wall: float, iteration: int, total_chars: int, seconds: float,
                  smooth: float, smooth_char: float, lr: float | None = None,
                  budget_spent: float | None = None) -> None:
        """Steps up to `iteration`; `lr`: the rate the last of them took; `budget_spent`: the
        time budget's seconds used, as the trainer counts them (its steps' time alone)."""
        self.iteration, self.seconds = iteration, seconds
        self.budget_spent = budget_spent
        self.lr = lr
        self.smooth, self.smooth_char = smooth, smooth_char
        marks = self._marks
        marks.append((wall, iteration, total_chars))
        while len(marks) > 2 and wall - marks[1][0] >= RATE_WINDOW:
            marks.popleft()
        if len(marks) >= 2 and marks[-1][0] > marks[0][0]:
            dt = marks[-1][0] - marks[0][0]
            self.it_per_s = (marks[-1][1] - marks[0][1]) / dt
            self.chars_per_s = (marks[-1][2] - marks[0][2]) / dt

    def set_rate(self, lr: float | None) -> None:
        """The rate the next step takes (a changed setting while not training)."""
        self.lr = lr
        self.refresh()

    def set_state(self, text: str, why: str | None = None) -> None:
        """`why`: the state in full, for the tooltip (else the text: whole where a narrow
        bar draws it cut)."""
        self.state.setText(text)
        self.state.setToolTip(why or text)

    def set_favourites(self, count: int) -> None:
        self.favourites_label.setText(f"★ {count:,}" if count > 0 else "")

    @property
    def average_speed(self) -> float:
        """Iterations per second over all the model's training time (0 before any)."""
        return self.iteration / self.seconds if self.seconds > 0 else 0.0

    def set_budget(self, budget: int | None) -> None:
        self.budget = budget
        self.refresh()

    def set_time_budget(self, seconds: float | None) -> None:
        """A model trained for a time: the bar counts its seconds down (None or 0: none)."""
        self.time_budget = seconds or None
        self.refresh()

    def refresh(self) -> None:
        self.iteration_label.setText(f"Iteration {self.iteration:,}")
        value = self.smooth if self.scale == "name" else self.smooth_char
        unit = "per name" if self.scale == "name" else "per char"
        self.loss_label.setText("Loss —" if math.isnan(value) else f"Loss {value:.4f} {unit}")
        if self.it_per_s > 0:
            self.speed_label.setText(f"{rate_text(self.it_per_s)} it/s · "
                                     f"{rate_text(self.chars_per_s)} chars/s")
        elif self.average_speed > 0:  # not training: the average, not a stale last speed
            self.speed_label.setText(f"avg {rate_text(self.average_speed)} it/s")
        else:
            self.speed_label.setText("— it/s")
        self.elapsed_label.setText(f"Elapsed {clock_text(self.seconds)}")
        lr = self.lr
        self.rate_label.setText("" if lr is None else f"lr {lr_text(lr)}")
        self.rate_label.setToolTip("" if lr is None else (
            f"Learning rate {lr:.6g}: the rate of the last step, as the schedule gives it "
            "(before training: the next step's)"))
        budget, time_budget = self.budget, self.time_budget
        self.progress.setVisible(budget is not None or time_budget is not None
                                 or self.finished is not None)
        self.progress.setToolTip(self.finished[1] if self.finished else "")
        if self.finished is not None:
            self.progress.setRange(0, 1000)
            self.progress.setValue(1000)
            self.progress.setFormat(self.finished[0])
        elif time_budget is not None:
            self.progress.setRange(0, 1000)
            spent = self.seconds if self.budget_spent is None else self.budget_spent
            done = min(spent / time_budget, 1.0)
            self.progress.setValue(int(done * 1000))
            left = time_budget - spent
            self.progress.setFormat(f"{done:.0%} · " + (
                f"{clock_text(left)} left" if left > 0 else "time budget spent"))
        elif budget is not None:
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
