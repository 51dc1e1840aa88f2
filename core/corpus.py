"""Name lists: reading a corpus file, its vocabulary and its statistics."""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path

import numpy as np

END = "\n"  # end-of-name symbol, always index 0
MAX_CORPUS_BYTES = 50 * 1024 * 1024  # larger than any name list: refuse it


class CorpusError(ValueError):
    """A corpus file that cannot be used, with a message fit for the user."""


@dataclass(frozen=True)
class Vocab:
    """Characters of a corpus; index 0 is the end-of-name newline."""

    chars: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.chars or self.chars[0] != END:
            raise ValueError("a vocabulary starts with the newline symbol")
        if len(set(self.chars)) != len(self.chars):
            raise ValueError("a vocabulary has each character once")
        object.__setattr__(self, "_stoi", {ch: i for i, ch in enumerate(self.chars)})

    @classmethod
    def from_names(cls, names: list[str]) -> Vocab:
        # sorted(set(data)) as the seed does, with newline forced to the front
        # (a tab or other control character would otherwise sort before it)
        return cls((END, *sorted(set("".join(names)) - {END})))

    @property
    def size(self) -> int:
        return len(self.chars)

    @property
    def stoi(self) -> dict[str, int]:
        return self._stoi  # type: ignore[attr-defined]

    def encode(self, name: str) -> list[int]:
        try:
            return [self.stoi[ch] for ch in name]
        except KeyError as e:
            raise ValueError(f"character {e.args[0]!r} is not in the vocabulary") from None

    def decode(self, indices) -> str:
        return "".join(self.chars[i] for i in indices if i != 0)

    def missing(self, text: str) -> set[str]:
        """Characters of `text` that this vocabulary cannot encode."""
        return set(text) - set(self.chars)


@dataclass(frozen=True)
class CorpusStats:
    names: int
    characters: int  # letters in all names, newlines not counted
    vocab_size: int
    shortest: int
    longest: int
    mean_length: float
    duplicates: int  # names that repeat an earlier one


@dataclass
class Corpus:
    """Cleaned names in file order, with the vocabulary built from them.

    held_out: names given apart (`train --val-file`): the held-out names of every run on
    this corpus, never trained on, so a name of `names` that is also here is not trained on.
    """

    names: list[str]
    vocab: Vocab
    source: str = "<memory>"
    lowercase: bool = True
    duplicates: list[str] = field(default_factory=list)
    held_out: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        # escaped: a checkpoint's stored path is printed, and may be anyone's
        return escape_controls(Path(self.source).stem if self.source != "<memory>" else self.source)

    def stats(self) -> CorpusStats:
        lengths = np.array([len(n) for n in self.names])
        return CorpusStats(
            names=len(self.names),
            characters=int(lengths.sum()),
            vocab_size=self.vocab.size,
            shortest=int(lengths.min()),
            longest=int(lengths.max()),
            mean_length=float(lengths.mean()),
            duplicates=len(self.duplicates),
        )

    def length_histogram(self) -> tuple[np.ndarray, np.ndarray]:
        """(lengths, counts) for every name length from shortest to longest."""
        lengths = np.array([len(n) for n in self.names])
        counts = np.bincount(lengths)
        xs = np.arange(lengths.min(), lengths.max() + 1)
        return xs, counts[xs]

    def name_set(self) -> frozenset[str]:
        return frozenset(self.names)


def clean_names(lines: list[str], lowercase: bool = True) -> tuple[list[str], list[str]]:
    """Strip, drop blanks, optionally lower-case.

    Returns (names, duplicates). Repeated names stay in training, as in the
    seed (its 1,536 dinosaurs hold 12 repeats), and are reported so the user knows.
    """
    names, dupes, seen = [], [], set()
    for line in lines:
        name = line.strip()
        if lowercase:
            name = name.lower()
        if not name:
            continue
        if name in seen:
            dupes.append(name)
        seen.add(name)
        names.append(name)
    return names, dupes


def corpus_from_names(lines: list[str], lowercase: bool = True, source: str = "<memory>") -> Corpus:
    """A corpus from a file's lines (line i is lines[i - 1]); CorpusError if unusable."""
    check_lines(lines, source)
    names, dupes = clean_names(lines, lowercase)
    if not names:
        raise CorpusError(f"{escape_controls(source)}: no names in it (the file is empty or blank)")
    return Corpus(names, Vocab.from_names(names), source, lowercase, dupes)


MAX_SHOWN_CHARS = 10  # characters a refused held-out file's message lists


def hold_out(corpus: Corpus, held: Corpus) -> Corpus:
    """`corpus` with `held`'s names as its held-out names (Corpus.held_out), or CorpusError:
    when they share no character, when `held` has characters the corpus's vocabulary lacks
    (the model could not score them), or when no corpus name would be left to train on."""
    where, title = escape_controls(held.source), corpus.title
    text = "".join(held.names)
    if not set(text) & set(corpus.vocab.chars):
        raise CorpusError(f"{where}: shares no character with {title}: held-out names must be "
                          "of the same kind as the corpus's")
    missing = sorted(corpus.vocab.missing(text))
    if missing:
        shown = ", ".join(f"'{escape_controls(ch)}'" for ch in missing[:MAX_SHOWN_CHARS])
        more = f" and {len(missing) - MAX_SHOWN_CHARS} more" \
            if len(missing) > MAX_SHOWN_CHARS else ""
        raise CorpusError(f"{where}: has {len(missing)} character"
                          f"{'s' if len(missing) > 1 else ''} that {title} never uses "
                          f"({shown}{more}): the model could not score those names")
    apart = set(held.names)
    if all(name in apart for name in corpus.names):
        raise CorpusError(f"{where}: holds every name of {title}: no name would be left to "
                          "train on")
    return replace(corpus, held_out=list(held.names))


# -- what a name may hold ------------------------------------------------------

MAX_NAME_CHARS = 1000  # as TrainConfig.max_len allows: a longer "name" is not one
# Control characters (C0 but the line breaks, DEL, C1) and the Unicode line and
# paragraph separators: printed, they could move the cursor, clear the screen or
# set the terminal title, and a separator would split a name across lines.
CONTROL = re.compile("[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")
CONTROL_NAMES = {"\x00": "NUL", "\x07": "BEL", "\x08": "BS", "\x09": "tab", "\x0b": "VT",
                 "\x0c": "FF", "\x1b": "ESC", "\x7f": "DEL", "\x85": "NEL",
                 "\u2028": "LINE SEPARATOR", "\u2029": "PARAGRAPH SEPARATOR"}


# What is escaped wherever a file's text is printed: every C0 control (tab, CR and newline
# too: a file's text never spans lines in a message), DEL, C1, the line and paragraph
# separators, and the bidirectional marks, embeddings, overrides and isolates, which
# would reorder what follows them on the line (U+202E shows "exe.txt" as "txt.exe"); and lone
# surrogates (a JSON header's "\ud800"), which no terminal encoding can print.
UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029"
                         "\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
MAX_QUOTE = 200  # characters of a file's text quoted in one message


def escape_controls(text: str) -> str:
    """`text` with every control and bidi character shown as an escape (\\x1b, \\u202e),
    safe to print."""
    return UNPRINTABLE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def shorten(text: str, limit: int = MAX_QUOTE) -> str:
    """`text` cut to at most `limit` characters, an ellipsis marking the cut."""
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def quote(text, limit: int = MAX_QUOTE) -> str:
    """A file's text (or any value, by its str) fit for a one-line message: controls and bidi
    escaped, at most `limit` characters. The one helper every message that quotes a file
    uses."""
    return shorten(escape_controls(str(text)), limit)


def describe_char(ch: str) -> str:
    name = CONTROL_NAMES.get(ch)
    return f"U+{ord(ch):04X}" + (f" {name}" if name else "")


def check_lines(lines: list[str], source: str) -> None:
    """Refuse control characters, tabs inside names and over-long names, by line number.

    A tab at either end of a line is whitespace, stripped like a space; one
    inside a name would break the tab-separated `sample --scores` output.
    """
    where = escape_controls(source)
    for number, line in enumerate(lines, 1):
        problem = _line_problem(line)
        if problem:
            more = sum(1 for rest in lines[number:] if _line_problem(rest))
            also = f" (and {more:,} more line{'s' if more != 1 else ''})" if more else ""
            raise CorpusError(f"{where}: line {number}{also} {problem}")


def _line_problem(line: str) -> str | None:
    bad = CONTROL.search(line.replace("\t", ""))
    if bad:
        return (f"holds the control character {describe_char(bad.group())}; a name "
                "cannot hold control characters: remove it and try again")
    if "\t" in line.strip():
        return "has a tab inside a name; a name cannot hold tabs: remove it and try again"
    if len(line) > MAX_NAME_CHARS and len(line.strip()) > MAX_NAME_CHARS:
        return (f"is {len(line.strip()):,} characters long; a name may have at most "
                f"{MAX_NAME_CHARS:,} (is this a list of names, one per line?)")
    return None


# -- reading a file --------------------------------------------------------------

CHUNK = 1 << 20  # bytes per read: files, pipes and devices are read the same way
SNIFF = 4096  # leading bytes that tell UTF-16 from binary
IDLE_SECONDS = 30.0  # a pipe whose writer sends nothing for this long is given up on
UTF16_LE, UTF16_BE = b"\xff\xfe", b"\xfe\xff"
BOM = "\ufeff"
UTF32_BOMS = (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")


def read_bytes_limited(path: str | os.PathLike, limit: int | None = None) -> bytes:
    """At most `limit` bytes of a file, pipe or device, or CorpusError.

    Opened non-blocking, so that opening a named pipe with no writer does not
    wait forever: a writer gets IDLE_SECONDS to turn up and to send each chunk.
    A pipe being written (a shell's `<(...)`, /dev/stdin) is read as it
    arrives. Reading stops at limit + 1
    bytes, so /dev/zero or an endless pipe is refused, never read whole; a NUL
    byte outside UTF-16 means a binary file, refused at the chunk that holds it.
    """
    p, shown = Path(path), escape_controls(str(path))
    limit = MAX_CORPUS_BYTES if limit is None else limit
    try:
        st = p.stat()
    except FileNotFoundError:
        raise CorpusError(f"{shown}: no such file") from None
    except (OSError, ValueError) as e:
        raise CorpusError(f"{shown}: cannot be read ({_reason(e)})") from None
    if stat.S_ISDIR(st.st_mode):
        raise CorpusError(f"{shown}: is a folder, not a text file with one name per line")
    if stat.S_ISREG(st.st_mode) and st.st_size > limit:
        raise CorpusError(_too_large(shown, st.st_size, limit))
    try:
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except (OSError, ValueError) as e:
        raise CorpusError(f"{shown}: cannot be read ({_reason(e)})") from None
    chunks, total, text_like = [], 0, None
    fifo, waited = stat.S_ISFIFO(st.st_mode), False
    try:
        while total <= limit:
            try:
                chunk = os.read(fd, min(CHUNK, limit + 1 - total))
            except BlockingIOError:  # a pipe whose writer has not written yet
                if not _wait_readable(fd):
                    raise CorpusError(f"{shown}: nothing arrived for {IDLE_SECONDS:.0f} s; "
                                      "is anything writing to it?") from None
                continue
            if not chunk:
                if fifo and not chunks and not waited:
                    # a named pipe no writer has opened yet reads as empty: give one a while
                    waited = True
                    if _wait_readable(fd):
                        continue
                    raise CorpusError(f"{shown}: is a pipe nothing wrote to in "
                                      f"{IDLE_SECONDS:.0f} s") from None
                break
            chunks.append(chunk)
            total += len(chunk)
            if text_like is None and total >= SNIFF:  # enough to tell UTF-16 from binary
                text_like = not _looks_utf16(b"".join(chunks)[:SNIFF])
            if text_like and b"\x00" in chunk:
                raise CorpusError(_binary(shown))
    except OSError as e:
        raise CorpusError(f"{shown}: cannot be read ({_reason(e)})") from None
    finally:
        os.close(fd)
    if total > limit:
        raise CorpusError(_too_large(shown, None, limit))
    return b"".join(chunks)


def _wait_readable(fd: int) -> bool:
    """True once fd has data (or its writer left); False after IDLE_SECONDS of silence."""
    import select

    return bool(select.select([fd], [], [], IDLE_SECONDS)[0])


def _looks_utf16(head: bytes) -> bool:
    """A UTF-16 byte-order mark, or NULs at most even (or odd) bytes and few at the others."""
    if head.startswith(UTF32_BOMS):
        return False  # refused as binary: UTF-32 is rare enough to ask for a conversion
    if head.startswith((UTF16_LE, UTF16_BE)):
        return True
    sample = head[:SNIFF]
    half = len(sample) // 2
    if half < 2:
        return False
    zeros = sorted((sample[0::2].count(0), sample[1::2].count(0)))
    return zeros[1] >= 0.6 * half and zeros[0] <= 0.1 * half


def _binary(shown: str) -> str:
    return (f"{shown}: is a binary file, not text: save the names as UTF-8 text, "
            "one name per line")


def _too_large(shown: str, size: int | None, limit: int) -> str:
    how = f"{size / 2**20:.0f} MB" if size is not None else f"more than {limit // 2**20} MB"
    return f"{shown}: {how} is too large for a name list (the limit is {limit // 2**20} MB)"


def _reason(e: Exception) -> str:
    return escape_controls(getattr(e, "strerror", None) or str(e))


def decode(raw: bytes, shown: str) -> str:
    """UTF-8 (with or without a byte-order mark) or UTF-16 with one; CorpusError otherwise."""
    if raw.startswith((UTF16_LE, UTF16_BE)):
        codec = "utf-16-le" if raw.startswith(UTF16_LE) else "utf-16-be"
        try:
            return raw[2:].decode(codec)
        except UnicodeDecodeError as e:
            raise CorpusError(f"{shown}: is UTF-16 with a damaged character at byte "
                              f"{e.start + 2}; save it as UTF-8 and try again") from None
    if _looks_utf16(raw):
        raise CorpusError(f"{shown}: looks like UTF-16 without a byte-order mark; "
                          "save it as UTF-8 and try again")
    if b"\x00" in raw:
        raise CorpusError(_binary(shown))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise CorpusError(
            f"{shown}: is not UTF-8 text (undecodable byte at offset {e.start}); "
            "save it as UTF-8 and try again"
        ) from None


def read_text(path: str | os.PathLike) -> str:
    """Read a name list, turning every way it can fail into a CorpusError naming the file."""
    return decode(read_bytes_limited(path), escape_controls(str(path)))


def split_lines(text: str) -> list[str]:
    """Lines split at \\n, \\r\\n and \\r, each without a leading byte-order mark.

    Only these three end a line (str.splitlines would also split at form feeds
    and separators, which check_lines refuses instead). A mark starts every line
    that began a file, so files joined with `cat` lose all of theirs.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the final newline ends the last line; it does not start another
    return [line.lstrip(BOM) for line in lines]


def load_corpus(path: str | os.PathLike, lowercase: bool = True) -> Corpus:
    return corpus_from_names(split_lines(read_text(path)), lowercase, source=str(path))


BUNDLED_NAME = "dinosaurs.txt"


def bundled_corpus_path() -> Path:
    """The dinosaur genus list shipped with the package.

    Installed, it is package data of `dinogui.data`; in a source checkout (or an
    editable install, whose finder does not map that folder) it is `data/`.
    """
    try:
        installed = Path(str(resources.files("dinogui.data") / BUNDLED_NAME))
        if installed.is_file():
            return installed
    except ModuleNotFoundError:
        pass
    return Path(__file__).resolve().parent.parent / "data" / BUNDLED_NAME
