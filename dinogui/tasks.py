"""Slow work that is not training (reading a corpus or a checkpoint, drawing names) off the
window's thread, with the result handed back to the window's thread."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from dinogui.document.messages import Answer


class _Job(QRunnable):
    """fn() as a runnable the pool deletes when done.

    A Python subclass, not QRunnable.create(): the pool deletes a created
    runnable behind PySide's back, leaving its Python wrapper registered at a
    freed address, and the next object allocated there (a menu's QAction, say)
    then comes back to Python as that stale QRunnable. A subclass's wrapper is
    told when its C++ object goes.
    """

    def __init__(self, fn: Callable[[], None]) -> None:
        super().__init__()
        self._fn = fn

    def run(self) -> None:
        self._fn()


class TaskRunner(QObject):
    """Runs fn() in a one-thread pool (so tasks finish in the order given);
    callback(result, error) then runs in the thread that owns the runner."""

    _finished = Signal(object)  # Answer, emitted from the pool's thread

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._pending = 0
        self._cancelled = False
        self._finished.connect(self._deliver)  # queued: the runner lives in the window's thread

    def run(self, fn: Callable[[], object], callback: Callable[[object, BaseException | None],
                                                                 None]) -> None:
        self._pending += 1

        def work() -> None:
            try:
                answer = Answer(callback, fn(), None)
            except Exception as e:  # every failure goes back to the window as a value
                answer = Answer(callback, None, e)
            self._finished.emit(answer)

        self._pool.start(_Job(work))

    @property
    def busy(self) -> bool:
        return self._pending > 0

    def wait(self, timeout_ms: int = 10_000) -> bool:
        """Block until every started task has run (their callbacks run later, if ever)."""
        return self._pool.waitForDone(timeout_ms)

    def cancel(self) -> None:
        """Drop the results of tasks still running or queued (the window is closing)."""
        self._cancelled = True

    @Slot(object)
    def _deliver(self, answer: Answer) -> None:
        self._pending -= 1
        if not self._cancelled:
            answer.callback(answer.result, answer.error)
