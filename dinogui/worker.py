"""The training thread: a QObject that steps a Trainer and reports in batches.

The worker lives in its own QThread and owns the trainer while it is attached:
the window never calls a trainer method itself. Its loop is busy while it
trains, so it is steered by flags it reads between steps (start, pause, stop)
and by jobs, small functions of the trainer that it runs between two steps.
Everything it tells the window goes through signals, which Qt queues to the
window's thread:

    progress(ProgressBatch)  every ~250 ms while training: the steps since the last batch
                             (and the Health tab's figures of the steps it watched)
    stopped(Stopped)         training ended: paused, budget reached, patience used up,
                             diverged, the loss blew up (core/blowup.py), one step done
    answered(Answer)         the result of a job asked for with ask()

Jobs: `ask(fn, callback)` runs fn(trainer) between steps and hands the result
to callback in the window's thread; `call(fn)` waits for it instead (for
shutdown, tests and anything that must finish before the window goes on).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future

from PySide6.QtCore import QObject, QThread, Signal, Slot

from dinogui import qt_guard
from dinogui.core.blowup import BlowupWatch
from dinogui.core.health import HealthSample
from dinogui.core.loop import STEPS, UNTIL, StepLoop
from dinogui.core.threads import TRAINING_THREADS, training_threads
from dinogui.core.trainer import StepResult, Trainer
from dinogui.document.messages import Answer, ProgressBatch, Stopped

# seconds between progress signals: at most 4 a second. Each wakes the window's thread, which
# then takes the GIL from the training thread; a hand-over costs training more than the
# window's work (measured: 12.5 signals a second kept ~89% of the headless speed, 4 ~95%)
EMIT_INTERVAL = 0.25


class TrainingWorker(QObject):
    progress = Signal(object)  # ProgressBatch
    stopped = Signal(object)  # Stopped
    answered = Signal(object)  # Answer

    def __init__(self) -> None:
        super().__init__()
        self._cond = threading.Condition()
        self._trainer: Trainer | None = None
        self._watch: BlowupWatch | None = None  # the attached trainer's, from its attaching on
        self._generation = 0
        self._jobs: list[tuple[Callable, Future]] = []
        self._running = False  # read between steps; cleared by pause()
        self._until: int | None = None  # stop when the iteration reaches this (None: never)
        self._steps: int | None = None  # or after this many steps (Step)
        self._health_every = 0  # watch every this many steps for the Health tab (0: never)
        self._quit = False
        self._looping = False
        self._start_pending = False
        self.ready = threading.Event()  # set once the loop takes jobs

    # -- called from the window's thread ----------------------------------------
    def start(self, until: int | None = None, steps: int | None = None) -> None:
        """Train until the iteration count reaches `until` or for `steps` steps."""
        with self._cond:
            self._until, self._steps, self._running = until, steps, True
            self._start_pending = True  # answered by a `stopped`, even if paused at once
            self._cond.notify()

    def set_until(self, until: int | None) -> None:
        self._until = until

    def set_health_every(self, every: int) -> None:
        """Watch every `every`-th step (iteration % every == 0) for the Health tab; 0: none."""
        self._health_every = max(0, int(every))

    def pause(self) -> None:
        """Stop after the step in progress (a no-op when idle)."""
        self._running = False

    def shutdown(self) -> None:
        """End the loop (and with it the thread's work) after the step in progress."""
        with self._cond:
            self._running = False
            self._quit = True
            self._cond.notify()

    def ask(self, fn: Callable[[Trainer | None], object], callback: Callable) -> Future:
        """Run fn(trainer) between steps; callback(result, error) then runs in the window."""
        future: Future = Future()

        def done(f: Future) -> None:
            self.answered.emit(Answer(callback, *(_outcome(f))))

        future.add_done_callback(done)
        self._submit(fn, future)
        return future

    def call(self, fn: Callable[[Trainer | None], object], timeout: float | None = 30.0):
        """Run fn(trainer) between steps and return its result (or raise its error)."""
        future: Future = Future()
        self._submit(fn, future)
        return future.result(timeout)

    def attach(self, trainer: Trainer | None) -> int:
        """Make `trainer` the one trained (pausing first); returns its generation number."""
        self.pause()

        def swap(_old) -> int:
            self._trainer = trainer
            self._watch = None if trainer is None else BlowupWatch(trainer)
            self._generation += 1
            return self._generation

        return self.call(swap)

    @property
    def generation(self) -> int:
        return self._generation

    @property
    def is_training(self) -> bool:
        return self._running

    # -- the worker's thread ----------------------------------------------------
    def _submit(self, fn: Callable, future: Future) -> None:
        with self._cond:
            run_directly = not self._looping
            if not run_directly:
                self._jobs.append((fn, future))
                self._cond.notify()
        if run_directly:  # no loop to run it (not started yet, or shut down): do it here
            _run_job(fn, future, self._trainer)

    def _run_jobs(self) -> None:
        with self._cond:
            jobs, self._jobs = self._jobs, []
        for fn, future in jobs:
            _run_job(fn, future, self._trainer)

    @Slot()
    def loop(self) -> None:
        """Wait for work, train, repeat until shutdown(); connected to QThread.started."""
        with self._cond:
            self._looping = True
        self.ready.set()
        try:
            while True:
                with self._cond:
                    while not (self._quit or self._jobs or self._start_pending):
                        self._cond.wait()
                    if self._quit:
                        break
                    started, self._start_pending = self._start_pending, False
                self._run_jobs()
                if started:
                    if self._trainer is None:
                        self._running = False
                        self.stopped.emit(Stopped(self._generation, "paused", 0))
                    else:
                        self._train()
        finally:
            with self._cond:
                self._looping = False
            self._run_jobs()  # anything asked in the meantime still gets an answer
            QThread.currentThread().quit()

    def _train(self) -> None:
        """One run through core.loop's StepLoop; the worker adds jobs and pausing (between
        steps), the progress signals (batched) and the stopped signal."""
        trainer, generation = self._trainer, self._generation
        budget_steps, self._steps = self._steps, None
        batches = _Batches(self, generation, trainer)
        loop = StepLoop(trainer, steps=budget_steps, watch=self._watch,
                        on_step=batches.add, catch_failures=True)

        def should_stop() -> str | None:
            if self._jobs:
                self._run_jobs()
                if self._trainer is not trainer:  # a job swapped the trainer
                    return "paused"
            if not self._running or self._quit:
                return "paused"
            loop.until, loop.health_every = self._until, self._health_every  # set any time
            return None

        loop.should_stop = should_stop
        with training_threads():
            end = loop.run()
        self._running = False
        batches.flush()
        reason = WORKER_REASONS.get(end.reason, end.reason)
        self.stopped.emit(Stopped(generation, reason, trainer.iteration, end.message,
                                  end.blowup, trainer.config))


# what the window calls the loop's reasons to stop (core.loop)
WORKER_REASONS = {UNTIL: "budget", STEPS: "step"}


class _Batches:
    """The steps since the last progress signal, sent every EMIT_INTERVAL; the trainer's
    training time is counted here too (wall time, the signals' work included)."""

    def __init__(self, worker: TrainingWorker, generation: int, trainer: Trainer) -> None:
        self.worker, self.generation, self.trainer = worker, generation, trainer
        self.steps: list[StepResult] = []
        self.health: list[HealthSample] = []  # the watched steps' figures since the last batch
        self.last_emit = self.mark = time.perf_counter()

    def add(self, r: StepResult, health: HealthSample | None) -> None:
        self.steps.append(r)
        if health is not None:
            self.health.append(health)
        now = time.perf_counter()
        if now - self.last_emit >= EMIT_INTERVAL:
            self.flush(now)

    def flush(self, now: float | None = None) -> None:
        """Count the time since the last flush, and send the steps since then (if any)."""
        now = time.perf_counter() if now is None else now
        self.trainer.state.seconds += now - self.mark
        self.mark = self.last_emit = now
        if self.steps:
            self.worker.progress.emit(ProgressBatch.from_steps(
                self.generation, self.steps, self.trainer, now, self.health))
        self.steps, self.health = [], []


def _run_job(fn: Callable, future: Future, trainer: Trainer | None) -> None:
    if not future.set_running_or_notify_cancel():
        return
    try:
        future.set_result(fn(trainer))
    except BaseException as e:  # handed to whoever asked, never lost in the thread
        future.set_exception(e)


def _outcome(future: Future) -> tuple[object, BaseException | None]:
    error = future.exception()
    return (None, error) if error is not None else (future.result(), None)


def pin_blas_threads() -> None:
    """Keep BLAS at the training thread count for the whole process (call once, at start).

    The window's process trains only in its worker thread, so nothing gains from
    more BLAS threads here, and a count that changes hands between threads is
    costly: after the main thread had set OpenBLAS to one thread and back
    (core.threads does so around any training), training under the one-thread
    limit in another thread ran 5-10x slower on this machine (numpy 2's
    OpenBLAS 0.3.31). With the count fixed, entering and leaving the limit
    changes nothing.
    """
    from threadpoolctl import threadpool_limits

    from dinogui.core import threads

    global _PINNED
    if _PINNED is None:
        _PINNED = threadpool_limits(limits=TRAINING_THREADS, user_api="blas")
        threads.pin(TRAINING_THREADS)  # and no trainer's larger count changes it


_PINNED = None


class WorkerThread:
    """A TrainingWorker in its own QThread, started and shut down as a pair."""

    def __init__(self) -> None:
        qt_guard.guard()
        self.worker = TrainingWorker()
        self.thread = QThread()
        self.thread.setObjectName("dinogui-training")
        self.worker.moveToThread(self.thread)
        self.thread.started.connect(self.worker.loop)

    def start(self) -> None:
        self.thread.start()
        # jobs asked before the loop runs would otherwise run in the asking thread
        self.worker.ready.wait(5.0)

    def stop(self, timeout_ms: int = 5000) -> bool:
        """Shut the loop down and wait for the thread to end; True when it has."""
        self.worker.shutdown()
        self.thread.quit()
        return self.thread.wait(timeout_ms)
