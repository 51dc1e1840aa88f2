"""The Inspector's list of names: read from a file, scored by the model's snapshot in the
background (most likely first), then each name's nearest corpus name found a chunk at a
time. The view shows what this hands it, as the Samples panel shows sampling's draws."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject

from dinogui.controllers.shell import Shell
from dinogui.document.favourites import NearestIndex
from dinogui.document.name_scores import (
    ModelSnapshot,
    nearest_names,
    read_name_list,
    score_list,
)
from dinogui.widgets.inspector import InspectorView

MAX_LIST = 100_000  # names scored from one list
NEAREST_CHUNK = 50  # names per nearest-name search task (long random names take ~10 ms each)
NAME_FILTER = "Name lists (*.txt);;All files (*)"


class NameListScoring(QObject):
    def __init__(self, shell: Shell, view: InspectorView, nearest: NearestIndex) -> None:
        """nearest: the corpus's nearest-name index, shared with sampling."""
        super().__init__(shell)
        self.shell = shell
        self.view = view
        self.nearest = nearest
        self.scoring = False  # a list is being scored (its nearest names may follow)
        self._batch = 0  # which scored list the nearest-name search belongs to
        self._status = ""  # the scored list's summary, before the search's progress
        self._n_scored = 0
        view.load_requested.connect(self.load)

    def load(self) -> None:
        """Load…: a UTF-8 text file into the list, then score it; a bad file keeps the list."""
        dialogs = self.shell.dialogs
        path = dialogs.open_path("Load Names to Score", "", NAME_FILTER)
        if not path:
            return
        try:
            text = Path(path).read_text(encoding="utf-8")
        except UnicodeDecodeError:
            dialogs.error("Cannot load names",
                          f"{path} is not UTF-8 text (it may be a binary file). Save it as "
                          "UTF-8 text, one name per line, and load it again.\n\n"
                          "The list was kept.")
            return
        except OSError as e:
            dialogs.error("Cannot load names", f"{path}: {e.strerror or e}.\n\nThe list was kept.")
            return
        self.view.set_list_text(text)
        self.score()

    def score(self) -> None:
        """Score the list with the Inspector's snapshot (Score, Ctrl+Enter)."""
        view, snap = self.view, self.view.snapshot
        if snap is None or self.scoring:
            return
        text = view.list_text()
        names, _ = read_name_list(text)  # as typed: the table shows the user's capitals
        _, repeats = read_name_list(text.lower() if snap.lowercase else text)
        self._batch += 1  # any nearest-name search still going for an older list stops
        if not names:
            view.set_list_status("Nothing to score: paste names, one per line.")
            return
        cut = MAX_LIST if len(names) > MAX_LIST else None
        names = names[:MAX_LIST]
        self.scoring = True
        view.set_list_status(f"Scoring {len(names):,} names…")

        def done(rows, error) -> None:
            self.scoring = False
            if error is not None:
                view.set_list_status("", error=f"Could not score the list: {error}")
                return
            self._status = view.list_summary(rows, snap.iteration, repeats, cut)
            self._n_scored = sum(r.loglik is not None for r in rows)
            view.show_scores(rows)
            self._find_nearest(self._batch, snap, 0)

        self.shell.tasks.run(lambda: score_list(snap, names), done)

    def _find_nearest(self, batch: int, snap: ModelSnapshot, start: int) -> None:
        """Fill the nearest-name column a chunk at a time, so other work (sampling, run
        records) gets its turn in the background queue between chunks."""
        view = self.view
        if batch != self._batch:
            return
        total = self._n_scored  # the scored rows come first
        if start >= total:
            view.nearest_done = True
            view.set_list_status(self._status)
            return
        view.nearest_done = False
        chunk = range(start, min(start + NEAREST_CHUNK, total))
        names = [view.rows[i].name for i in chunk]
        index_of = self.nearest.of  # builds the corpus's index once, in the task's thread
        view.set_list_status(f"{self._status} · finding the nearest corpus names: "
                             f"{start:,} of {total:,}")

        def got(result, error) -> None:
            if batch != self._batch:
                return  # another list was scored meanwhile
            if error is not None:
                view.set_list_status(self._status, error=f"nearest names failed: {error}")
                return
            _index, found = result
            for i, near in zip(chunk, found, strict=True):
                view.set_nearest(i, near.name, near.distance)
            self._find_nearest(batch, snap, start + len(chunk))

        self.shell.tasks.run(lambda: nearest_names(index_of(snap.corpus_names),
                                                   snap.corpus_names, names), got)
