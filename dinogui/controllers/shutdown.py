"""SIGTERM and SIGHUP (logout, shutdown, `kill`) close the window as Quit does, so the
autosave is written before the process ends.

Python runs a signal handler only when the interpreter next executes bytecode, and a
window waiting in Qt's event loop executes none. The standard cure is the self-pipe:
signal.set_wakeup_fd() makes the C-level handler write a byte to a socket, a
QSocketNotifier on the other end wakes the event loop, and the Python handler runs
right away. Unlike a periodic no-op timer it costs nothing while nothing happens (no
wake-ups of the window's thread, which would take the GIL from training).
"""

from __future__ import annotations

import signal
import socket
import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, QSocketNotifier, QTimer

SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


class TerminationWatch(QObject):
    """While installed, SIGTERM/SIGHUP call on_signal(signum) in the event loop's thread."""

    def __init__(self, on_signal: Callable[[int], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._on_signal = on_signal
        self._previous: dict[int, object] = {}
        self._previous_fd: int | None = None
        self._notifier: QSocketNotifier | None = None
        self._sockets: tuple[socket.socket, socket.socket] | None = None

    def install(self) -> bool:
        """Take over the signals (main thread only); False when that is not possible."""
        if threading.current_thread() is not threading.main_thread() or self._sockets:
            return False
        reader, writer = socket.socketpair()
        reader.setblocking(False)
        writer.setblocking(False)
        self._sockets = (reader, writer)
        self._previous_fd = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
        self._notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._drain)
        for sig in SIGNALS:
            self._previous[sig] = signal.signal(sig, self._handle)
        return True

    def uninstall(self) -> None:
        if self._sockets is None:
            return
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)
        self._previous.clear()
        signal.set_wakeup_fd(self._previous_fd if self._previous_fd is not None else -1)
        self._notifier.setEnabled(False)
        for s in self._sockets:
            s.close()
        self._sockets = None

    def _drain(self, *_args) -> None:
        """The wake-up: by now the Python handler has run; empty the socket."""
        try:
            while self._sockets is not None and self._sockets[0].recv(64):
                pass
        except (BlockingIOError, OSError):
            pass

    def _handle(self, signum: int, _frame) -> None:
        # not inside whatever Python code the signal interrupted: from the event loop
        QTimer.singleShot(0, lambda: self._on_signal(signum))
