"""The window's commands as QActions, with their standard shortcuts, for menus and toolbar."""

from __future__ import annotations

from dataclasses import dataclass, fields

from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QStyle, QWidget


@dataclass
class Actions:
    start: QAction
    pause: QAction
    step: QAction
    reset: QAction
    find_lr: QAction  # the learning-rate finder (dinogui/controllers/lr_find.py)
    open_corpus: QAction
    open_checkpoint: QAction
    hold_out_file: QAction  # held-out names from a file (as `dinogui train --val-file`)
    save: QAction
    save_as: QAction
    export_samples: QAction
    export_generator: QAction  # the model as a py, js or json file (controllers/generator_export)
    quit: QAction
    sample: QAction
    copy_samples: QAction
    per_name: QAction
    per_char: QAction
    fit_plot: QAction
    show_inspector: QAction  # the Inspector tab (dinogui/widgets/inspector.py)
    refresh_inspector: QAction
    score_names: QAction
    show_runs: QAction  # the Runs tab (dinogui/widgets/runs_view.py)
    delete_runs: QAction
    show_loss: QAction  # the Loss tab (with the held-out curve)
    show_novelty: QAction  # the Novelty tab (dinogui/widgets/novelty_plot.py)
    toggle_favourite: QAction  # favourites (dinogui/widgets/samples_panel.py)
    export_favourites: QAction
    clear_recent: QAction
    shortcuts: QAction  # Help > Keyboard Shortcuts (dinogui/shortcuts.py)
    about: QAction
    about_qt: QAction

    def all(self) -> list[QAction]:
        return [getattr(self, f.name) for f in fields(self)]


def make_actions(window: QWidget) -> Actions:
    """The actions; Start, Pause, Step and Sample get their icons from the palette
    (dinogui/toolbar_icons.py), the others from the style."""
    style = window.style()
    SP = QStyle.StandardPixmap

    def act(text: str, shortcut=None, tip: str = "", icon=None) -> QAction:
        a = QAction(text, window)
        if shortcut is not None:
            a.setShortcut(QKeySequence(shortcut))
        if icon is not None:
            a.setIcon(style.standardIcon(icon))
        if tip:
            shown = a.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            a.setToolTip(f"{tip} ({shown})" if shown else tip)
            a.setStatusTip(tip)
        return a

    scale = QActionGroup(window)
    per_name = act("Loss per &Name",
                   tip="Plot the loss summed over each name (as the original exercise does)")
    per_char = act("Loss per &Character", tip="Plot the loss per predicted character")
    for a in (per_name, per_char):
        a.setCheckable(True)
        scale.addAction(a)

    actions = Actions(
        start=act("&Start", "F5", "Start or resume training"),
        pause=act("&Pause", "F6", "Pause after the current step"),
        step=act("S&tep", "F10", "Train one iteration"),
        reset=act("&Reset Model…", None, "Start again from fresh weights", SP.SP_BrowserReload),
        find_lr=act("Find &Learning Rate…", None, "Sweep the learning rate on a copy of the "
                    "model and suggest one (the model does not change)"),
        open_corpus=act("&Open Corpus…", "Ctrl+O",
                        "Load a text file with one name per line", SP.SP_DirOpenIcon),
        open_checkpoint=act("Open &Checkpoint…", "Ctrl+Shift+O",
                            "Load a saved model and continue where it stopped",
                            SP.SP_DialogOpenButton),
        hold_out_file=act("&Hold Out Names From File…", None,
                          "A new model on these names that holds out exactly the names of a "
                          "file, never training on them (as dinogui train --val-file)"),
        save=act("&Save Checkpoint", "Ctrl+S",
                 "Save the model, its settings and its loss curve", SP.SP_DialogSaveButton),
        save_as=act("Save Checkpoint &As…", "Ctrl+Shift+S", "Save the model to a new file"),
        export_samples=act("&Export Samples…", "Ctrl+E", "Write the sampled names to a text file"),
        export_generator=act("Export &Generator…", None,
                             "Write the model as a Python script, a JavaScript module or "
                             "JSON that makes names without dinogui"),
        quit=act("&Quit", "Ctrl+Q", "Close dinogui (unsaved training is "
                 "kept in an autosave)"),
        sample=act("Sa&mple", "Ctrl+G", "Draw names from the model (works while training)"),
        copy_samples=act("&Copy Names", "Ctrl+C",
                         "Copy the selected names (or all) to the clipboard"),
        per_name=per_name,
        per_char=per_char,
        fit_plot=act("&Fit Plot", "Ctrl+0", "Show every point of the loss curve again"),
        show_inspector=act("&Inspector", "Ctrl+I", "Type a name and see how likely the model "
                           "finds each of its characters"),
        refresh_inspector=act("Refresh Inspector &Snapshot", "Ctrl+Shift+I",
                              "Take the model's current weights into the Inspector",
                              SP.SP_BrowserReload),
        score_names=act("Score &List", "Ctrl+Return",
                        "Score the names in the list by log-likelihood per character"),
        show_runs=act("&Runs", "Ctrl+R", "Compare the loss curves and settings of past runs"),
        delete_runs=act("&Delete Runs…", "Delete", "Delete the selected runs from disk",
                        SP.SP_TrashIcon),
        show_loss=act("&Loss", "Ctrl+L", "Show the loss curves: training and held-out"),
        show_novelty=act("&Novelty Rate", "Ctrl+Shift+N",
                         "Show the share of each report's names that are not in the corpus"),
        toggle_favourite=act("&Star Favourite", "Ctrl+D",
                             "Keep the selected names in the favourites (again: unstar them)"),
        export_favourites=act("Export &Favourites…", "Ctrl+Shift+E",
                              "Write the favourites with their scores, settings and the "
                              "checkpoint that drew them"),
        clear_recent=act("Clear Recent Files"),
        shortcuts=act("&Keyboard Shortcuts", "F1", "List the keys for every command"),
        about=act("&About dinogui"),
        about_qt=act("About &Qt"),
    )
    # short labels for buttons and the toolbar
    actions.copy_samples.setIconText("Copy")
    actions.export_samples.setIconText("Export…")
    actions.export_favourites.setIconText("Export…")
    actions.reset.setIconText("Reset")
    actions.find_lr.setIconText("Find…")
    actions.open_corpus.setIconText("Open Corpus")
    actions.open_checkpoint.setIconText("Open Checkpoint")
    actions.save.setIconText("Save")
    return actions
