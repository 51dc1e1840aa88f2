"""Names from the model: drawing and scoring them (as `dinogui sample` does), copying and
exporting them, the favourites, and the views that follow the samples (the held-out curve's
best weights, the novelty rate)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction

from dinogui.controllers.shell import Shell
from dinogui.core.atomic import write_atomic
from dinogui.core.sampling import ConstraintError
from dinogui.core.trainer import Trainer
from dinogui.dialogs import TEXT_FILTER
from dinogui.document import favourites
from dinogui.document.corpus_summary import CorpusSummary
from dinogui.document.messages import ProgressBatch
from dinogui.widgets.loss_plot import LossPlot
from dinogui.widgets.novelty_plot import NoveltyPlot
from dinogui.widgets.samples_panel import SamplesPanel
from dinogui.widgets.status import TrainingStatus

UNTRAINED = ("The model has not trained yet, so these are random letters: press Start (F5), "
             "then Sample again.")


@dataclass(frozen=True)
class SamplingViews:
    """What sampling draws into, and the actions that follow its list."""

    samples: SamplesPanel
    loss_plot: LossPlot  # the held-out points say which weights are the best
    novelty_plot: NoveltyPlot
    status: TrainingStatus  # the favourites count
    copy: QAction
    export: QAction
    toggle_favourite: QAction
    export_favourites: QAction


class SamplingController(QObject):
    def __init__(self, shell: Shell, views: SamplingViews,
                 nearest: favourites.NearestIndex) -> None:
        """nearest: the corpus's nearest-name index, shared with the Inspector."""
        super().__init__(shell)
        self.shell = shell
        self.views = views
        self.nearest = nearest

    # -- the views that follow the model ------------------------------------------------
    def adopt(self, trainer: Trainer, summary: CorpusSummary) -> None:
        """A model comes in: its held-out points; the novelty plot starts over."""
        v, st = self.views, trainer.state
        if v.samples.names():  # another model's names would pass for this one's
            v.samples.clear("The names drawn from the previous model were cleared: "
                            "Sample (Ctrl+G) draws from this one.")
        v.samples.set_labels(trainer.corpus.labels)
        v.loss_plot.set_kinds(trainer.corpus.labels)
        v.loss_plot.set_validation(st.val_iterations, st.val_losses)
        v.samples.set_best_available(v.loss_plot.best)
        if st.iteration > 0:
            v.novelty_plot.clear(
                f"Report names are not kept in checkpoints: the novelty rate of this model "
                f"appears from its next report on (iteration {st.iteration:,} now)")
        else:
            v.novelty_plot.clear()

    def progress(self, batch: ProgressBatch) -> None:
        v, s = self.views, self.shell.session
        if batch.val_points:
            v.loss_plot.add_validation(batch.val_points)
            v.samples.set_best_available(v.loss_plot.best)
        if batch.kind_points:
            v.loss_plot.add_kind_validation(batch.kind_points)
        if batch.reports and s.summary is not None:
            v.novelty_plot.add_reports(batch.reports, s.summary.known)

    def trained_to(self, iteration: int) -> None:
        """Training stopped: names drawn before it are marked as the model's earlier ones."""
        self.views.samples.mark_outdated(iteration)

    # -- drawing ------------------------------------------------------------------------
    def sample(self) -> None:
        """Draw names as `dinogui sample` would from the model as it is now, and score them.

        The worker hands over a snapshot (weights and checkpoint bytes, between two
        steps); drawing, scoring and the nearest corpus names run in the background.
        """
        sh, s = self.shell, self.shell.session
        if s.trainer is None or s.busy:
            return
        req = self.views.samples.request()
        corpus = s.trainer.corpus  # never modified: safe to read here
        try:
            spec = req.spec(corpus.lowercase)
        except ConstraintError as e:
            sh.refuse("Cannot sample", e, "kept the list as it was")
            return
        known = s.summary.known if s.summary is not None else frozenset(corpus.names)
        nearest = self.nearest

        def snapshot(t: Trainer):
            source = favourites.Source(t.iteration, t.config.to_dict(), t.corpus.title,
                                       t.corpus.source, favourites.checkpoint_bytes(t))
            best = req.best and t.best_params is not None  # else: the latest, and said so
            best_iteration = t.state.best_iteration if best else None
            # a bad kind: ValueError naming the known ones, refused below in one line
            sampler = t.sampler(copy_params=True, best=best).with_label(req.label or None)
            return sampler, source, best_iteration

        def drawn(result, error) -> None:
            if error is not None:
                sh.refuse("Cannot sample", error, "kept the list as it was")
                return
            self._show_draw(result, req.label)
            self.update_actions()

        def snapped(result, error) -> None:
            if error is not None:
                drawn(None, error)
                return
            sampler, source, best_iteration = result
            sh.tasks.run(lambda: favourites.draw_scored(
                sampler, req.count, req.seed, spec, known, nearest.of(corpus.names), source,
                best_iteration, req.beam), drawn)

        sh.worker.ask(snapshot, snapped)

    def _show_draw(self, result: favourites.DrawResult, label: str = "") -> None:
        source = result.rows[0].source if result.rows else None
        how = result.settings.describe()
        if label:
            how += f" · kind {label}"
        if source is not None:
            how += f" · iteration {source.iteration:,}"
        counts = []
        if result.not_new is not None:
            counts.append(f"{result.not_new:,} already in the corpus")
        if result.wrong_ending is not None:
            counts.append(f"{result.wrong_ending:,} not ending in "
                          f"{result.settings.spec.suffix!r}")
        if counts:
            examined = "finished" if result.settings.beam else "drawn"
            how += f" · dropped {' and '.join(counts)} ({result.drawn:,} {examined})"
        problem = ""
        if result.problem:
            problem = f"{result.problem[:1].upper()}{result.problem[1:]}."
            self.shell.note(f"Sample: {result.problem}")
        if source is not None and source.iteration == 0:  # letter soup, and why
            problem = (UNTRAINED + "\n" + problem).strip()
        self.views.samples.show_draw(result.rows, how, problem)

    def copy(self) -> None:
        n = self.views.samples.copy_to_clipboard()
        if n:
            self.shell.flash(f"Copied {n} name{'s' if n > 1 else ''}")

    def export(self) -> None:
        sh = self.shell
        names = self.views.samples.names()
        if not names:
            return
        title = sh.session.summary.title if sh.session.summary else "names"
        folder = Path(sh.settings.last_folder())
        path = sh.dialogs.save_path("Export Samples", str(folder / f"{title}-samples.txt"),
                                    TEXT_FILTER)
        if not path:
            return
        try:
            # atomic: a write that fails leaves the file it would replace
            write_atomic(path, ("\n".join(names) + "\n").encode("utf-8"))
        except OSError as e:
            sh.refuse("Cannot export samples", e, "kept the names in the list")
            return
        sh.settings.set_last_folder(path)
        sh.note(f"Exported {len(names)} names to {path}")

    # -- favourites ---------------------------------------------------------------------
    def toggle_favourite(self) -> None:
        samples = self.views.samples
        changed = samples.toggle_favourites()
        if changed:
            n = abs(changed)
            self.shell.flash(
                f"{'Starred' if changed > 0 else 'Unstarred'} {n} name{'s' if n > 1 else ''}"
                f" · {len(samples.favourites)} favourites")

    def update_actions(self) -> None:
        """Copy, export and the favourites follow the list (after a draw, on every star)."""
        v, samples = self.views, self.views.samples
        has_names = bool(samples.names())
        v.copy.setEnabled(has_names)
        v.export.setEnabled(has_names)
        v.status.set_favourites(len(samples.favourites))
        v.export_favourites.setEnabled(len(samples.favourites) > 0)
        v.toggle_favourite.setEnabled(has_names or len(samples.favourites) > 0)

    def export_favourites(self) -> None:
        """Write favourites.txt/.json and the checkpoint(s) that drew them (in the background)."""
        sh = self.shell
        items = list(self.views.samples.favourites)
        if not items:
            return
        title = items[0].source.corpus_title or "names"
        folder = Path(sh.settings.last_folder())
        path = sh.dialogs.save_path("Export Favourites",
                                    str(folder / f"{title}-favourites.txt"), TEXT_FILTER)
        if not path:
            return

        def written(files, error) -> None:
            if error is not None:
                sh.refuse("Cannot export favourites", error, "kept the favourites")
                return
            sh.settings.set_last_folder(path)
            sh.note(f"Exported {len(items)} favourite{'s' if len(items) > 1 else ''}: "
                    + ", ".join(str(f.name) for f in files) + f" in {files[0].parent}")

        sh.tasks.run(lambda: favourites.export(items, path), written)
