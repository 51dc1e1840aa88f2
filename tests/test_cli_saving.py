"""`dinogui train` never destroys what it replaces and never writes what it cannot read back.

Driven as a user would: the command line in-process (with faults injected where
the machine cannot make them, e.g. a full disk for root) or as a subprocess
(signals, warnings on stderr, a terminal that cannot encode a name).
"""

from __future__ import annotations

import errno
import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from dinogui.cli import main
from dinogui.core import checkpoint, guard
from dinogui.core.sampling import NameSampler
from dinogui.core.trainer import REPORT_BLOCK
from tests.conftest import REPO

ENV = {**os.environ, "PYTHONPATH": str(REPO)}


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def dinogui(*argv, env=None, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dinogui", *map(str, argv)], env=env or ENV,
                          capture_output=True, text=True, timeout=300, **kw)


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("dinogui: error: "), err
    return lines[0]


def params_of(path: Path) -> dict[str, np.ndarray]:
    return {k: v.copy() for k, v in checkpoint.load(path).params.items()}


@pytest.fixture
def good(capsys, tiny_corpus, tmp_path) -> Path:
    """A good default-preset checkpoint, 30 iterations in (its plain RNN: no patience stop)."""
    path = tmp_path / "good.npz"
    code, _, err = run(capsys, "train", "--corpus", tiny_corpus, "--preset", "default",
                       "--cell", "rnn", "--iterations", "30", "--quiet", "--save", path)
    assert code == 0, err
    return path


# -- a diverged run -----------------------------------------------------------------------------
def test_diverged_run_over_a_good_checkpoint_leaves_it_loadable_with_one_error_line(good):
    before = params_of(good)
    proc = dinogui("train", "--resume", good, "--lr", "1e39", "--iterations", "5",
                   "--save", good)
    assert proc.returncode == 2
    line = one_error_line(proc.stderr)  # no RuntimeWarning spew from NumPy either
    assert "weights infinite" in line and "holds the last good weights" in line
    after = checkpoint.load(good)
    assert after.iteration == 30
    for k, v in after.params.items():
        assert np.isfinite(v).all()
        assert np.array_equal(v, before[k])  # the step was undone, not approximated


@pytest.mark.parametrize("optimizer", ["sgd", "adagrad", "adam"])
def test_an_overflowing_update_is_undone_with_the_optimizer_state(capsys, good, tmp_path,
                                                                  optimizer):
    out = tmp_path / "out.npz"
    code, _, err = run(capsys, "train", "--corpus", good.parent / "tiny.txt", "--iterations",
                       "3", "--optimizer", optimizer, "--save", out, "--quiet")
    assert code == 0, err
    trainer = checkpoint.load(out)
    trainer.set_live(lr=1e39)
    params = {k: v.copy() for k, v in trainer.params.items()}
    slots = {k: v.copy() for k, v in trainer.optimizer.state.items()}
    t = trainer.optimizer.t
    with np.errstate(all="ignore"), pytest.raises(ArithmeticError, match="weights infinite"):
        trainer.step()
    assert trainer.iteration == 3 and trainer.optimizer.t == t
    assert all(np.array_equal(trainer.params[k], v) for k, v in params.items())
    assert set(trainer.optimizer.state) >= set(slots)
    for k, v in trainer.optimizer.state.items():
        assert np.array_equal(v, slots.get(k, np.zeros_like(v))), k


def test_ordinary_steps_take_no_copy_and_an_extreme_rate_does(tiny_corpus):
    from dinogui.core.config import TrainConfig
    from dinogui.core.corpus import load_corpus
    from dinogui.core.trainer import Trainer

    corpus = load_corpus(tiny_corpus)
    for preset in ("classic", "default"):
        trainer = Trainer(corpus, TrainConfig.for_preset(preset, samples=0))
        trainer.run(200)
        assert trainer._guard.copies == 0, preset
    trainer = Trainer(corpus, TrainConfig.for_preset("default", samples=0, lr=1e37))
    with np.errstate(all="ignore"), pytest.raises(ArithmeticError):
        trainer.run(50)
    assert trainer._guard.copies >= 1


def test_if_the_weights_are_ever_non_finite_nothing_is_saved(capsys, good, monkeypatch):
    monkeypatch.setattr(guard.StepGuard, "after", lambda self: True)  # a guard that misses
    data = good.read_bytes()
    code, _, err = run(capsys, "train", "--resume", good, "--lr", "1e39", "--iterations", "3",
                       "--save", good)
    assert code == 2
    assert "nothing saved" in one_error_line(err) and "not finite" in err
    assert good.read_bytes() == data


# -- before training ----------------------------------------------------------------------------
def test_a_save_under_a_regular_file_is_refused_before_training(capsys, tiny_corpus, tmp_path):
    (tmp_path / "file.txt").write_text("x")
    target = tmp_path / "file.txt" / "x.npz"
    code, out, err = run(capsys, "train", "--corpus", tiny_corpus, "--save", target)
    assert code == 2 and "Iteration" not in out and "trained to" not in out
    line = one_error_line(err)
    assert str(target) in line and "is a file, not a folder" in line


@pytest.mark.parametrize("flag", ["--save", "--log-jsonl"])
def test_a_full_disk_is_refused_before_training_naming_the_path(capsys, tiny_corpus, tmp_path,
                                                                monkeypatch, flag):
    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    target = tmp_path / "out" / "x.file"
    target.parent.mkdir()
    code, out, err = run(capsys, "train", "--corpus", tiny_corpus, flag, target)
    assert code == 2 and "trained to" not in out
    line = one_error_line(err)
    assert f"{flag} {target}: cannot be written there (No space left on device)" in line
    assert ".tmp" not in line
    assert list(target.parent.iterdir()) == []  # the probe was removed


def test_a_refused_folder_names_the_users_path_not_the_temp_file(capsys, tiny_corpus, tmp_path,
                                                                 monkeypatch):
    import tempfile

    def denied(prefix, suffix, dir):
        raise PermissionError(errno.EACCES, "Permission denied", f"{dir}/{prefix}abc{suffix}")

    monkeypatch.setattr(tempfile, "mkstemp", denied)
    target = tmp_path / "x.npz"
    code, _, err = run(capsys, "train", "--corpus", tiny_corpus, "--save", target)
    assert code == 2
    assert one_error_line(err) == (f"dinogui: error: --save {target}: cannot be written there "
                                   "(Permission denied)")


# -- a write failing after training -------------------------------------------------------------
def fail_replace_onto(monkeypatch, target: Path, code: int = errno.ENOSPC) -> None:
    real = os.replace

    def replace(src, dst):
        if os.path.realpath(dst) == os.path.realpath(target):
            raise OSError(code, os.strerror(code))
        return real(src, dst)

    monkeypatch.setattr(os, "replace", replace)


def test_a_save_failing_after_training_writes_a_rescue_copy(capsys, tiny_corpus, tmp_path,
                                                           monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    target = tmp_path / "out.npz"
    fail_replace_onto(monkeypatch, target)
    code, out, err = run(capsys, "train", "--preset", "classic",
                         "--corpus", tiny_corpus, "--iterations", "40",
                         "--save", target)
    assert code == 2 and "trained to iteration 40" in out
    line = one_error_line(err)
    rescued = list((tmp_path / "xdg" / "dinogui" / "dinogui").glob("rescue-*.npz"))
    assert len(rescued) == 1
    assert (f"--save {target}: could not be written (No space left on device); the trained "
            f"model was saved to {rescued[0]} instead") in line
    assert not target.exists() and ".tmp" not in line
    assert checkpoint.load(rescued[0]).iteration == 40


def test_when_the_rescue_fails_too_the_message_says_so(capsys, tiny_corpus, tmp_path,
                                                       monkeypatch):
    (tmp_path / "file.txt").write_text("x")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "file.txt"))  # no folder can go there
    target = tmp_path / "out.npz"
    fail_replace_onto(monkeypatch, target)
    code, _, err = run(capsys, "train", "--corpus", tiny_corpus, "--iterations", "5",
                       "--save", target)
    assert code == 2
    line = one_error_line(err)
    assert line.startswith(f"dinogui: error: --save {target}: could not be written (No space "
                           f"left on device), nor a rescue copy {tmp_path / 'file.txt'}")
    assert line.endswith("the trained model is lost")


def test_a_save_onto_a_pipe_or_device_is_refused(capsys, tiny_corpus, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    code, out, err = run(capsys, "train", "--corpus", tiny_corpus, "--save", fifo)
    assert code == 2 and "trained to" not in out
    assert one_error_line(err) == (f"dinogui: error: --save {fifo}: is not a regular file; "
                                   "give a file name")
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_the_window_and_the_cli_share_the_data_folder(qapp, monkeypatch, tmp_path):
    from PySide6.QtCore import QStandardPaths

    from dinogui import settings
    from dinogui.datadir import default_data_dir

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    app = qapp
    names = app.organizationName(), app.applicationName()
    app.setOrganizationName(settings.ORGANIZATION)
    app.setApplicationName(settings.APPLICATION)
    test_mode = QStandardPaths.isTestModeEnabled()
    QStandardPaths.setTestModeEnabled(False)
    try:
        qt = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    finally:
        QStandardPaths.setTestModeEnabled(test_mode)
        app.setOrganizationName(names[0])
        app.setApplicationName(names[1])
    assert settings.default_data_dir is default_data_dir
    assert default_data_dir() == Path(qt) == tmp_path / "dinogui" / "dinogui"
    code = ("import sys, dinogui.cli; "
            "sys.exit(1 if any(m.startswith('PySide6') for m in sys.modules) else 0)")
    assert subprocess.run([sys.executable, "-c", code], env=ENV).returncode == 0


# -- outputs that fail while training ----------------------------------------------------------
@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")
def test_a_failing_log_stops_logging_not_training_and_the_save_happens(capsys, tiny_corpus,
                                                                        tmp_path):
    target = tmp_path / "out.npz"
    code, out, err = run(capsys, "train", "--corpus", tiny_corpus, "--iterations", "30",
                         "--sample-every", "10", "--log-jsonl", "/dev/full", "--save", target)
    assert code == 0
    assert err.strip() == ("dinogui: warning: --log-jsonl /dev/full: writing failed (No space "
                           "left on device); logging stopped, training goes on")
    assert "Iteration: 20," in out and f"saved {target}" in out
    assert checkpoint.load(target).iteration == 30


def test_a_log_failing_midway_keeps_what_was_written(capsys, tiny_corpus, tmp_path, monkeypatch):
    import dinogui.run_safety as rs

    log, target = tmp_path / "log.jsonl", tmp_path / "out.npz"
    writes = []

    class FailingDisk:  # the third record meets an I/O error
        def __init__(self, *args, **kw):
            self.file = open(*args, **kw)  # noqa: SIM115

        def write(self, text):
            writes.append(text)
            if len(writes) == 3:
                raise OSError(errno.EIO, os.strerror(errno.EIO))
            return self.file.write(text)

        def flush(self):
            self.file.flush()

        def close(self):
            self.file.close()

    monkeypatch.setattr(rs, "open", FailingDisk, raising=False)
    code, _, err = run(capsys, "train", "--preset", "classic",
                       "--corpus", tiny_corpus, "--iterations", "50",
                       "--sample-every", "10", "--log-jsonl", log, "--save", target)
    assert code == 0 and "writing failed (Input/output error)" in err
    assert [json.loads(line)["iteration"] for line in log.read_text().splitlines()] == [0, 10]
    assert len(writes) == 3  # nothing more was attempted, not even the done event
    assert checkpoint.load(target).iteration == 50


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")
def test_a_failing_stdout_warns_and_training_and_the_save_go_on(tiny_corpus, tmp_path):
    target = tmp_path / "out.npz"
    with open("/dev/full", "w") as full:
        proc = subprocess.run([sys.executable, "-m", "dinogui", "train", "--corpus",
                               str(tiny_corpus), "--iterations", "30", "--sample-every", "10",
                               "--save", str(target)], env=ENV, stdout=full,
                              stderr=subprocess.PIPE, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip() == ("dinogui: warning: standard output failed (No space left on "
                                   "device); reports are no longer printed, training goes on")
    assert checkpoint.load(target).iteration == 30


def test_a_stdout_that_cannot_encode_a_name_prints_escapes(tmp_path):
    corpus, target = tmp_path / "accents.txt", tmp_path / "out.npz"
    corpus.write_text("zoë\nångström\nbob\n", encoding="utf-8")
    proc = dinogui("train", "--corpus", corpus, "--iterations", "12", "--sample-every", "3",
                   "--samples", "30", "--save", target, cwd=tmp_path,
                   env={**ENV, "PYTHONIOENCODING": "ascii"})
    assert proc.returncode == 0, proc.stderr
    assert "\\xeb" in proc.stdout or "\\xe5" in proc.stdout  # ë or å, escaped
    assert proc.stderr.count("dinogui: warning:") == 1 and "escapes" in proc.stderr
    assert checkpoint.load(target).iteration == 12



def test_sample_to_a_stdout_that_cannot_encode_a_name_prints_escapes(tmp_path):
    corpus, target = tmp_path / "accents.txt", tmp_path / "out.safetensors"
    corpus.write_text("zoë\nångström\nchloë\nnoël\nåsa\n", encoding="utf-8")
    assert main(["train", "--corpus", str(corpus), "--iterations", "40", "--quiet",
                 "--save", str(target)]) == 0
    utf8 = dinogui("sample", "--checkpoint", target, "--count", "40", "--seed", "1",
                   env={**ENV, "PYTHONIOENCODING": "utf-8"})
    assert utf8.returncode == 0 and any(c in utf8.stdout for c in "ëå")  # a name to escape
    proc = dinogui("sample", "--checkpoint", target, "--count", "40", "--seed", "1",
                   env={**ENV, "PYTHONIOENCODING": "ascii"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == utf8.stdout.encode("ascii", "backslashreplace").decode("ascii")
    assert proc.stderr.count("dinogui: warning:") == 1 and "escapes" in proc.stderr


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
def test_sample_to_a_full_stdout_says_so_in_one_line(good):
    with open("/dev/full", "w") as full:
        proc = subprocess.run([sys.executable, "-m", "dinogui", "sample", "--checkpoint",
                               str(good), "--count", "5"], env=ENV, stdout=full,
                              stderr=subprocess.PIPE, text=True, timeout=300)
    assert proc.returncode == 2
    assert proc.stderr == "dinogui: error: standard output: No space left on device\n"

# -- the run's own inputs -----------------------------------------------------------------------
def test_own_inputs_are_refused_as_outputs(capsys, good, tmp_path):
    corpus = good.parent / "tiny.txt"
    names, data = corpus.read_bytes(), good.read_bytes()
    link = tmp_path / "link.txt"
    link.symlink_to(corpus)
    cases = [
        (["--corpus", corpus, "--save", corpus], "--save", "--corpus"),
        (["--corpus", corpus, "--save", link], "--save", "--corpus"),
        (["--corpus", link, "--log-jsonl", tmp_path / "." / "tiny.txt"], "--log-jsonl",
         "--corpus"),
        (["--resume", good, "--log-jsonl", good], "--log-jsonl", "--resume"),
    ]
    for argv, flag, source in cases:
        code, out, err = run(capsys, "train", "--iterations", "5", *argv)
        assert code == 2 and "trained to" not in out
        assert f"that is the {source} file; refusing to overwrite" in one_error_line(err)
        assert flag in err
    code, _, err = run(capsys, "train", "--corpus", corpus, "--save", tmp_path / "a.npz",
                       "--log-jsonl", f"{tmp_path}/./a.npz")
    assert code == 2 and "--save and --log-jsonl are the same file" in one_error_line(err)
    assert corpus.read_bytes() == names and good.read_bytes() == data
    # saving over the checkpoint being resumed is continuing it: allowed
    code, _, err = run(capsys, "train", "--resume", good, "--iterations", "5", "--save", good,
                       "--quiet")
    assert code == 0, err
    assert checkpoint.load(good).iteration == 35


# -- what a save replaces -----------------------------------------------------------------------
def test_a_replaced_checkpoint_keeps_its_permissions(capsys, good):
    os.chmod(good, 0o640)
    code, _, err = run(capsys, "train", "--resume", good, "--iterations", "5", "--save", good,
                       "--quiet")
    assert code == 0, err
    assert stat.S_IMODE(good.stat().st_mode) == 0o640
    assert checkpoint.load(good).iteration == 35


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_a_new_checkpoint_gets_the_permissions_of_the_umask(capsys, tmp_path, umask):
    target = tmp_path / "new.safetensors"
    old = os.umask(umask)
    try:
        code, _, err = run(capsys, "train", "--iterations", "3", "--save", target, "--quiet")
    finally:
        os.umask(old)
    assert code == 0, err
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask


def test_a_symlinked_target_is_followed(capsys, good, tmp_path):
    real = tmp_path / "store" / "model.npz"
    real.parent.mkdir()
    real.write_bytes(good.read_bytes())
    link = tmp_path / "latest.npz"
    link.symlink_to(real)
    code, _, err = run(capsys, "train", "--resume", link, "--iterations", "5", "--save", link,
                       "--quiet")
    assert code == 0, err
    assert link.is_symlink() and link.resolve() == real
    assert checkpoint.load(real).iteration == 35
    assert sorted(p.name for p in real.parent.iterdir()) == ["model.npz"]  # no temp left


def test_stale_temps_from_a_killed_save_are_removed_by_the_next_save(capsys, tiny_corpus,
                                                                     tmp_path):
    target = tmp_path / "x.npz"
    old, fresh, other = (tmp_path / ".x.npz.k1ll3d.tmp", tmp_path / ".x.npz.wr1t1ng.tmp",
                         tmp_path / ".y.npz.k1ll3d.tmp")
    for p in (old, fresh, other):
        p.write_bytes(b"half a checkpoint")
    long_ago = time.time() - 120
    for p in (old, other):
        os.utime(p, (long_ago, long_ago))
    code, _, err = run(capsys, "train", "--corpus", tiny_corpus, "--iterations", "5", "--save",
                       target, "--quiet")
    assert code == 0, err
    assert not old.exists()
    assert fresh.exists() and other.exists()  # perhaps being written now; another file's
    assert checkpoint.load(target).iteration == 5


def test_write_atomic_refuses_a_pipe_and_names_the_users_path(tmp_path, monkeypatch):
    from dinogui.core.atomic import write_atomic

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(OSError, match="not a regular file") as e:
        write_atomic(fifo, b"data")
    assert e.value.filename == str(fifo) and stat.S_ISFIFO(fifo.lstat().st_mode)
    target = tmp_path / "t.bin"
    target.write_bytes(b"old")
    fail_replace_onto(monkeypatch, target, errno.EIO)
    with pytest.raises(OSError) as e:
        write_atomic(target, b"new")
    assert e.value.filename == str(target) and e.value.errno == errno.EIO
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe", "t.bin"]


# -- stopping -----------------------------------------------------------------------------------
@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143),
                                          (signal.SIGHUP, 129)])
def test_a_stop_signal_ends_between_steps_saves_and_the_save_resumes(capsys, tiny_corpus,
                                                                     tmp_path, signum, code):
    target = tmp_path / "c.npz"
    proc = subprocess.Popen([sys.executable, "-m", "dinogui", "train", "--corpus",
                             str(tiny_corpus), "--iterations", "100000000", "--sample-every",
                             "200", "--samples", "1", "--save", str(target)], env=ENV,
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        for line in proc.stdout:  # training is under way once a report is out
            if line.startswith("Iteration: "):
                break
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == code, err
    assert "Traceback" not in err and f"saved {target}" in out
    trainer = checkpoint.load(target)
    assert trainer.iteration > 0 and len(trainer.history) == trainer.iteration
    resumed = tmp_path / "r.npz"
    status, _, err = run(capsys, "train", "--resume", target, "--iterations", "7", "--save",
                         resumed, "--quiet")
    assert status == 0, err
    assert checkpoint.load(resumed).iteration == trainer.iteration + 7


def test_ctrl_c_during_a_huge_report_stops_after_the_block_being_drawn(capsys, tiny_corpus,
                                                                       tmp_path, monkeypatch):
    real = NameSampler.sample
    blocks = []

    def sample(self, count, seed=0, *a, **kw):  # Ctrl-C arrives while the first block is drawn
        blocks.append((count, seed))
        if len(blocks) == 1:
            signal.raise_signal(signal.SIGINT)
        return real(self, count, seed, *a, **kw)

    monkeypatch.setattr(NameSampler, "sample", sample)
    target = tmp_path / "c.npz"
    code, out, err = run(capsys, "train", "--preset", "classic",
                         "--corpus", tiny_corpus, "--samples", "1000",
                         "--iterations", "5", "--save", target)
    assert code == 130, err
    assert blocks == [(REPORT_BLOCK, 0)]
    lines = out.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("Iteration: 0,"))
    end = next(i for i, line in enumerate(lines) if line.startswith("trained to"))
    assert end - first - 2 == REPORT_BLOCK  # the names, then the report's blank line
    assert checkpoint.load(target).iteration == 1


def test_report_blocks_are_the_seeds_names_exactly(tiny_corpus):
    from dinogui.core.config import TrainConfig
    from dinogui.core.corpus import load_corpus
    from dinogui.core.trainer import Trainer

    count = 2 * REPORT_BLOCK + 5
    trainer = Trainer(load_corpus(tiny_corpus), TrainConfig.for_preset("classic",
                                                                      samples=count))
    report = trainer.step().samples
    assert report == trainer.sampler().sample(count, seed=0)  # name i drawn with seed i


def test_the_jsonl_log_is_strict_json_even_for_a_diverged_loss(tmp_path):
    from dinogui.run_safety import JsonLog

    path = tmp_path / "log.jsonl"
    log = JsonLog(str(path))
    log.write({"iteration": 3, "val_loss": float("inf"), "loss": float("nan"), "chars": 5})
    log.close()

    def refuse(name):
        raise ValueError(f"not JSON: {name}")

    record = json.loads(path.read_text(), parse_constant=refuse)
    assert record == {"iteration": 3, "val_loss": None, "loss": None, "chars": 5}


def test_an_os_error_without_a_file_is_one_plain_line(capsys, monkeypatch):
    from dinogui import cli

    def full(args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(cli, "cmd_sample", full)
    code = cli.main(["sample", "--checkpoint", "x.safetensors"])
    assert code == 2
    assert capsys.readouterr().err == "dinogui: error: No space left on device\n"
