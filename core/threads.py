"""How many threads BLAS may use while training: one, set only for as long as training runs.

Training's matrix products are small, so a second BLAS thread gains little
even on an idle machine, and on a busy one it stalls every product while it
waits for a core another process holds. One thread is about the fastest and
never much slower (README.md, "BLAS threads", has `dinogui bench`'s figures);
everything outside training keeps the process's own setting.

    with training_threads():   # BLAS limited to TRAINING_THREADS inside
        trainer.run(1000)

Trainer.step(), run() and validate() are wrapped (limits_blas). Nested uses
cost a counter increment, so a loop wrapped once pays nothing per step; a step
outside any such block sets and restores the limit itself (a few microseconds).
"""

from __future__ import annotations

import functools
import threading
from contextlib import contextmanager

import numpy as np  # noqa: F401  (loads the BLAS that threadpoolctl then finds)

TRAINING_THREADS = 1


class _TrainingThreads:
    """Re-entrant: only the outermost block changes BLAS's setting, and restores it."""

    def __init__(self, threads: int) -> None:
        self.threads = threads
        self._depth = 0
        self._saved: list[tuple[object, int]] = []
        self._lock = threading.Lock()
        self._libs: list | None = None

    def _blas_libs(self) -> list:
        if self._libs is None:
            from threadpoolctl import ThreadpoolController  # scans loaded libraries once (~10 ms)

            self._libs = list(ThreadpoolController().select(user_api="blas").lib_controllers)
        return self._libs

    def __enter__(self) -> _TrainingThreads:
        with self._lock:
            if self._depth == 0:
                self._saved = [(lib, lib.num_threads) for lib in self._blas_libs()]
                for lib, _ in self._saved:
                    lib.set_num_threads(self.threads)
            self._depth += 1
        return self

    def __exit__(self, *exc) -> None:
        with self._lock:
            self._depth -= 1
            if self._depth == 0:
                for lib, n in self._saved:
                    lib.set_num_threads(n)
                self._saved = []

    @property
    def active(self) -> bool:
        return self._depth > 0


_LIMIT = _TrainingThreads(TRAINING_THREADS)


def training_threads() -> _TrainingThreads:
    """A context manager: BLAS runs TRAINING_THREADS threads inside, as before after."""
    return _LIMIT


@contextmanager
def using(threads: int):
    """Training inside this block uses `threads` BLAS threads (for measuring the choice)."""
    saved, _LIMIT.threads = _LIMIT.threads, threads
    try:
        yield
    finally:
        _LIMIT.threads = saved


def limits_blas(method):
    """Decorator: the method runs inside training_threads()."""

    @functools.wraps(method)
    def limited(*args, **kwargs):
        with _LIMIT:
            return method(*args, **kwargs)

    return limited


def blas_threads() -> list[int]:
    """The current thread count of each BLAS library NumPy loaded (for reports and tests)."""
    return [lib.num_threads for lib in _LIMIT._blas_libs()]
