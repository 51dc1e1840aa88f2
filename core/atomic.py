"""Writing a file so that a failure, a kill or a full disk never leaves it half-written."""

from __future__ import annotations

import errno
import os
import stat
import tempfile
import time
from pathlib import Path

STALE_SECONDS = 60.0  # a temp file this old beside a target is left over from a killed save


def write_atomic(path: str | os.PathLike, data: bytes | memoryview) -> None:
    """Write to a temporary file beside `path`, then replace it: a failure leaves the old file.

    A symlink is followed (its target is replaced, the link stays), an existing
    file keeps its permissions, and temp files left beside it by a killed save
    are removed. An OSError names `path`, never the hidden temp file.
    """
    path = Path(path)
    target = Path(os.path.realpath(path))
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        mode = _existing_mode(target, path)
        remove_stale_temps(target)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as e:
        raise _naming(e, path) from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fchmod(f.fileno(), mode)
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException as e:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(e, OSError):
            raise _naming(e, path) from None
        raise


def probe_writable(path: str | os.PathLike) -> None:
    """Raise an OSError naming `path` unless a file can be written beside it (and remove it).

    The probe is named like write_atomic's temp files, so a probe left by a
    kill is cleaned up like them. Writing a block and syncing it catches a full
    disk, which creating an empty file does not.
    """
    path = Path(path)
    target = Path(os.path.realpath(path))
    tmp = None
    try:
        if not target.parent.is_dir():
            raise FileNotFoundError(errno.ENOENT, f"the folder {path.parent} does not exist")
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        with os.fdopen(fd, "wb") as f:
            f.write(bytes(4096))
            f.flush()
            os.fsync(f.fileno())
    except OSError as e:
        raise _naming(e, path) from None
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


def remove_stale_temps(target: Path, older_than: float = STALE_SECONDS) -> list[Path]:
    """Delete `.<name>.*.tmp` beside target older than `older_than` seconds; returns them."""
    now, removed = time.time(), []
    for tmp in target.parent.glob(f".{_glob_escape(target.name)}.*.tmp"):
        try:
            if tmp.is_file() and not tmp.is_symlink() and now - tmp.stat().st_mtime > older_than:
                tmp.unlink()
                removed.append(tmp)
        except OSError:
            pass  # another process's file, or gone already: not ours to worry about
    return removed


def _existing_mode(target: Path, path: Path) -> int:
    """The permissions to keep (or, for a new file, what open() would give it under the
    process's umask: mkstemp's 0600 would hide a shared checkpoint or a menu entry);
    a device, pipe or folder is refused, never replaced."""
    try:
        st = target.stat()
    except FileNotFoundError:
        return 0o666 & ~_umask()
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(errno.EISDIR, "is a folder", str(path))
    if not stat.S_ISREG(st.st_mode):
        raise OSError(errno.EINVAL, "is not a regular file (a device or a pipe?)", str(path))
    return stat.S_IMODE(st.st_mode)


def _umask() -> int:
    """The process's umask, read without changing it where Linux allows (other threads
    may be creating files); elsewhere by setting and restoring it."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _naming(e: OSError, path: Path) -> OSError:
    """The same error, about the user's path instead of whatever file the call touched."""
    return type(e)(e.errno, e.strerror or str(e), str(path))


def _glob_escape(name: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in name)
