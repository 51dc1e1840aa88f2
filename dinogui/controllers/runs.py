"""The run record: each fresh model trained gets one in the runs folder, kept current while it
trains, and the Runs tab lists every readable record (a damaged one is skipped, and said)."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QLabel

from dinogui.controllers.shell import Shell
from dinogui.core.runs import Run, RunScan, RunStore
from dinogui.core.trainer import Trainer
from dinogui.document.messages import ProgressBatch
from dinogui.widgets.runs_view import RunsView

RUN_SAVE_MS = 30_000  # the run being trained is written to the runs folder this often


def updated_run(run: Run, trainer: Trainer) -> Run:
    """A copy of the run with the trainer's current curves (runs on the worker's thread)."""
    newer = replace(run)
    newer.update(trainer)
    return newer


class RunRecorder(QObject):
    def __init__(self, shell: Shell, view: RunsView) -> None:
        super().__init__(shell)
        self.shell = shell
        self.view = view
        self.store = RunStore(shell.data_dir / "runs")
        self.current_run: Run | None = None  # the run being recorded
        self._generation: int | None = None  # the model it belongs to
        self.skipped_note = QLabel()  # over the list: which files could not be read
        self.skipped_note.setWordWrap(True)
        self.skipped_note.setStyleSheet("color: #8a5300")
        self.skipped_note.hide()
        view.layout().insertWidget(0, self.skipped_note)
        view.delete_requested.connect(self.delete)
        self.timer = QTimer(self)
        self.timer.setInterval(RUN_SAVE_MS)
        self.timer.timeout.connect(self.save_current)
        store = self.store

        def loaded(scan: RunScan | None, error) -> None:
            if error is not None:
                shell.note(f"Could not read the runs folder: {error}")
            self.view.set_runs([] if scan is None else scan.runs)
            if scan is not None:
                self._show_skipped(scan)

        shell.tasks.run(store.scan, loaded)

    def _show_skipped(self, scan: RunScan) -> None:
        """One damaged file is skipped, not fatal: said over the list and in the log."""
        text = scan.note()
        self.skipped_note.setVisible(text is not None)
        if text is None:
            return
        self.skipped_note.setText(text)
        self.skipped_note.setToolTip("\n".join(f"{p}: {why}" for p, why in scan.skipped))
        self.shell.note(text)

    def begin(self) -> None:
        """Training a fresh model starts a run (each model once, even after a deletion)."""
        s = self.shell.session
        self.view.set_training(True)  # the live run's row says "(training)"
        if s.iteration != 0 or self._generation == s.generation:
            return
        self._generation = generation = s.generation

        def started(run, error) -> None:
            if error is not None or generation != s.generation:
                return
            self.current_run = run
            self.view.add_run(run, live=True)
            self._write(run)

        self.shell.worker.ask(Run.start, started)  # runs before the first step
        self.timer.start()

    def progress(self, batch: ProgressBatch) -> None:
        if self.current_run is not None and batch.generation == self._generation:
            self.view.extend_live(batch.iterations, batch.smooth_char, batch.val_points)

    def stopped(self) -> None:
        self.view.set_training(False)  # a paused run is not "(training)"
        self.timer.stop()
        self.save_current()

    def save_current(self) -> None:
        """Take the current run's curves from the trainer and write them, in the background."""
        run = self.current_run
        if run is None or self._generation != self.shell.session.generation:
            return

        def updated(newer, error) -> None:
            if error is not None or self.current_run is None \
                    or self.current_run.run_id != newer.run_id:
                return  # deleted (or replaced) in the meantime
            self.current_run = newer
            self.view.update_run(newer)
            self._write(newer)

        self.shell.worker.ask(lambda t: updated_run(run, t), updated)

    def _write(self, run: Run) -> None:
        def saved(_path, error) -> None:
            if error is not None:
                self.shell.note(f"Could not write the run record: {error}")

        store = self.store
        self.shell.tasks.run(lambda: store.save(run), saved)

    def finish(self) -> None:
        """Another model is about to be attached: write the current run's last steps."""
        run = self.current_run
        if run is None:
            return
        self.current_run = None
        self.timer.stop()
        self.view.end_live()
        try:
            newer = self.shell.worker.call(lambda t: updated_run(run, t))
        except Exception as e:  # noqa: BLE001 (the record keeps its last saved state)
            self.shell.note(f"Could not write the run record: {e}")
            return
        self.view.update_run(newer)
        self._write(newer)  # queued after any earlier write of this run, never before

    def close(self) -> None:
        run = self.current_run
        if run is None:
            return
        try:
            newer = self.shell.worker.call(lambda t: updated_run(run, t), timeout=60)
            self.shell.tasks.wait()  # earlier writes of this run first
            self.store.save(newer)
        except Exception as e:  # noqa: BLE001 (closing must not fail)
            print(f"dinogui: could not write the run record: {e}")

    def delete(self, run_ids: list[str]) -> None:
        sh, view = self.shell, self.view
        runs = [view.runs[r] for r in run_ids if r in view.runs]
        if not runs:
            return
        live = self.current_run is not None and self.current_run.run_id in run_ids
        listed = "\n".join(f"#{view.numbers[r.run_id]}  {r.label}" for r in runs[:8])
        more = f"\n… and {len(runs) - 8} more" if len(runs) > 8 else ""
        note = ("The model being trained is not affected, but its run stops being recorded."
                if live else "Checkpoints and the model are not affected.")
        if not sh.dialogs.confirm(
                "Delete runs",
                f"Delete {len(runs)} run{'s' if len(runs) > 1 else ''} from disk?\n\n"
                f"{listed}{more}\n\n{note}", yes="Delete", no="Cancel"):
            return
        failed = []
        for r in runs:
            try:
                self.store.delete(r.run_id)
            except OSError as e:
                failed.append(f"{r.label}: {e.strerror or e}")
        if live:
            self.current_run = None
            self.timer.stop()
        view.remove_runs([r.run_id for r in runs])
        if failed:
            sh.dialogs.error("Delete runs", "Could not delete:\n" + "\n".join(failed))
        sh.note(f"Deleted {len(runs) - len(failed)} run{'s' if len(runs) > 1 else ''}")
