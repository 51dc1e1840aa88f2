"""`train`'s outputs and settings checked before training, each refusal one line that says
what to do: a --save through a dangling or looping symbolic link, and patience on a resumed
model without held-out names."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dinogui.cli import main
from dinogui.core import checkpoint
from dinogui.core.config import TrainConfig
from dinogui.core.corpus import corpus_from_names
from dinogui.core.trainer import Trainer

NAMES = ["anna", "bob", "carla", "dora", "emil", "fran", "gus", "hal"]


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def corpus_file(tmp_path) -> Path:
    path = tmp_path / "names.txt"
    path.write_text("\n".join(NAMES * 3))
    return path


def test_save_through_a_dangling_link_names_the_folder_it_leads_to(capsys, tmp_path,
                                                                   corpus_file):
    link = tmp_path / "out.safetensors"
    os.symlink(tmp_path / "gone" / "deeper" / "x.safetensors", link)
    code, out, err = run(capsys, "train", "--corpus", corpus_file, "--iterations", "2",
                         "--save", link)
    assert code == 2 and out == ""  # refused before training
    assert err == (f"dinogui: error: --save {link}: the folder {tmp_path / 'gone' / 'deeper'} "
                   "(where the link leads) does not exist\n")


def test_save_through_a_dangling_link_to_a_real_folder_writes_there(capsys, tmp_path,
                                                                    corpus_file):
    (tmp_path / "real").mkdir()
    link = tmp_path / "out.safetensors"
    os.symlink(tmp_path / "real" / "x.safetensors", link)
    code, _, err = run(capsys, "train", "--corpus", corpus_file, "--iterations", "2",
                       "--save", link, "--quiet")
    assert code == 0, err
    assert checkpoint.load(tmp_path / "real" / "x.safetensors").iteration == 2


def test_a_symlink_loop_as_save_is_refused_before_training(capsys, tmp_path, corpus_file,
                                                            monkeypatch):
    monkeypatch.setattr("dinogui.run_safety.default_data_dir", lambda: tmp_path)  # rescues
    a, b = tmp_path / "a", tmp_path / "b"
    os.symlink(b, a)
    os.symlink(a, b)
    code, out, err = run(capsys, "train", "--corpus", corpus_file, "--iterations", "2",
                         "--save", a)
    assert code == 2 and out == "", out  # nothing trained, no rescue copy written
    assert err.startswith(f"dinogui: error: --save {a}: is a symbolic link that leads nowhere")
    assert err.count("\n") == 1 and "give another file name" in err
    assert not list(tmp_path.glob("rescue-*"))


@pytest.mark.parametrize("given", [[], ["--patience", "3"]])
def test_patience_on_a_resume_without_held_out_names_says_what_to_do(capsys, tmp_path, given):
    """A classic model holds out no names, and a resume cannot add them: --val-fraction is
    not the advice; --patience 0 is, and resuming with it trains."""
    t = Trainer(corpus_from_names(NAMES * 3), TrainConfig(samples=0))
    t.run(3)
    t.config = TrainConfig(samples=0, patience=4)  # as a file made elsewhere may hold
    path = checkpoint.save(t, tmp_path / "c.safetensors")
    code, out, err = run(capsys, "train", "--resume", path, "--iterations", "2", *given)
    assert code == 2 and out == ""
    what = "--patience (3)" if given else "its patience setting (4)"
    assert err == (f"dinogui: error: --resume {path}: {what} needs held-out names and this "
                   "model has none (a resume cannot add them): resume with --patience 0, or "
                   "train anew with --val-fraction\n")
    code, out, err = run(capsys, "train", "--resume", path, "--iterations", "2",
                         "--patience", "0", "--quiet")
    assert code == 0 and "trained to iteration 5" in out, err


def test_a_new_run_is_still_told_to_give_val_fraction(capsys, corpus_file):
    code, _, err = run(capsys, "train", "--preset", "classic",
                       "--corpus", corpus_file, "--patience", "2")
    assert code == 2 and "--patience needs held-out names: give --val-fraction" in err
