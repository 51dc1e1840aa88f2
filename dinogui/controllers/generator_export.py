"""File > Export Generator…: the model as a Python script, an ES module or JSON (core.export).

The format follows the name chosen (.py, .mjs or .js, .json). The weights are
taken between two training steps (the latest, or the best when the Sample
panel's "From the best weights" is on, as the names drawn there), then rendered
and written atomically in the task pool: training goes on meanwhile.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject

from dinogui.controllers.shell import Shell
from dinogui.core import export
from dinogui.core.trainer import Trainer
from dinogui.widgets.samples_panel import SamplesPanel

GENERATOR_FILTER = ("Python generator (*.py);;JavaScript module (*.mjs *.js);;"
                    "JSON model (*.json);;All files (*)")
FORMAT_OF = {".py": "py", ".mjs": "js", ".js": "js", ".json": "json"}
TITLE = "Export Generator"


def format_for(path: Path) -> str:
    """The export format a file name asks for; a ValueError for any other suffix."""
    fmt = FORMAT_OF.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"{path.name}: name it .py (a Python script), .mjs (a JavaScript "
                         "module) or .json (the weights) to choose the format")
    return fmt


class GeneratorExport(QObject):
    def __init__(self, shell: Shell, samples: SamplesPanel) -> None:
        """samples: the panel whose "From the best weights" the export follows."""
        super().__init__(shell)
        self.shell = shell
        self.samples = samples

    def export(self) -> None:
        sh, s = self.shell, self.shell.session
        if s.trainer is None or s.busy:
            return
        title = s.summary.title if s.summary is not None else "names"
        suggested = Path(sh.settings.last_folder()) / f"{title}-generator.py"
        chosen = sh.dialogs.save_path(TITLE, str(suggested), GENERATOR_FILTER)
        if not chosen:
            return
        path = Path(chosen if Path(chosen).suffix else chosen + ".py")
        try:
            fmt = format_for(path)
        except ValueError as e:
            sh.refuse(f"Cannot export {path.name}", e, "wrote nothing")
            return
        best = self.samples.request().best

        def snapshot(t: Trainer):
            sampler = t.sampler(copy_params=True, best=best and t.best_params is not None)
            return sampler, t.corpus.lowercase, f"{t.corpus.title}, iteration {t.iteration}"

        def taken(result, error) -> None:
            if error is not None:
                sh.refuse(f"Cannot export {path.name}", error, "wrote nothing")
                return
            sampler, lowercase, source = result
            sh.tasks.run(lambda: export.export(sampler, fmt, path, lowercase, source),
                         written)

        def written(size, error) -> None:
            if error is not None:
                sh.refuse(f"Cannot export {path.name}", error, "kept any file there as it was")
                return
            sh.settings.set_last_folder(path)
            how = {"py": "run it with python3", "js": "import it, or run it with node",
                   "json": "the weights, for your own loader"}[fmt]
            sh.note(f"Exported the generator to {path} ({size:,} bytes; {how})")

        sh.worker.ask(snapshot, taken)
