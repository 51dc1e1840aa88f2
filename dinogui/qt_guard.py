"""A guard against a PySide6 6.12.0 bug that kills the process on Python 3.10 and 3.11.

PySide6 6.12.0 drops a reference to None every time a Qt method that returns
nothing (setText, setValue, setObjectName, ...) is called from Python, and
now and then one to True (measured here: about 370 per 3,000 training steps
of the live window). On Python 3.12 and later these objects are immortal and
nothing happens; on 3.10 and 3.11 they start with a few thousand references,
so after a few thousand such calls (a second or two of a live window) a count
reaches zero and Python aborts with "Fatal Python error: none_dealloc" (or
bool_dealloc). PySide6 6.11 does not do this.

guard() measures the leak once and, only if it is there, gives None, True and
False a reference count no program can use up, which is what Python 3.12
does for every interpreter.
"""

from __future__ import annotations

import ctypes
import sys

HEADROOM = 1 << 40  # references added to each: ~10^12 leaked calls before it matters
SINGLETONS = (None, True, False)  # immortal from Python 3.12 on, and what 6.12.0 leaks
_checked = False
_pinned = False


def leaked_per_call() -> int:
    """How many references to None one void Qt call loses (0 when PySide6 is sound)."""
    from PySide6.QtCore import QObject

    probe = QObject()
    calls = 16
    before = sys.getrefcount(None)
    for _ in range(calls):
        probe.setObjectName("probe")
    return max(0, round((before - sys.getrefcount(None)) / calls))


def guard() -> bool:
    """Protect the process if this PySide6 leaks references to None; True if it had to."""
    global _checked, _pinned
    if _checked:
        return _pinned
    _checked = True
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    if leaked_per_call() > 0:
        for obj in SINGLETONS:
            # ob_refcnt is the first field of every CPython object, at the address id() gives
            ctypes.c_ssize_t.from_address(id(obj)).value += HEADROOM
        _pinned = True
    return _pinned
