"""`dinogui bench --sections quality` runs end to end on a small corpus (figures are not judged):
a row per contender, the count model's rows equal to a direct fit, checks every `every` steps."""

import math
from pathlib import Path

import pytest

from dinogui.bench import quality as bench_quality
from dinogui.cli import main
from dinogui.core.batching import EncodedNames
from dinogui.core.corpus import load_corpus
from dinogui.core.models.ngram import KneserNey
from dinogui.core.validation import split_indices

NAMES = ["ada", "bob", "cyrus", "dan", "eve", "finnegan", "gus", "hal", "ivy", "jo",
         "kim", "lou", "max", "ned", "otto", "pia", "quinn", "rex", "sal", "tom"]
NETWORK_ROWS = ["classic preset", "default preset (recipe)", "quality preset",
                "rnn 50 (default's plain)", "gru", "lstm", "hybrid (gru + 5-gram)"]
NGRAM_ROWS = ["2-gram", "3-gram", "4-gram", "5-gram"]


@pytest.fixture
def names_file(tmp_path):
    path = tmp_path / "names.txt"
    path.write_text("\n".join(NAMES) + "\n", encoding="utf-8")
    return path


def _table(out: str) -> dict[str, float]:
    """The first table's rows: label -> best held-out loss (one corpus)."""
    rows = {}
    for line in out.splitlines():
        cells = [c.strip() for c in line.split("|")[1:-1]]
        if len(cells) == 2 and cells[0] not in ("model", "---") and \
                cells[1].replace(".", "").isdigit():
            rows.setdefault(cells[0], float(cells[1]))
    return rows


def test_section_prints_a_row_and_a_command_per_contender(names_file, capsys):
    code = main(["bench", "--sections", "quality", "--corpus", str(names_file),
                 "--seconds", "0.2", "--no-torch"])
    out, err = capsys.readouterr()
    assert code == 0, err
    rows = _table(out)
    assert list(rows) == NGRAM_ROWS + NETWORK_ROWS
    for loss in rows.values():
        assert math.isfinite(loss) and 0 < loss < 10
    for label in NGRAM_ROWS + NETWORK_ROWS:  # the command that trains each row
        assert f"- {label}: `dinogui train --corpus CORPUS " in out
    assert "--cell gru --hidden 128 --dropout 0.3 --mix-ngram 5 --val-fraction 0.1 " \
           "--seconds 0.2`" in out
    assert "- quality preset: `dinogui train --corpus CORPUS --preset quality " \
           "--val-fraction 0.1 --seconds 0.2`" in out
    assert "PyTorch skipped (--no-torch)." in out
    assert "best" in err  # progress lines


def test_count_model_rows_equal_a_direct_fit_on_the_same_split(names_file, capsys):
    assert bench_quality.main(["--corpus", str(names_file), "--only", "gram",
                               "--no-torch"]) == 0
    rows = _table(capsys.readouterr().out)
    corpus = load_corpus(names_file)
    train, val = split_indices(len(NAMES), bench_quality.VAL_FRACTION, seed=0)
    enc = EncodedNames.encode(corpus.vocab, corpus.names)
    for order in (2, 3, 4, 5):
        model = KneserNey.fit([enc[i] for i in train], corpus.vocab.size, order)
        assert rows[f"{order}-gram"] == pytest.approx(model.tune([enc[i] for i in val]),
                                                      abs=5e-5)


def test_pytorch_rows_when_torch_is_installed(names_file, capsys):
    pytest.importorskip("torch")
    assert bench_quality.main(["--corpus", str(names_file), "--seconds", "0.2",
                               "--only", "PyTorch"]) == 0
    rows = _table(capsys.readouterr().out)
    assert list(rows) == ["PyTorch gru", "PyTorch lstm"]
    assert all(0 < v < 10 for v in rows.values())


def test_budget_checks_every_n_steps_and_at_the_end_off_the_clock(monkeypatch):
    clock = {"now": 0.0}
    monkeypatch.setattr(bench_quality.time, "perf_counter", lambda: clock["now"])
    monkeypatch.setattr(bench_quality, "MIN_CHECKS", 1)
    steps, checked = [], []

    def step():
        clock["now"] += 0.01  # each step takes 10 ms of training
        steps.append(1)
        return 5

    def check():
        clock["now"] += 1.0  # a check takes a second, which the budget must not count
        checked.append(len(steps))
        return [3.0, 2.5, 2.0, 2.2][min(len(checked) - 1, 3)]

    best, at, n, cps = bench_quality.budgeted(step, check, every=7, seconds=0.995)
    assert n == 100  # 100 steps of 10 ms: 1.0 s >= 0.995
    assert checked == [0, 7, 14, 21, 28, 35, 42, 49, 56, 63, 70, 77, 84, 91, 98, 100]
    assert best == 2.0 and at == pytest.approx(0.14)  # the third check, after 14 steps
    assert cps == pytest.approx(500 / 1.0)


def test_shared_data_is_beside_the_checkout(monkeypatch):
    repo = Path(bench_quality.__file__).resolve().parents[2]
    assert (repo / "pyproject.toml").is_file()
    monkeypatch.delenv("DINOGUI_SHARED_DATA", raising=False)
    import importlib

    fresh = importlib.reload(bench_quality)
    assert fresh.SHARED_DATA == repo.parent / "shared" / "data"


def test_default_corpora_are_names_txt_and_its_cuts(monkeypatch):
    if not (bench_quality.SHARED_DATA / "names.txt").is_file():
        pytest.skip("../shared/data/names.txt is not here")
    notes = []
    corpora = bench_quality.default_corpora(notes)
    assert [t for t, _ in corpora] == ["names.txt first 300", "names.txt first 1,000",
                                       "names.txt first 3,000", "names.txt"]
    assert [len(c.names) for _, c in corpora[:3]] == [300, 1000, 3000]
    assert set(corpora[0][1].names) <= set(corpora[3][1].names) and not notes


def test_absent_names_txt_is_a_note(monkeypatch, tmp_path):
    monkeypatch.setattr(bench_quality, "SHARED_DATA", tmp_path)
    notes = []
    assert bench_quality.default_corpora(notes) == []
    assert notes == [f"names.txt: skipped, {tmp_path / 'names.txt'} is not here"]


def test_bad_budget_is_refused(capsys):
    assert bench_quality.main(["--seconds", "0"]) == 2
    assert "--seconds" in capsys.readouterr().err


def test_the_default_row_is_the_lists_recipe_and_the_plain_row_is_not(names_file):
    from dinogui.core import recipe

    corpus = load_corpus(names_file)
    rows = {r.label: r for r in bench_quality.ROWS}
    picked = bench_quality._config(rows["default preset (recipe)"], 0, corpus, 4)
    want = recipe.settings_for(corpus)
    assert (picked.cell, picked.hidden, picked.dropout, picked.batch_size, picked.lr,
            picked.mix_ngram) == (want["cell"], want["hidden"], want["dropout"],
                                  want["batch_size"], want["lr"], want["mix_ngram"])
    plain = bench_quality._config(rows["rnn 50 (default's plain)"], 0, corpus, 4)
    assert (plain.cell, plain.hidden, plain.batch_size, plain.mix_ngram) == ("rnn", 50, 48, 0)
    assert "--preset default --val-fraction 0.1 --seconds 4" in \
        rows["default preset (recipe)"].command(4)


@pytest.mark.parametrize(("seconds", "layers"), [(2.5, 1), (5.0, 2)])
def test_the_quality_row_is_the_presets_picks_for_the_rows_seconds(names_file, seconds,
                                                                    layers):
    """As `train --preset quality --seconds S` picks them: the list's model (a short list's
    second layer from 5 s), its budget S, the schedule left for the trainer to size (0) to
    end with it."""
    from dinogui.core import quality

    corpus = load_corpus(names_file)
    row = next(r for r in bench_quality.ROWS if r.label == "quality preset")
    cfg = bench_quality._config(row, 0, corpus, seconds)
    want = {k: v for k, v in quality.settings_for(corpus, seconds).items()
            if k not in ("val_every", "patience")}  # the bench checks on its own cadence
    assert {k: getattr(cfg, k) for k in want} == want and cfg.layers == layers
    assert (cfg.preset, cfg.time_budget, cfg.schedule_iterations) == ("quality", seconds, 0)
