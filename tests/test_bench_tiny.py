"""`bench` on a corpus of 1 to 3 names says what it needs, or runs; never divides by zero."""

import math

import pytest

from dinogui.bench import quality as bench_quality
from dinogui.cli import main


def corpus_of(tmp_path, n: int):
    path = tmp_path / f"tiny{n}.txt"
    path.write_text("\n".join(["anna", "bob", "carla"][:n]) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("sections", ["speed", "scaling", "speed,scaling,threads", "quality"])
def test_bench_on_one_name_says_it_needs_two(capsys, tmp_path, sections):
    path = corpus_of(tmp_path, 1)
    code = main(["bench", "--corpus", str(path), "--sections", sections, "--no-torch"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith(f"dinogui: error: {path}: ")
    assert "at least 2 names (one to train on, one held out); it has 1" in err


@pytest.mark.parametrize("n", [2, 3])
def test_bench_speed_runs_on_two_or_three_names(capsys, tmp_path, n):
    path = corpus_of(tmp_path, n)
    code = main(["bench", "--corpus", str(path), "--sections", "speed", "--seconds", "0.05",
                 "--no-torch", "--seeds", "1"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert f"{n} names" in out and "Traceback" not in err


def test_quality_on_one_name_says_it_needs_two(capsys, tmp_path):
    path = corpus_of(tmp_path, 1)
    assert bench_quality.main(["--corpus", str(path), "--seconds", "0.05"]) == 2
    err = capsys.readouterr().err
    assert f"{path}: needs at least 2 names (one to train on, one held out); it has 1" in err


def test_quality_runs_on_two_names(capsys, tmp_path):
    path = corpus_of(tmp_path, 2)
    code = bench_quality.main(["--corpus", str(path), "--seconds", "0.05", "--only", "classic"])
    out = capsys.readouterr().out
    assert code == 0
    row = next(line for line in out.splitlines() if line.startswith("| classic preset |"))
    assert math.isfinite(float(row.split("|")[2]))
