"""Reading the .npz checkpoints of earlier versions (a zip of .npy files), guarded.

A hostile or damaged zip must not reach a library traceback, a pickle, or a
decompression that fills memory. So: only members with known names are ever
opened (others are skipped unread); encrypted members and compression methods
other than stored/deflate are refused; each member's .npy header is read before
its data, object dtypes are refused (they would need unpickling), and the
declared size must agree with the member's size, which itself must be plausible
for its compressed size (no zip bombs); the data is then read to its end, so the zip's CRC is
checked. The caller judges each array's declared dtype and shape before
reading it.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from pathlib import Path

import numpy as np

from .checkpoint_format import Damaged, Entry
from .corpus import quote

MAGIC = b"PK\x03\x04"
KNOWN = re.compile(r"(meta|names|state/[a-z_]+|(param|best|hist)/[A-Za-z_0-9]+"
                   r"|opt/[a-z]+/[A-Za-z_0-9]+)\.npy")
MAX_NPY_HEADER = 10_000
# a deflated member may inflate to 64 MB, or 50 times its size: float arrays deflate by
# far less, so a larger ratio is a zip bomb (deflate itself allows 1032)
MAX_INFLATED = 64 * 2**20
DEFLATE_RATIO = 50


class Pickled(Damaged):
    """A member holds Python objects (reading them would mean unpickling)."""


class LegacyNpz:
    """An .npz checkpoint opened for reading: `entries` (name -> Entry), then read()."""

    def __init__(self, path: Path, known: re.Pattern = KNOWN) -> None:
        """known: the member names ever opened (others are skipped unread)."""
        self._archive_size = path.stat().st_size
        try:
            self._zip = zipfile.ZipFile(path)
        except zipfile.BadZipFile as e:
            raise Damaged(f"its zip directory is broken ({e})") from None
        except (OSError, EOFError, ValueError, NotImplementedError, OverflowError,
                UnicodeDecodeError, IndexError) as e:
            raise Damaged(f"its zip directory is broken ({type(e).__name__})") from None
        try:
            self.entries: dict[str, Entry] = {}
            self._members: dict[str, tuple[zipfile.ZipInfo, int]] = {}
            for info in self._zip.infolist():
                if known.fullmatch(info.filename):
                    self._add(info)
        except BaseException:
            self._zip.close()
            raise

    def __enter__(self) -> LegacyNpz:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._zip.close()

    def _add(self, info: zipfile.ZipInfo) -> None:
        name = info.filename[: -len(".npy")]
        if name in self.entries:
            raise Damaged(f"it holds the member '{quote(name, 80)}' twice")
        if info.flag_bits & 0x1:
            raise Damaged(f"its member '{quote(name, 80)}' is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise Damaged(f"its member '{quote(name, 80)}' uses compression method "
                          f"{info.compress_type}, "
                          "which dinogui never writes")
        if info.compress_type == zipfile.ZIP_STORED:
            limit = info.compress_size
        else:  # dinogui stored its members; a re-zipped file may deflate them
            limit = max(MAX_INFLATED, DEFLATE_RATIO * info.compress_size)
        if info.file_size > limit or info.compress_size > self._archive_size:
            raise Damaged(f"its member '{quote(name, 80)}' declares an impossible size")
        with self._open(info) as f:
            entry, header_len = _npy_header(f, name)
        if header_len + entry.nbytes != info.file_size:
            raise Damaged(f"its member '{quote(name, 80)}' is not the size its header declares")
        self.entries[name] = entry
        self._members[name] = (info, header_len)

    def _open(self, info: zipfile.ZipInfo):
        try:
            return self._zip.open(info)
        except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, RuntimeError,
                EOFError) as e:
            raise Damaged(f"its member '{quote(info.filename, 80)}' cannot be opened "
                          f"({quote(e, 120)})") from None

    def read(self, name: str) -> np.ndarray:
        """The array's values (its dtype and shape as `entries` declared), CRC checked."""
        info, header_len = self._members[name]
        entry = self.entries[name]
        try:
            with self._open(info) as f:
                f.read(header_len)
                data = f.read(entry.nbytes + 1)  # one more: there must be nothing after
        except (zipfile.BadZipFile, OSError, EOFError, zlib.error, ValueError) as e:
            raise Damaged(f"its member '{quote(name, 80)}' is damaged ({e})") from None
        if len(data) != entry.nbytes:
            raise Damaged(f"its member '{quote(name, 80)}' is not the size its header declares")
        return np.frombuffer(data, dtype=entry.dtype).reshape(entry.shape).copy()


def _npy_header(f, name: str) -> tuple[Entry, int]:
    """The member's declared dtype and shape, and how many bytes its header takes."""
    try:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(
                f, max_header_size=MAX_NPY_HEADER)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(
                f, max_header_size=MAX_NPY_HEADER)
        else:
            raise Damaged(f"its member '{quote(name, 80)}' has .npy version {version}")
    except Damaged:
        raise
    except (ValueError, OSError, EOFError, zlib.error, zipfile.BadZipFile, SyntaxError,
            TypeError, MemoryError, RecursionError) as e:
        raise Damaged(f"its member '{quote(name, 80)}' is not a NumPy array "
                      f"({quote(e, 80)})") from None
    if dtype.hasobject:
        raise Pickled(name)
    if fortran and len(shape) > 1:
        raise Damaged(f"its member '{quote(name, 80)}' is stored in Fortran order, which dinogui "
                      "never writes")
    if len(shape) > 8 or any(d < 0 or d >= 2**62 for d in shape) or dtype.itemsize == 0:
        raise Damaged(f"its member '{quote(name, 80)}' has a malformed shape")
    return Entry(dtype, tuple(int(d) for d in shape)), f.tell()
