"""How many threads BLAS may use while training, set only for as long as training runs.

Most of training's matrix products are small: a second BLAS thread then costs
more in waking and waiting than it gains (on a busy machine it stalls every
product while it waits for a core another process holds). Past a size it pays:
`dinogui bench --sections threads` measures both across sizes and prints the
rule's choice. The rule, threads_for, looks at the product a step repeats most,
the recurrent one of each time step, (batch, hidden) @ (hidden, gates * hidden),
and gives 2 threads when its flops reach TWO_THREADS_FLOPS and two cores are idle
(idle_cores: the core count less the 1-minute load average, read when a Trainer is
made). On a machine that other processes keep busy a second OpenBLAS thread waits for
a core at every product: the bench measured 0.02-0.19x at every size, large ones
included, where a quieter machine gave 1.48x at hidden 256, batch 256 (and 0.27-0.83x
up to 8.4 MFLOP: hence the threshold between). docs/benchmarks.md has the tables.

    with training_threads(trainer.blas_threads):   # BLAS at that count inside
        trainer.run(1000)

Trainer.step(), run() and validate() are wrapped (limits_blas) with their
trainer's count. Nested blocks at the count already set cost a counter
increment, so a loop wrapped once pays nothing per step; a block at another
count sets it and restores the outer one when it ends. Everything outside
training keeps the process's own setting. A process that must never change the
count (the window: see dinogui.worker.pin_blas_threads) calls pin().
"""

from __future__ import annotations

import functools
import os
import threading
from contextlib import contextmanager

import numpy as np  # noqa: F401  (loads the BLAS that threadpoolctl then finds)

TRAINING_THREADS = 1  # the count for every product too small for threads_for's 2
# flops of one recurrent product from which 2 threads are faster (the threads bench:
# about 0.5-0.8x below ~8M, 1.2-1.5x from ~16M on a 2-core machine)
TWO_THREADS_FLOPS = 12_000_000


IDLE_FOR_TWO = 1.5  # idle cores (of the 2 a second thread needs) from which it may run


def threads_for(batch: int, hidden: int, gates: int = 1, idle: float = 2.0) -> int:
    """BLAS threads for a model whose time step multiplies (batch, hidden) by (hidden,
    gates * hidden): 2 when that product's 2 * batch * hidden * gates * hidden flops reach
    TWO_THREADS_FLOPS and `idle` cores (idle_cores()) reach IDLE_FOR_TWO, else
    TRAINING_THREADS."""
    flops = 2 * batch * hidden * gates * hidden
    return 2 if flops >= TWO_THREADS_FLOPS and idle >= IDLE_FOR_TWO else TRAINING_THREADS


def idle_cores() -> float:
    """Cores no other process is using, roughly: the core count less the 1-minute load
    average (the count alone where the system gives no load average)."""
    cores = float(os.cpu_count() or 1)
    try:
        return cores - os.getloadavg()[0]
    except (AttributeError, OSError):
        return cores


class _TrainingThreads:
    """A stack of counts: the outermost block saves BLAS's setting and restores it; an
    inner block at another count sets its own and puts the outer one back."""

    def __init__(self) -> None:
        self._counts: list[int] = []  # the blocks' counts, outermost first
        self._saved: list[tuple[object, int]] = []
        self._lock = threading.Lock()
        self._libs: list | None = None
        self.forced: int | None = None  # using(): every block at this count
        self.pinned: int | None = None  # pin(): the count never changes

    def _blas_libs(self) -> list:
        if self._libs is None:
            from threadpoolctl import ThreadpoolController  # scans loaded libraries once (~10 ms)

            self._libs = list(ThreadpoolController().select(user_api="blas").lib_controllers)
        return self._libs

    def _set(self, n: int) -> None:
        for lib in self._blas_libs():
            lib.set_num_threads(n)

    def push(self, threads: int) -> None:
        n = self.pinned or self.forced or threads
        with self._lock:
            if not self._counts:
                self._saved = [(lib, lib.num_threads) for lib in self._blas_libs()]
                if self.pinned is None:
                    self._set(n)
            elif n != self._counts[-1] and self.pinned is None:
                self._set(n)
            self._counts.append(n)

    def pop(self) -> None:
        with self._lock:
            n = self._counts.pop()
            if self.pinned is not None:
                pass
            elif not self._counts:
                for lib, saved in self._saved:
                    lib.set_num_threads(saved)
                self._saved = []
            elif self._counts[-1] != n:
                self._set(self._counts[-1])

    @property
    def active(self) -> bool:
        return bool(self._counts)


_LIMIT = _TrainingThreads()


class _Block:
    """One `with` block at a count (re-entrant through _LIMIT's stack)."""

    __slots__ = ("threads",)

    def __init__(self, threads: int) -> None:
        self.threads = threads

    def __enter__(self) -> _Block:
        _LIMIT.push(self.threads)
        return self

    def __exit__(self, *exc) -> None:
        _LIMIT.pop()


_DEFAULT_BLOCK = _Block(TRAINING_THREADS)


def training_threads(threads: int = TRAINING_THREADS) -> _Block:
    """A context manager: BLAS runs `threads` threads inside, as before after."""
    return _DEFAULT_BLOCK if threads == TRAINING_THREADS else _Block(threads)


@contextmanager
def using(threads: int):
    """Training inside this block uses `threads` BLAS threads, whatever the rule says
    (for measuring the choice)."""
    saved, _LIMIT.forced = _LIMIT.forced, threads
    try:
        yield
    finally:
        _LIMIT.forced = saved


def pin(threads: int) -> None:
    """From now on no block changes BLAS's count (the caller has set it to `threads`)."""
    _LIMIT.pinned = threads


def limits_blas(method):
    """Decorator: the method runs inside training_threads(self.blas_threads) (the default
    count when its object has none)."""

    @functools.wraps(method)
    def limited(self, *args, **kwargs):
        _LIMIT.push(getattr(self, "blas_threads", TRAINING_THREADS))
        try:
            return method(self, *args, **kwargs)
        finally:
            _LIMIT.pop()

    return limited


def blas_threads() -> list[int]:
    """The current thread count of each BLAS library NumPy loaded (for reports and tests)."""
    return [lib.num_threads for lib in _LIMIT._blas_libs()]
