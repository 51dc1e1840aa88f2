"""What keeps a headless training run's work safe (`dinogui train`).

Stop signals end the run between steps and still save; the outputs are checked
before training (never the run's own inputs, never an unwritable place); stdout
and the JSONL log fail softly, with a warning, instead of ending the training;
and a save that fails after training writes a rescue copy in the data folder.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import signal
import sys
import threading
import time
from pathlib import Path

import numpy as np

from dinogui.core import atomic, checkpoint
from dinogui.core.corpus import bundled_corpus_path, quote
from dinogui.core.trainer import Trainer
from dinogui.datadir import default_data_dir
from dinogui.document.file_kinds import same_file


class OutputRefused(ValueError):
    """A --save or --log-jsonl target refused before training, with a message for the user."""


STOP_SIGNALS = tuple(getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP")
                     if hasattr(signal, n))


class StopFlag:
    """Set by Ctrl-C, SIGTERM or SIGHUP; the loop reads it between steps."""

    def __init__(self) -> None:
        self.signal: int | None = None

    def __call__(self, signum: int, frame=None) -> None:
        self.signal = signum

    def is_set(self) -> bool:
        return self.signal is not None

    def exit_code(self) -> int:
        return 128 + int(self.signal)  # the shell's convention: 130 Ctrl-C, 143 TERM, 129 HUP


@contextlib.contextmanager
def interrupt_between_steps():
    """Stop signals set a flag the loop reads between steps, so a step is never saved half-done."""
    stop = StopFlag()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = {s: signal.signal(s, stop) for s in STOP_SIGNALS}
    try:
        yield stop
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _warn(message: str) -> None:
    with contextlib.suppress(OSError, ValueError):
        print(f"dinogui: warning: {quote(message, 2000)}", file=sys.stderr, flush=True)


class Printer:
    """Standard output for a training run: when it fails (a closed pipe, a full disk, a
    hung-up terminal) it warns once and goes quiet, so training and the save go on;
    letters the terminal's encoding lacks are printed as escapes.

    strict: a failing stdout raises instead (for `sample`, whose output is the result).
    """

    def __init__(self, strict: bool = False) -> None:
        self.dead = False
        self.escaping = False
        self.strict = strict

    def __call__(self, text: str, stop: StopFlag | None = None) -> None:
        lines = text.split("\n")
        for i in range(0, len(lines), 1000):  # a huge report stays interruptible
            if self.dead or (stop is not None and stop.is_set() and i):
                return
            self._write("\n".join(lines[i : i + 1000]))

    def _write(self, text: str) -> None:
        try:
            try:
                print(text, flush=True)
            except UnicodeEncodeError:
                encoding = getattr(sys.stdout, "encoding", None) or "ascii"
                if not self.escaping:
                    self.escaping = True
                    _warn(f"standard output ({encoding}) cannot show some letters; "
                          "they are printed as escapes")
                print(text.encode(encoding, "backslashreplace").decode(encoding), flush=True)
        except (OSError, ValueError) as e:
            if self.strict:
                if isinstance(e, OSError) and e.filename is None:  # say which file failed
                    raise type(e)(e.errno, e.strerror or str(e), "standard output") from None
                raise
            self.dead = True
            _silence_stdout()
            reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
            _warn(f"standard output failed ({reason}); reports are no longer printed, "
                  "training goes on")


def _silence_stdout() -> None:
    """Point stdout at the null device, so the flush at exit does not fail again."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


class JsonLog:
    """--log-jsonl: a write that fails (full disk, I/O error) stops the log, not the training."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.file = open(path, "w", encoding="utf-8")  # noqa: SIM115 (closed by close())

    def write(self, record: dict) -> None:
        if self.file is None:
            return
        try:
            # NaN and inf are not JSON (jq and JavaScript reject them): a diverged loss is null
            clean = {k: None if isinstance(v, float) and not math.isfinite(v) else v
                     for k, v in record.items()}
            self.file.write(json.dumps(clean, allow_nan=False) + "\n")
            self.file.flush()
        except (OSError, ValueError) as e:
            self._fail(e)

    def close(self) -> None:
        if self.file is not None:
            try:
                self.file.close()
            except OSError as e:
                self._fail(e)
            self.file = None

    def _fail(self, e: Exception) -> None:
        reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        _warn(f"--log-jsonl {self.path}: writing failed ({reason}); "
              "logging stopped, training goes on")
        with contextlib.suppress(OSError):
            self.file.close()
        self.file = None


def check_targets(args: argparse.Namespace) -> None:
    """Refuse, before training, outputs that would overwrite the run's inputs or cannot
    be written (each probed by creating and removing a file beside it)."""
    corpora = args.corpus or ([] if args.resume else [bundled_corpus_path()])
    if isinstance(corpora, str | Path):
        corpora = [corpora]
    inputs = [*(("--corpus", c) for c in corpora), ("--resume", args.resume)]
    outputs = [(flag, path) for flag, path in (("--save", args.save),
                                               ("--log-jsonl", args.log_jsonl)) if path]
    for flag, path in outputs:
        for source, given in inputs:
            if given and not (flag == "--save" and source == "--resume") and same_file(
                    path, given):  # saving over the resumed checkpoint is continuing it
                raise OutputRefused(f"{flag} {path}: that is the {source} file; "
                                 "refusing to overwrite this run's input")
    if args.save and args.log_jsonl and same_file(args.save, args.log_jsonl):
        raise OutputRefused(f"--save and --log-jsonl are the same file ({args.save})")
    for flag, path in outputs:
        _check_writable(flag, Path(path))


def _check_writable(flag: str, path: Path) -> None:
    if path.is_symlink():  # written through: what counts is where the link leads
        try:
            os.path.realpath(path, strict=True)
        except FileNotFoundError:  # a dangling link: the file is created where it points
            pass
        except OSError as e:  # a loop, or a link through something unreadable
            raise OutputRefused(f"{flag} {path}: is a symbolic link that leads nowhere "
                                f"({e.strerror or e}); give another file name") from None
    if path.is_dir():
        raise OutputRefused(f"{flag} {path}: that is a folder; give a file name")
    if path.exists() and not path.is_file():  # a device or a pipe: never probe /dev
        if flag == "--save":
            raise OutputRefused(f"{flag} {path}: is not a regular file; give a file name")
        if not os.access(path, os.W_OK):
            raise OutputRefused(f"{flag} {path}: cannot be written (permission denied)")
        return
    parent = Path(os.path.realpath(path)).parent
    # named as the user wrote it; a link's by where it leads, not by the link's own folder
    shown = f"{parent} (where the link leads)" if path.is_symlink() else path.parent
    if parent.exists() and not parent.is_dir():
        raise OutputRefused(f"{flag} {path}: {shown} is a file, not a folder")
    if not parent.is_dir():
        raise OutputRefused(f"{flag} {path}: the folder {shown} does not exist")
    try:
        atomic.probe_writable(path)
    except OSError as e:
        raise OutputRefused(f"{flag} {path}: cannot be written there "
                         f"({e.strerror or e})") from None


def _unsavable(trainer: Trainer) -> str | None:
    """Why the trainer's state would make an unloadable checkpoint (NaN or inf), if it would."""
    parts = {"weights": trainer.params, "best weights": trainer.best_params or {},
             "optimizer state": {} if trainer.optimizer is None else trainer.optimizer.state}
    for what, arrays in parts.items():
        if not all(np.isfinite(a).all() for a in arrays.values()):
            return f"its {what} are not finite"
    return None


def _rescue_path(target: Path) -> Path:
    folder = default_data_dir()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    suffix = target.suffix or checkpoint.SUFFIX
    path, n = folder / f"rescue-{stamp}{suffix}", 2
    while path.exists():
        path, n = folder / f"rescue-{stamp}-{n}{suffix}", n + 1
    return path


def save_or_rescue(trainer: Trainer, target: str, say: Printer) -> str | None:
    """Write --save; when that fails, write a rescue copy in the data folder instead.

    Returns the error to report, or None when `target` was written.
    """
    problem = _unsavable(trainer)
    if problem:
        return f"--save {target}: nothing saved, {problem}"
    try:
        checkpoint.save(trainer, target)
    except OSError as e:
        reason = e.strerror or str(e)
        rescue = _rescue_path(Path(target))
        try:
            checkpoint.save(trainer, rescue)
        except OSError as e2:
            return (f"--save {target}: could not be written ({reason}), nor a rescue copy "
                    f"{rescue} ({e2.strerror or e2}): the trained model is lost")
        return (f"--save {target}: could not be written ({reason}); "
                f"the trained model was saved to {rescue} instead")
    say(f"saved {target}")
    return None
