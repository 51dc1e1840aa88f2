"""The quality benchmark runs end to end on a small corpus (figures are not judged)."""

import math

from dinogui.bench import quality as bench_quality

NAMES = ["ada", "bob", "cyrus", "dan", "eve", "finnegan", "gus", "hal", "ivy", "jo",
         "kim", "lou", "max", "ned", "otto", "pia", "quinn", "rex", "sal", "tom"]


def test_held_out_split_is_makemores():
    assert bench_quality.held_out_fraction(32033) * 32033 == 1000
    assert round(bench_quality.held_out_fraction(1536) * 1536) == 153
    assert bench_quality.held_out_fraction(5) * 5 == 1


def test_table_has_a_row_per_contender_and_notes_a_missing_corpus(tmp_path, capsys):
    path = tmp_path / "names.txt"
    path.write_text("\n".join(NAMES) + "\n", encoding="utf-8")
    missing = tmp_path / "absent.txt"
    code = bench_quality.main(["--seconds", "0.2", "--corpus", str(path),
                               "--corpus", str(missing), "--only", "classic", "--only", "gru"])
    out = capsys.readouterr()
    assert code == 0
    rows = [line for line in out.out.splitlines() if line.startswith(f"| {path}")]
    assert [r.split("|")[2].strip() for r in rows] == ["classic (seed)", "gru"]
    for r in rows:
        loss = float(r.split("|")[4])
        assert math.isfinite(loss) and 0 < loss < 10
    assert f"{missing}: skipped" in out.out
    assert "held-out" in out.err  # progress lines


def test_bad_budget_is_refused(capsys):
    assert bench_quality.main(["--seconds", "0"]) == 2
    assert "--seconds" in capsys.readouterr().err
