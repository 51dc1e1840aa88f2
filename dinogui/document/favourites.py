"""Sampled names with what produced them, the favourites a user stars, and their export.

A list of drawn names remembers the model that drew it as checkpoint bytes
taken between two training steps, at the moment of drawing (the weights,
optimizer state, loss history and iteration: core.checkpoint's own file).
So a favourite starred minutes later, while training has moved on, is still
exported with the very checkpoint, settings and seed that reproduce it:

    dinogui sample --checkpoint <export>.safetensors --count N --seed S ...  -> line `index + 1`

No Qt here: the panel shows these, the window fills them, and the export runs
off the window's thread.
"""

from __future__ import annotations

import json
import os
import shlex
import threading
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from dinogui.core import checkpoint
from dinogui.core.atomic import write_atomic
from dinogui.core.novelty import NearestNames
from dinogui.core.sampling import MAX_LEN, ConstraintsUnmet, NameSampler, SampleSpec, display_name

FORMAT = "dinogui-favourites"
VERSION = 1


def checkpoint_bytes(trainer) -> bytes:
    """The trainer as a checkpoint file's bytes, now (run between steps, on the worker)."""
    return checkpoint.to_bytes(trainer)


@dataclass(frozen=True)
class DrawSettings:
    """What `dinogui sample` needs to draw the same names again."""

    count: int
    seed: int
    spec: SampleSpec  # checked: max_len filled in, prefix and suffix as the model writes them
    best_iteration: int | None = None  # drawn from the best weights, kept at this iteration
    beam: bool = False  # the `count` most likely names by a beam as wide (no seed involved)

    def to_dict(self) -> dict:
        best = {} if self.best_iteration is None else {"best_iteration": self.best_iteration}
        beam = {"beam": self.count} if self.beam else {}
        return {"count": self.count, "seed": self.seed, **self.spec.to_dict(), **best, **beam}

    def cli_args(self) -> list[str]:
        s = self.spec
        args = ["--count", str(self.count)]
        args += ["--beam"] if self.beam else ["--seed", str(self.seed)]
        args += ["--temperature", repr(s.temperature), "--max-len", str(s.max_len)]
        if s.top_k is not None:
            args += ["--top-k", str(s.top_k)]
        if s.top_p is not None:
            args += ["--top-p", repr(s.top_p)]
        if s.prefix:
            args += ["--prefix", s.prefix]
        if s.suffix:
            args += ["--suffix", s.suffix]
        if s.min_len:
            args += ["--min-len", str(s.min_len)]
        if s.new_only:
            args.append("--new-only")
        if self.best_iteration is not None:
            args.append("--best")
        return args

    def describe(self) -> str:
        s = self.spec
        parts = ["most likely (beam)" if self.beam else f"seed {self.seed}",
                 f"temperature {s.temperature:g}"]
        if s.top_k is not None:
            parts.append(f"top-k {s.top_k}")
        if s.top_p is not None:
            parts.append(f"top-p {s.top_p:g}")
        if s.prefix:
            parts.append(f"starts {s.prefix!r}")
        if s.suffix:
            parts.append(f"ends {s.suffix!r}")
        if s.min_len:
            parts.append(f"{s.min_len}-{s.max_len} letters")
        elif s.max_len is not None and s.max_len != MAX_LEN:
            parts.append(f"at most {s.max_len} letters")
        if s.new_only:
            parts.append("new only")
        if self.best_iteration is not None:
            parts.append(f"best weights (iteration {self.best_iteration:,})")
        return ", ".join(parts)


@dataclass(eq=False)
class Source:
    """The model that drew a list, frozen when it drew it."""

    iteration: int
    config: dict  # TrainConfig.to_dict()
    corpus_title: str
    corpus_source: str
    checkpoint: bytes  # checkpoint_bytes() of the trainer at that iteration


@dataclass(frozen=True, eq=False)
class Sampled:
    """One drawn name and how the model sees it."""

    name: str  # as the model wrote it (lower-case for a lower-cased corpus)
    index: int  # its position in the draw (0-based)
    loglik_per_char: float  # nats; minus the loss per character
    nearest: str  # the closest corpus name
    distance: int  # its edit distance (0: the name is in the corpus)
    known: bool  # in the corpus
    settings: DrawSettings
    source: Source

    @property
    def display(self) -> str:
        return display_name(self.name)

    def record(self, checkpoint_file: str) -> dict:
        return {
            "name": self.display,
            "as_drawn": self.name,
            "loglik_per_char": round(self.loglik_per_char, 6),
            "nearest": display_name(self.nearest),
            "distance": self.distance,
            "in_corpus": self.known,
            "iteration": self.source.iteration,
            "checkpoint": checkpoint_file,
            "sampling": {**self.settings.to_dict(), "index": self.index},
            "command": shlex.join(["dinogui", "sample", "--checkpoint", checkpoint_file,
                                   *self.settings.cli_args()]) + f"  # line {self.index + 1}",
            "config": self.source.config,
            "corpus": {"title": self.source.corpus_title, "path": self.source.corpus_source},
        }


@dataclass
class DrawResult:
    """A scored list, what it took to draw it, and what fell short (if anything)."""

    rows: list[Sampled]
    settings: DrawSettings
    drawn: int  # candidates drawn
    not_new: int | None  # dropped as already in the corpus (None: not counted)
    wrong_ending: int | None
    problem: str = ""  # ConstraintsUnmet's message when too few names met the constraints


def draw_scored(sampler: NameSampler, count: int, seed: int, spec: SampleSpec,
                known: Collection[str], nearest: NearestNames, source: Source,
                best_iteration: int | None = None, beam: bool = False) -> DrawResult:
    """Draw as `dinogui sample` does (with beam: its --beam, the `count` most likely names),
    then score each name; off the window's thread.

    Impossible constraints raise ConstraintError before anything is drawn; too
    few names meeting them is not an error here: the names found are scored
    and `problem` says what fell short.
    """
    spec = spec.checked(sampler.vocab, sampler.max_len)
    settings = DrawSettings(count, seed, spec, best_iteration, beam)
    try:
        d = (sampler.beam(count, spec, known=known) if beam
             else sampler.draw(count, seed, spec, known=known))
        names, drawn, not_new, wrong, problem = d.names, d.drawn, d.not_new, d.wrong_ending, ""
    except ConstraintsUnmet as e:
        names, drawn, not_new, wrong, problem = e.found, e.drawn, None, None, str(e)
    scores = sampler.scores(names, nearest) if names else []
    rows = [Sampled(s.name, i, s.loglik_per_char, s.nearest, s.distance, s.name in known,
                    settings, source) for i, s in enumerate(scores)]
    if not spec.new_only:
        not_new = None
    if not spec.suffix:
        wrong = None
    return DrawResult(rows, settings, drawn, not_new, wrong, problem)


class NearestIndex:
    """One NearestNames per corpus, built on first use (in whichever thread asks first)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._names: Sequence[str] | None = None
        self._index: NearestNames | None = None

    def of(self, names: Sequence[str]) -> NearestNames:
        with self._lock:
            if self._names is not names:
                self._index, self._names = NearestNames(names), names
            return self._index


class Favourites:
    """Starred names in the order starred, one entry per name (the first draw that made it)."""

    def __init__(self) -> None:
        self._items: dict[str, Sampled] = {}

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, name: str) -> bool:
        return name in self._items

    def __iter__(self):
        return iter(list(self._items.values()))

    def add(self, item: Sampled) -> bool:
        if item.name in self._items:
            return False
        self._items[item.name] = item
        return True

    def remove(self, name: str) -> bool:
        return self._items.pop(name, None) is not None

    def names(self) -> list[str]:
        return [s.display for s in self._items.values()]


def export(favourites: Iterable[Sampled], names_path: str | os.PathLike) -> list[Path]:
    """Write the names, a JSON record of each, and the checkpoint(s) that drew them.

    names_path "x.txt" -> x.txt (the names), x.json, x.safetensors (or x-<iteration>.safetensors,
    one per model state, when the favourites come from several). Returns the files written.
    """
    items = list(favourites)
    if not items:
        raise ValueError("there are no favourites to export")
    txt = Path(names_path)
    if txt.suffix.lower() != ".txt":
        txt = txt.with_name(txt.name + ".txt")
    stem = txt.with_suffix("")
    sources: dict[int, Source] = {}
    for item in items:
        sources.setdefault(id(item.source), item.source)
    files: dict[int, Path] = {}
    for key, source in sources.items():
        if len(sources) == 1:
            path = stem.with_name(f"{stem.name}{checkpoint.SUFFIX}")
        else:
            path = stem.with_name(f"{stem.name}-{source.iteration}{checkpoint.SUFFIX}")
            n = 2
            while path in files.values():
                path = stem.with_name(f"{stem.name}-{source.iteration}-{n}{checkpoint.SUFFIX}")
                n += 1
        files[key] = path
    written = []
    for key, path in files.items():
        write_atomic(path, sources[key].checkpoint)
        written.append(path)
    record = {
        "format": FORMAT,
        "version": VERSION,
        "favourites": [item.record(files[id(item.source)].name) for item in items],
    }
    json_path = stem.with_name(f"{stem.name}.json")
    write_atomic(json_path, (json.dumps(record, indent=2) + "\n").encode("utf-8"))
    write_atomic(txt, ("\n".join(item.display for item in items) + "\n").encode("utf-8"))
    return [txt, json_path, *written]
