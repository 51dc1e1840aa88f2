"""The command line, driven as a user (or a script) would."""

import json
import os
import subprocess
import sys

import pytest

from dinogui.cli import main
from dinogui.core import checkpoint
from tests.conftest import REPO


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_train_prints_reports_like_the_seed_and_logs_jsonl(capsys, tiny_corpus, tmp_path):
    log = tmp_path / "log.jsonl"
    code, out, err = run(capsys, "train", "--preset", "classic",
                         "--corpus", str(tiny_corpus), "--iterations", "25",
                         "--sample-every", "10", "--samples", "3", "--log-jsonl", str(log))
    assert code == 0, err
    assert "Iteration: 0, Loss:" in out and "Iteration: 20, Loss:" in out
    assert "chars/s" in out
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["iteration"] for r in lines[:-1]] == [0, 10, 20]
    for r in lines[:-1]:
        assert set(r) >= {"iteration", "loss", "smoothed_loss", "samples"}
        assert len(r["samples"]) == 3 and all(s[:1].isupper() for s in r["samples"] if s)
    done = lines[-1]
    assert done["event"] == "done" and done["iterations"] == 25
    assert done["chars_per_s"] == pytest.approx(done["chars"] / done["seconds"])


def test_jsonl_chars_count_every_trained_position(capsys, tiny_corpus, tmp_path):
    log = tmp_path / "log.jsonl"
    names = [n.lower() for n in tiny_corpus.read_text().split()]
    run(capsys, "train", "--preset", "classic",
        "--corpus", str(tiny_corpus), "--iterations", str(len(names)),
        "--samples", "0", "--log-jsonl", str(log))
    done = json.loads(log.read_text().splitlines()[-1])
    assert done["chars"] == sum(len(n) + 1 for n in names)  # len(X) per name, one epoch


def test_save_resume_numbers_on_and_equals_straight(capsys, tiny_corpus, tmp_path):
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    run(capsys, "train", "--preset", "classic",
        "--corpus", str(tiny_corpus), "--iterations", "60", "--save", str(a))
    code, out, err = run(capsys, "train", "--resume", str(a), "--iterations", "60",
                         "--sample-every", "50", "--save", str(b))
    assert code == 0, err
    assert "starting at iteration 60" in out
    assert "Iteration: 100," in out
    straight = tmp_path / "s.npz"
    run(capsys, "train", "--preset", "classic", "--corpus", str(tiny_corpus), "--iterations", "120",
        "--save", str(straight))
    t1, t2 = checkpoint.load(b), checkpoint.load(straight)
    assert t1.iteration == t2.iteration == 120
    assert all((t1.params[k] == t2.params[k]).all() for k in t1.params)


def test_sample_prints_one_name_per_line_deterministically(capsys, tiny_corpus, tmp_path):
    ckpt = tmp_path / "c.npz"
    run(capsys, "train", "--corpus", str(tiny_corpus), "--iterations", "200",
        "--save", str(ckpt), "--quiet")
    code, out1, _ = run(capsys, "sample", "--checkpoint", str(ckpt), "--count", "6",
                        "--seed", "4")
    _, out2, _ = run(capsys, "sample", "--checkpoint", str(ckpt), "--count", "6", "--seed", "4")
    assert code == 0 and out1 == out2
    assert len(out1.splitlines()) == 6
    _, short, _ = run(capsys, "sample", "--checkpoint", str(ckpt), "--count", "5",
                      "--max-len", "3", "--temperature", "4")
    assert all(len(n) <= 3 for n in short.splitlines())


def test_sample_best_says_so_when_the_model_has_no_best_weights(capsys, tiny_corpus, tmp_path):
    path = tmp_path / "c.safetensors"
    assert run(capsys, "train", "--preset", "classic",
               "--corpus", str(tiny_corpus), "--iterations", "20", "--quiet",
               "--save", str(path))[0] == 0  # classic: no names held out, no best weights
    code, best, err = run(capsys, "sample", "--checkpoint", str(path), "--count", "5", "--best")
    latest = run(capsys, "sample", "--checkpoint", str(path), "--count", "5")[1]
    assert code == 0 and best == latest  # drawn from the latest weights, the only ones
    assert err == ("dinogui: warning: --best: this model has no best weights (no names held "
                   "out, or none measured yet); drawing from the latest\n")

def test_names_per_report_change_only_the_names_shown(capsys, tiny_corpus, tmp_path):
    """--samples 0 still reports the loss; the smoothed loss does not depend on --samples."""
    logs = {}
    for samples in ("0", "3", "7"):
        logs[samples] = tmp_path / f"{samples}.jsonl"
        code, out, err = run(capsys, "train", "--corpus", str(tiny_corpus), "--iterations",
                             "25", "--sample-every", "10", "--samples", samples,
                             "--log-jsonl", str(logs[samples]))
        assert code == 0, err
        assert [line.split(",")[0] for line in out.splitlines() if line.startswith("Iter")] \
            == ["Iteration: 0", "Iteration: 10", "Iteration: 20"]
    rows = {k: [json.loads(line) for line in v.read_text().splitlines()] for k, v in logs.items()}
    smoothed = {k: [r["smoothed_loss"] for r in v if "smoothed_loss" in r] for k, v in rows.items()}
    assert smoothed["0"] == smoothed["3"] == smoothed["7"] and len(smoothed["0"]) == 3


@pytest.mark.parametrize("argv, fragment", [
    (["train", "--corpus", "/no/such/file.txt"], "no such file"),
    (["train", "--lr", "-1"], "positive"),
    (["train", "--iterations", "many"], "not a whole number"),
    (["train", "--preset", "fancy"], "invalid choice"),
    (["sample", "--checkpoint", "/no/such.npz"], "no such file"),
    (["sample"], "required"),
    (["bogus"], "invalid choice"),
    (["train", "--preset", "classic", "--cell", "gru"], "--cell needs the default preset"),
    (["train", "--layers", "4"], "'4' must be between 1 and 3"),
    (["train", "--cell", "rnn", "--dropout", "0.2"], "dropout needs a gru or lstm"),
    (["train", "--dropout", "1.5"], "between 0 and 0.9"),
    (["train", "--save", "/"], "that is a folder"),
    (["train", "--save", "/no/such/folder/c.npz"], "does not exist"),
    (["sample", "--checkpoint", "x.npz", "--max-len", "1000000000"], "between 1 and 1000"),
    (["bench", "--seconds", "0"], "'0' must be a positive number"),
    (["bench", "--seeds", "0"], "'0' must be at least 1"),
])
def test_errors_are_one_line_and_exit_2(capsys, argv, fragment):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert err.startswith("dinogui: error: ") and fragment in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_cell_and_layers_flags_train_that_model_and_resume_with_it(capsys, tiny_corpus,
                                                                    tmp_path):
    ckpt = tmp_path / "g.npz"
    code, out, err = run(capsys, "train", "--corpus", str(tiny_corpus), "--cell", "gru",
                         "--layers", "2", "--dropout", "0.1", "--iterations", "6",
                         "--save", str(ckpt))
    assert code == 0, err
    assert "preset default: gru x2, batch 48, adam, dropout 0.1" in out  # cell implies default
    trainer = checkpoint.load(ckpt)
    assert (trainer.config.cell, trainer.config.layers, trainer.config.dropout) == ("gru", 2, 0.1)
    assert trainer.iteration == 6
    code, _, err = run(capsys, "train", "--resume", str(ckpt), "--layers", "1")
    assert code == 2 and "--layers cannot change" in err


def test_resume_refuses_settings_the_checkpoint_fixes(capsys, tiny_corpus, tmp_path):
    ckpt = tmp_path / "c.npz"
    run(capsys, "train", "--corpus", str(tiny_corpus), "--iterations", "5", "--save", str(ckpt))
    code, _, err = run(capsys, "train", "--resume", str(ckpt), "--hidden", "80")
    assert code == 2 and "--hidden cannot change" in err
    code, _, err = run(capsys, "train", "--resume", str(ckpt), "--no-lowercase")
    assert code == 2 and "--no-lowercase cannot change" in err


def test_bad_corpus_file_message(capsys, tmp_path):
    bad = tmp_path / "bin.txt"
    bad.write_bytes(b"\x00\x01\x02")
    code, _, err = run(capsys, "train", "--corpus", str(bad))
    assert code == 2 and "binary" in err


def test_console_script_trains_the_bundled_corpus_from_any_folder(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    proc = subprocess.run([sys.executable, "-m", "dinogui", "train", "--iterations", "3",
                           "--sample-every", "2", "--samples", "2"],
                          cwd=tmp_path, capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "corpus dinosaurs:" in proc.stdout
    assert "Iteration: 2," in proc.stdout


def test_ctrl_c_stops_between_steps_and_saves_a_checkpoint_that_resumes(tiny_corpus, tmp_path):
    import signal

    ckpt = tmp_path / "c.npz"
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "dinogui", "train", "--corpus",
                             str(tiny_corpus), "--iterations", "100000000", "--samples", "0",
                             "--sample-every", "1000", "--save", str(ckpt)], env=env,
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    # the first report is printed from inside the loop: the signal will find it running
    for line in proc.stdout:
        if line.startswith("Iteration: 0,"):
            break
    else:
        pytest.fail(f"train ended before its first report: {proc.stderr.read()}")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "saved" in out
    trainer = checkpoint.load(ckpt)  # a half-done step would not load, or resume inexactly
    assert trainer.iteration > 0
    assert trainer.history.steps == trainer.iteration == trainer.history.column("iteration")[-1] + 1
    trainer.run(3)
