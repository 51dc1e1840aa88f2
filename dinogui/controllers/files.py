"""Opening and saving: a corpus or a checkpoint in, a checkpoint out, a held-out file, and
files dropped on the window (Open Recent: controllers/recent.py). Files are read in the task
pool and written by the worker between two steps; nothing replaces the current model until
the new one loaded whole."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from dinogui.controllers.recent import RecentFiles
from dinogui.controllers.shell import Shell
from dinogui.core import checkpoint, quality, recipe
from dinogui.core.corpus import hold_out, load_corpora, load_corpus
from dinogui.core.trainer import Trainer
from dinogui.core.transfer import (
    VocabularyMismatch,
    continue_on,
    kinds_problem,
    vocabulary_problem,
)
from dinogui.dialogs import CHECKPOINT_FILTER, CORPUS_FILTER
from dinogui.document.corpus_summary import CorpusSummary
from dinogui.document.file_kinds import CHECKPOINT_SUFFIX, KindsPath, is_checkpoint, same_file
from dinogui.document.session import check_for_views
from dinogui.widgets.hyperparams import HyperparamsPanel

SAME_NAMES = "the model trains on these very names"  # no question: nothing would change


class FileFlows(QObject):
    saved = Signal()  # a file holds the model now (the autosave has nothing to keep)

    def __init__(self, shell: Shell, hyperparams: HyperparamsPanel, recent_menu: QMenu,
                 clear_recent: QAction, adopt: Callable) -> None:
        """hyperparams: the settings a new model is built with; adopt(trainer, summary,
        path, saved_iteration) shows a model that loaded whole."""
        super().__init__(shell)
        self.shell = shell
        self.hyperparams = hyperparams
        # Open Recent opens as any file does; each file opened here joins the list
        self.recent = RecentFiles(shell, recent_menu, clear_recent, self.open_path, self)
        self.adopt = adopt

    def may_discard(self, doing: str, why: str = "") -> bool:
        """Before the model is replaced: nothing unsaved, or the user saved it (Save, the
        default) or chose to discard it; False for Cancel."""
        s = self.shell.session
        if s.may_discard_silently():
            return True
        n = s.unsaved_iterations
        unsaved = "since it was last saved" if s.saved_iteration else "that no file holds"
        choice = self.shell.dialogs.choose(
            "Unsaved training",
            f"{why}The model has trained {n:,} iteration{'s' if n != 1 else ''} {unsaved}. "
            f"Save it before you {doing}?", ["Save", "Discard"])
        if choice == 0:
            return self.save_now()
        return choice == 1

    # -- any file: recent menu, drops, the command line --------------------------------
    def open_path(self, path: str | Path) -> None:
        """Open a checkpoint or a name list, whichever the file is."""
        path = Path(path)
        if is_checkpoint(path):
            self.open_checkpoint_path(path)
        else:
            self.open_corpus_path(path)

    # -- corpora ------------------------------------------------------------------------
    def open_corpus(self) -> None:
        sh = self.shell
        # several files: names by kind, each file's stem its label (as train --corpus a --corpus b)
        paths = sh.dialogs.open_many("Open Corpus (several files: names by kind)",
                                     sh.settings.last_folder(), CORPUS_FILTER)
        if paths:
            self.open_corpus_path(paths[0] if len(paths) == 1 else [Path(p) for p in paths])

    def open_corpus_path(self, path: str | Path | list[Path], ask: bool = True) -> None:
        """Load a name list (or several, as names by kind), then (when asked and a trained
        model is shown) ask whether the model goes on with it or a new model starts on it.
        A bad file is refused before any question."""
        sh, s = self.shell, self.shell.session
        if s.busy or sh.closing:
            return
        if isinstance(path, list):
            paths = path
            path = KindsPath(paths)
        else:
            path = Path(path)
            paths = [path]
        vocab = s.trainer.vocab if ask and s.trainer is not None and s.iteration > 0 else None
        current = s.trainer.corpus if vocab is not None else None  # never modified: safe
        sh.session.set_busy(f"Loading {path.name}…")

        def load():
            corpus = load_corpus(paths[0]) if len(paths) == 1 else load_corpora(paths)
            problem = None if vocab is None else vocabulary_problem(vocab, corpus) \
                or kinds_problem(current.labels, corpus)
            if current is not None and corpus.names == current.names \
                    and corpus.lowercase == current.lowercase:
                problem = SAME_NAMES
            return corpus, CorpusSummary.of(corpus), problem

        def loaded(result, error) -> None:
            sh.session.set_busy("")
            if error is not None:
                sh.refuse("Cannot open corpus", error, "kept the current corpus")
                return
            corpus, summary, problem = result
            if vocab is None or s.trainer is None:
                self._new_model_on(corpus, summary, path, ask=False)
                return
            on = s.summary.title if s.summary else "its names"
            if problem is SAME_NAMES:  # `dinogui mytowns.txt` after restoring its model
                self.recent.remember(path, corpus=True)
                sh.note(f"The model already trains on these names ({path.name}): it goes on "
                        f"from iteration {s.iteration:,}")
                return
            if problem is None:
                choice = sh.dialogs.choose(
                    "Open Corpus",
                    f"The current model has trained {s.iteration:,} iterations on {on}.\n\n"
                    f"Train this model on {path.name}, or start a new model on it?",
                    ["Train This Model on It", "Start a New Model"])
                if choice == 0:
                    self._carry_on(corpus, summary, path)
                elif choice == 1:
                    self._new_model_on(corpus, summary, path)
                return
            self._offer_new_model(problem, corpus, summary, path)

        sh.tasks.run(load, loaded)

    def hold_out_file(self) -> None:
        """File > Hold Out Names From File: a new model on the current names that holds out
        exactly a file's names, none of them trained on (as `dinogui train --val-file`)."""
        sh, s = self.shell, self.shell.session
        if s.trainer is None or s.busy or s.training or sh.closing:
            return
        path = sh.dialogs.open_path("Hold Out Names From File", sh.settings.last_folder(),
                                    CORPUS_FILTER)
        if not path or not self.may_discard("start a new model"):
            return
        path = Path(path)
        names = replace(s.trainer.corpus, held_out=[])  # never modified: safe to read here
        config = replace(s.config, val_fraction=0.0)  # the file's names are the held-out ones
        sh.session.set_busy(f"Loading {path.name}…")

        def build() -> tuple[Trainer, CorpusSummary]:
            corpus = hold_out(names, load_corpus(path, names.lowercase))  # read alike
            return Trainer(corpus, config), CorpusSummary.of(corpus)

        def built(result, error) -> None:
            sh.session.set_busy("")
            if error is not None:
                sh.refuse("Cannot hold out these names", error, "kept the current model")
                return
            trainer, summary = result
            self.adopt(trainer, summary, checkpoint_path=None, saved_iteration=0)
            among = len(trainer.corpus.names) - len(trainer.train_rows)
            sh.note(f"Held out the {len(trainer.val_rows):,} names of {path.name}"
                    + (f" ({among:,} of the list's among them, not trained on)" if among else "")
                    + "; a new model")

        sh.tasks.run(build, built)

    def _offer_new_model(self, problem: str, corpus, summary: CorpusSummary, path: Path) -> None:
        """The model cannot go on with these names: say why, and offer the way that works."""
        choice = self.shell.dialogs.choose(
            f"Cannot train this model on {path.name}",
            f"{problem[:1].upper()}{problem[1:]}.\n\nA model goes on only with names its "
            "vocabulary covers. Start a new model on these names?",
            ["Start a New Model on It"])
        if choice == 0:
            self._new_model_on(corpus, summary, path)
        else:
            self.shell.note(f"Kept the current corpus and model ({path.name} not opened)")

    def _new_model_on(self, corpus, summary: CorpusSummary, path: Path, ask: bool = True) -> None:
        sh = self.shell
        if ask and not self.may_discard("start a new model"):
            return
        try:
            config = self.hyperparams.config()
            shaped_by_recipe = self.hyperparams.follows_recipe() and config.cell != "ngram"
            if shaped_by_recipe:  # the user has not shaped the model: this list's recipe does
                config = (quality.apply if config.preset == "quality" else recipe.apply)(
                    config, corpus)
        except ValueError as e:  # settings no model can have: say so, keep what is there
            sh.refuse("Cannot start a model", e, "kept the current model")
            return
        unmixed = corpus.labelled and config.mixed
        if unmixed:  # the count model reads no labels: names by kind train the network alone
            config = replace(config, mix_ngram=0)
            self.hyperparams.set_config(config)
        sh.session.set_busy("Building the model…")

        def built(trainer, error) -> None:
            sh.session.set_busy("")
            if error is not None:
                sh.refuse("Cannot build the model", error, "kept the current model")
                return
            if shaped_by_recipe:
                self.hyperparams.show_recipe(trainer.config)
                picked = quality.describe(corpus, trainer.config.time_budget) \
                    if trainer.config.preset == "quality" else recipe.describe(corpus)
                sh.log.note(f"Model: {picked}. Change any model setting to shape it yourself")
            self.adopt(trainer, summary, checkpoint_path=None, saved_iteration=0)
            self.recent.remember(path, corpus=True)
            sh.note(f"Loaded {summary.title}: {summary.stats.names:,} names; a new "
                    f"{trainer.config.preset} model"
                    + ("; names by kind: the mixed n-gram is off (the count model reads no "
                      "kinds)" if unmixed else ""))

        sh.tasks.run(lambda: Trainer(corpus, config), built)

    def _carry_on(self, corpus, summary: CorpusSummary, path: Path) -> None:
        sh = self.shell
        sh.session.set_busy(f"Moving the model to {path.name}…")
        sh.worker.pause()
        sh.worker.ask(lambda t: continue_on(t, corpus),
                      lambda moved, err: self._continued(moved, err, corpus, summary, path))

    def _continued(self, trainer, error, corpus, summary: CorpusSummary, path: Path) -> None:
        sh = self.shell
        sh.session.set_busy("")
        if isinstance(error, VocabularyMismatch):
            self._offer_new_model(str(error), corpus, summary, path)
            return
        if error is not None:
            sh.refuse(f"Cannot train this model on {path.name}", error,
                      "kept the current corpus and model")
            return
        self.adopt(trainer, summary, checkpoint_path=None, saved_iteration=None)
        self.recent.remember(path, corpus=True)
        sh.note(f"The model goes on with {summary.title} from iteration {trainer.iteration:,}")

    # -- checkpoints ----------------------------------------------------------------------
    def open_checkpoint(self) -> None:
        sh = self.shell
        path = sh.dialogs.open_path("Open Checkpoint", sh.settings.last_folder(),
                                    CHECKPOINT_FILTER)
        if path:
            self.open_checkpoint_path(path)

    def open_checkpoint_path(self, path: str | Path) -> None:
        """Load a saved model with its corpus, settings, loss curve and iteration: read and
        checked first, then (if the current model has unsaved training) Save / Discard."""
        sh = self.shell
        if sh.session.busy or sh.closing:
            return
        path = Path(path)

        def adopt(trainer: Trainer, summary: CorpusSummary) -> None:
            if not self.may_discard(f"open {path.name}"):
                return
            self.adopt(trainer, summary, path, trainer.iteration)
            self.recent.remember(path)
            sh.note(f"Opened {path.name}: {summary.title}, iteration "
                    f"{trainer.iteration:,}, {trainer.config.preset} preset")

        self.load_checkpoint(path, "Cannot open checkpoint", adopt)

    def load_checkpoint(self, path: Path, refusal: str, then, failed=None) -> None:
        """Read and check the whole checkpoint in the background; then(trainer, summary)
        only when all of it can be shown (else the window keeps what it has, says why and
        calls failed())."""
        sh = self.shell
        sh.session.set_busy(f"Loading {path.name}…")

        def load():
            trainer = checkpoint.load(path)
            check_for_views(trainer)
            return trainer, CorpusSummary.of(trainer.corpus)

        def loaded(result, error) -> None:
            sh.session.set_busy("")
            if error is not None:
                if not isinstance(error, checkpoint.CheckpointError) \
                        and not isinstance(error, OSError):
                    error = checkpoint.CheckpointError(f"{path}: is incomplete or damaged "
                                                       f"({error})")
                sh.refuse(refusal, error, "kept the current model")
                if failed is not None:
                    failed()
                return
            then(*result)

        sh.tasks.run(load, loaded)

    def save(self) -> None:
        if self.shell.session.checkpoint_path is None:
            self.save_as()
        else:
            self.save_to(self.shell.session.checkpoint_path)

    def save_as(self) -> None:
        if self.shell.session.trainer is None:
            return
        path = self.ask_save_path()
        if path is not None:
            self.save_to(path)

    def ask_save_path(self) -> Path | None:
        """Where to save the model, asked with a name to start from (None: cancelled)."""
        sh, s = self.shell, self.shell.session
        folder = Path(sh.settings.last_folder())
        title = s.summary.title if s.summary is not None else "model"
        suggested = s.checkpoint_path or folder / f"{title}{CHECKPOINT_SUFFIX}"
        path = sh.dialogs.save_path("Save Checkpoint", str(suggested), CHECKPOINT_FILTER)
        if not path:
            return None
        path = Path(path if Path(path).suffix else path + CHECKPOINT_SUFFIX)
        corpus = s.trainer.corpus.source if s.trainer is not None else None
        if corpus and same_file(path, corpus):  # as `train --save` refuses it
            sh.refuse("Cannot save checkpoint", ValueError(
                f"{path}: that is the list of names this model trains on; choose another "
                "file name"), "did not change it")
            return None
        return path

    def save_now(self) -> bool:
        """Save and wait (before the model is replaced): to its file, else to one asked
        for. False when cancelled or the write failed (and said why)."""
        sh, s = self.shell, self.shell.session
        path = s.checkpoint_path or self.ask_save_path()
        if path is None or s.trainer is None:
            return False
        try:
            iteration = sh.worker.call(lambda t: (checkpoint.save(t, path), t.iteration)[1],
                                       timeout=60)
        except Exception as e:  # noqa: BLE001 (any failure keeps the model and says why)
            sh.refuse("Cannot save checkpoint", e, "did not change the file or the model")
            return False
        s.saved(path, iteration)
        self.recent.remember(path)
        self.saved.emit()
        sh.note(f"Saved {path.name} at iteration {iteration:,}")
        return True

    def save_to(self, path: Path, then=None) -> None:
        """Write the model between two steps (training goes on) and note the iteration saved;
        then(ok) runs once the write is done."""
        sh = self.shell
        if sh.session.trainer is None:
            return

        def write(t: Trainer) -> int:
            checkpoint.save(t, path)
            return t.iteration

        def written(iteration, error) -> None:
            if error is not None:
                sh.refuse("Cannot save checkpoint", error, "did not change the file")
            else:
                sh.session.saved(path, iteration)
                self.recent.remember(path)
                self.saved.emit()
                sh.note(f"Saved {path.name} at iteration {iteration:,}")
            if then is not None:
                then(error is None)

        sh.worker.ask(write, written)


def dropped_file(event) -> Path | None:
    mime = event.mimeData()
    if not mime.hasUrls():
        return None
    for url in mime.urls():
        if url.isLocalFile() and Path(url.toLocalFile()).is_file():
            return Path(url.toLocalFile())
    return None
