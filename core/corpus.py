"""Name lists: reading a corpus file, its vocabulary and its statistics."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
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
    """Cleaned names in file order, with the vocabulary built from them."""

    names: list[str]
    vocab: Vocab
    source: str = "<memory>"
    lowercase: bool = True
    duplicates: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return Path(self.source).stem if self.source != "<memory>" else self.source

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
    names, dupes = clean_names(lines, lowercase)
    if not names:
        raise CorpusError(f"{source}: no names in it (the file is empty or blank)")
    return Corpus(names, Vocab.from_names(names), source, lowercase, dupes)


def read_text(path: str | os.PathLike) -> str:
    """Read a UTF-8 name list, turning every way it can fail into a CorpusError."""
    p = Path(path)
    if not p.exists():
        raise CorpusError(f"{p}: no such file")
    if p.is_dir():
        raise CorpusError(f"{p}: is a folder, not a text file with one name per line")
    size = p.stat().st_size
    if size > MAX_CORPUS_BYTES:
        raise CorpusError(
            f"{p}: {size / 2**20:.0f} MB is too large for a name list "
            f"(the limit is {MAX_CORPUS_BYTES // 2**20} MB)"
        )
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise CorpusError(f"{p}: cannot be read ({e.strerror or e})") from None
    if b"\x00" in raw:
        raise CorpusError(f"{p}: is a binary file, not a text file with one name per line")
    try:
        return raw.decode("utf-8-sig")  # -sig drops a byte-order mark
    except UnicodeDecodeError as e:
        raise CorpusError(
            f"{p}: is not UTF-8 text (undecodable byte at offset {e.start}); "
            "save it as UTF-8 and try again"
        ) from None


def load_corpus(path: str | os.PathLike, lowercase: bool = True) -> Corpus:
    text = read_text(path)
    # splitlines handles \n, \r\n and \r alike
    return corpus_from_names(text.splitlines(), lowercase, source=str(path))


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
