"""Unsaved training is never lost: written to the autosave every few minutes and on close,
offered back at the next launch, and a close that cannot write it asks first."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QTimer

from dinogui.controllers.files import FileFlows
from dinogui.controllers.shell import Shell
from dinogui.core import checkpoint
from dinogui.settings import AUTOSAVE_NAME, KEPT_AUTOSAVE_NAME, LEGACY_AUTOSAVE_NAME

AUTOSAVE_MS = 3 * 60 * 1000  # autosave every three minutes while there is unsaved progress
DISCARDED_STEM = "autosave-discarded"  # the last refused autosave, kept for a rescue by hand


class Autosaver(QObject):
    def __init__(self, shell: Shell, files: FileFlows, adopt: Callable) -> None:
        """files: reads the autosave back and asks where to save; adopt(trainer, summary,
        path, saved_iteration) shows a restored model."""
        super().__init__(shell)
        self.shell = shell
        self.files = files
        self.adopt = adopt
        files.saved.connect(self.discard)  # the model is in a file: nothing to keep
        self.timer = QTimer(self)
        self.timer.setInterval(AUTOSAVE_MS)
        self.timer.timeout.connect(self.autosave)
        self.timer.start()

    @property
    def path(self) -> Path:
        return self.shell.data_dir / AUTOSAVE_NAME

    def autosave(self) -> None:
        """Write unsaved progress to the autosave file, between two steps."""
        sh, s = self.shell, self.shell.session
        if s.trainer is None or not s.autosave_due() or sh.closing:
            return
        path = self.path
        sh.settings.set_autosave_source(str(s.checkpoint_path or ""))
        generation = s.generation

        def done(iteration, error) -> None:
            if error is None:
                if generation == s.generation:
                    s.autosaved(iteration)
                sh.flash(f"Autosaved at iteration {iteration:,}")
            else:
                sh.note(f"Autosave failed: {error}")

        sh.worker.ask(lambda t: (checkpoint.save(t, path), t.iteration)[1], done)

    @property
    def legacy_path(self) -> Path:
        return self.shell.data_dir / LEGACY_AUTOSAVE_NAME

    @property
    def kept_path(self) -> Path:
        return self.shell.data_dir / KEPT_AUTOSAVE_NAME

    def discard(self) -> None:
        """The model is in a file (or there is none): the autosave has nothing to keep."""
        for path in (self.path, self.legacy_path):
            try:
                path.unlink(missing_ok=True)
            except OSError as e:  # a folder in its place, a read-only disk: only the note fails
                self.shell.note(f"Could not remove the old autosave {path}: {e.strerror or e}")

    # -- the next launch -----------------------------------------------------------------
    def offer_restore(self) -> bool:
        """At launch: if the last session left unsaved training, read it (in the background)
        and offer to bring it back. True when there is an autosave to offer."""
        path = next((p for p in (self.path, self.legacy_path, self.kept_path) if p.is_file()),
                    None)
        if path is None:
            return False
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(path.stat().st_mtime))
        self.files.load_checkpoint(path, "Cannot restore the autosaved training",
                                     lambda t, summary: self._ask(path, when, t, summary),
                                     failed=lambda: self._set_aside(path, "damaged"))
        return True

    def _ask(self, path: Path, when: str, trainer, summary) -> None:
        sh = self.shell
        info = f"iteration {trainer.iteration:,} on {summary.title}"
        kept = path == self.kept_path
        answer = sh.dialogs.confirm_or_later(
            "Restore unsaved training?",
            f"dinogui closed with training that was not saved ({info}, autosaved {when})."
            "\n\nRestore it? (Later keeps it for the next launch.)", yes="Restore",
            no="Discard", later="Later")
        if answer:
            source = sh.settings.autosave_source(kept=kept)
            self.adopt(trainer, summary, Path(source) if source else None, None)
            if kept:  # the model is this session's now: its autosave is the usual one
                self._set_aside(path, "restored")
            else:
                sh.session.autosaved(trainer.iteration)
            sh.note(f"Restored the autosaved model at iteration {trainer.iteration:,}")
        elif answer is None:
            self._keep_for_later(path)
        else:
            self._set_aside(path, "discarded")

    def _keep_for_later(self, path: Path) -> None:
        """Escape on the question: out of the way of this session's own autosave, and offered
        again at the next launch."""
        if path != self.kept_path:
            try:
                if self.kept_path.is_file():  # an older one kept: the rescue copy, not lost
                    self.kept_path.replace(self.kept_path.with_name(
                        DISCARDED_STEM + self.kept_path.suffix))
                path.replace(self.kept_path)
            except OSError as e:
                self.shell.note(f"Could not keep the autosave for later: {e.strerror or e}")
                return
            settings = self.shell.settings
            settings.set_autosave_source(settings.autosave_source(), kept=True)
        self.shell.note("Kept the autosaved training: dinogui offers it again at the next launch")

    def _set_aside(self, path: Path, why: str) -> None:
        """Keep a refused autosave as autosave-discarded.*: one last chance, by hand."""
        kept = path.with_name(DISCARDED_STEM + path.suffix)
        try:
            path.replace(kept)
        except OSError as e:
            self.shell.note(f"Could not move the autosave aside: {e.strerror or e}")
            return
        if why != "restored":
            self.shell.note(f"{'Discarded' if why == 'discarded' else 'Set aside the damaged'} "
                            f"autosaved training (kept as {kept.name})")

    # -- closing ---------------------------------------------------------------------------
    def write_on_close(self, ask: bool = True) -> bool:
        """Write (or remove) the autosave as the window closes; False: the user chose to
        stay. When the write fails, ask (unless nobody is there to answer, as on logout)."""
        sh, s = self.shell, self.shell.session
        self.timer.stop()
        if s.trainer is None or not s.modified:
            self.discard()
            return True
        sh.settings.set_autosave_source(str(s.checkpoint_path or ""))
        path = self.path
        iteration, reason = self._write_now(path)
        if reason is None:
            s.autosaved(iteration)
            if ask:
                self._tell_once(iteration)
            return True
        if not ask:
            # the terminal may be gone with the SIGHUP that closes the window: closing goes on
            with contextlib.suppress(OSError, ValueError):
                print(f"dinogui: could not write the autosave: {reason}", flush=True)
            return True
        return self._ask_on_failure(reason)

    def _tell_once(self, iteration: int) -> None:
        """The first close with unsaved training says where it went; later ones close at once."""
        settings = self.shell.settings
        if settings.told("close-autosave"):
            return
        settings.set_told("close-autosave")
        n = self.shell.session.unsaved_iterations
        self.shell.dialogs.inform(
            "Training kept for the next launch",
            f"The model's {n:,} unsaved iteration{'s' if n != 1 else ''} (up to iteration "
            f"{iteration:,}) are kept in an autosave: dinogui offers them back the next time "
            "it starts.\n\nSave (Ctrl+S) keeps a model in a file of your own. This note "
            "appears once.")

    def _write_now(self, path: Path) -> tuple[int, str | None]:
        """Write the model between two steps and wait: (iteration, None) or (0, why not)."""
        try:
            return self.shell.worker.call(
                lambda t: (checkpoint.save(t, path), t.iteration)[1], timeout=60), None
        except Exception as e:  # noqa: BLE001 (whatever failed, the user hears of it)
            if isinstance(e, OSError):
                return 0, f"{path}: {e.strerror or e}"  # the user's path, not a temp file
            return 0, str(e)

    def _ask_on_failure(self, reason: str) -> bool:
        sh, s = self.shell, self.shell.session
        while True:
            choice = sh.dialogs.choose(
                "Unsaved training would be lost",
                f"The autosave could not be written:\n{reason}\n\n"
                f"Save the model's {s.unsaved_iterations:,} unsaved iterations to a file "
                "before quitting?", ["Save As…", "Quit Anyway"])
            if choice == 1:
                return True
            if choice is None:
                self.timer.start()
                return False
            target = self.files.ask_save_path()
            if target is None:
                continue
            iteration, reason = self._write_now(target)
            if reason is not None:
                continue
            s.saved(target, iteration)
            sh.settings.add_recent(target)
            self.discard()
            return True

