"""`dinogui sample` in bounded memory, without empty names, with its numbers in range."""

from __future__ import annotations

import io
import sys
import tracemalloc
import warnings

import numpy as np
import pytest

from dinogui.cli import main
from dinogui.core import checkpoint, sampling
from dinogui.core.config import TrainConfig
from dinogui.core.corpus import corpus_from_names
from dinogui.core.sampling import ConstraintError, SampleSpec
from dinogui.core.trainer import Trainer

NAMES = ["ada", "bob", "cyrus", "dan", "eve", "finnegan", "gus", "hal", "ivy", "jasper",
         "kai", "leonidas", "mae", "nikolaus", "oda", "pia", "quinn", "rufus", "saurus"]
CONFIGS = {
    "classic": dict(preset="classic", samples=0),
    "default": dict(preset="default", hidden=16, batch_size=4, samples=0, val_fraction=0.0),
    "gru2": dict(preset="default", cell="gru", layers=2, hidden=8, batch_size=4, samples=0,
                 val_fraction=0.0),
}
STEPS = {"classic": 300, "default": 60, "gru2": 20}


def trained(key: str) -> Trainer:
    t = Trainer(corpus_from_names(NAMES), TrainConfig(**CONFIGS[key]))
    t.run(STEPS[key])
    return t


@pytest.fixture(scope="module")
def trainers() -> dict[str, Trainer]:
    return {key: trained(key) for key in CONFIGS}


def ends_early(t: Trainer, boost: float = 4.0) -> Trainer:
    """The trainer with its end symbol made far likelier: many names end before a letter."""
    if t.config.preset == "classic":
        t.params["by"][0] += boost
    else:
        t.params["b_y"][0] += boost
    return t


@pytest.fixture(scope="module")
def early_enders() -> dict[str, Trainer]:
    return {key: ends_early(trained(key)) for key in CONFIGS}


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


# -- streaming ---------------------------------------------------------------------

@pytest.mark.parametrize("key", list(CONFIGS))
@pytest.mark.parametrize("spec", [SampleSpec(), SampleSpec(temperature=0.8, max_len=9),
                                  SampleSpec(top_k=5, suffix="s"), SampleSpec(prefix="ka")])
def test_a_stream_in_blocks_is_the_draw_in_one_piece(trainers, key, spec):
    s = trainers[key].sampler()
    whole = s.draw(100, seed=4, spec=spec)
    stream = s.stream(100, seed=4, spec=spec, block=7)
    blocks = list(stream)
    assert all(1 <= len(b) <= 7 for b in blocks)
    assert sum(blocks, []) == whole.names
    assert (stream.tally.drawn, stream.tally.not_new, stream.tally.wrong_ending) == (
        whole.drawn, whole.not_new, whole.wrong_ending)


def test_batched_rows_are_those_of_the_side_by_side_draw(trainers):
    """Rows a..b of a 50-name draw equal names a..b of it, so blocks never change names."""
    s = trainers["default"].sampler()
    model = s.batched_model()
    full = sampling.sample_names_batched(model, s.vocab, 50, seed=9)
    for rows in (range(0, 50), range(0, 1), range(13, 31), range(49, 50)):
        part = sampling.sample_names_batched(model, s.vocab, 50, seed=9, rows=rows)
        assert part == full[rows.start:rows.stop]
    assert full == s.sample(50, seed=9)


class _Null(io.TextIOBase):
    """A stdout that keeps nothing: what is measured is the sampler, not the capture."""

    def write(self, s: str) -> int:
        return len(s)


def _peak_bytes(argv: list[str]) -> int:
    old, sys.stdout = sys.stdout, _Null()
    tracemalloc.start()
    try:
        assert main(argv) == 0
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        sys.stdout = old


def test_sample_count_runs_in_bounded_memory(trainers, tmp_path, monkeypatch):
    """Ten times the names, about the same peak: the names are never all held at once."""
    path = tmp_path / "d.npz"
    checkpoint.save(trainers["default"], path)
    monkeypatch.setattr(sampling, "STREAM_BLOCK", 200)
    _peak_bytes(["sample", "--checkpoint", str(path), "--count", "10"])  # first-use caches
    small = _peak_bytes(["sample", "--checkpoint", str(path), "--count", "1000"])
    large = _peak_bytes(["sample", "--checkpoint", str(path), "--count", "10000"])
    # drawn in one piece, the 10,000 names take ~13 MB at the peak
    assert large < small * 1.3, (small, large)


# -- no empty names ----------------------------------------------------------------

@pytest.mark.parametrize("key", list(CONFIGS))
def test_sample_never_gives_an_empty_name_and_keeps_the_others(early_enders, key):
    t = early_enders[key]
    s = t.sampler()
    raw = t.sample(300, seed=2)
    assert raw.count("") > 20  # the model ends many names before their first letter
    drawn = s.draw(300, seed=2).names
    assert "" not in drawn
    kept = [(i, n) for i, n in enumerate(raw) if n]
    assert all(drawn[i] == n for i, n in kept), "only the empty names are drawn again"
    if key == "classic":  # the seed's scheme: more names keep the first, redraws included
        assert drawn[:40] == s.draw(40, seed=2).names
    assert drawn != s.draw(300, seed=3).names


@pytest.mark.parametrize("key", list(CONFIGS))
def test_constrained_draws_redraw_empty_candidates_too(early_enders, key):
    s = early_enders[key].sampler()
    drawn = s.draw(200, seed=1, spec=SampleSpec(top_k=6, max_len=12)).names
    assert "" not in drawn and len(drawn) == 200


def test_redraws_follow_the_model_given_a_first_letter(early_enders):
    """A redraw's first letter has the model's distribution without the end, renormalised."""
    s = early_enders["default"].sampler()
    model = s.batched_model()
    names = sampling.redraw_empty(model, s.vocab, [""] * 4000, 0, 5, SampleSpec().checked(
        s.vocab, 10))
    logits, _ = model.step(np.array([-1]), model.start_state(1))
    p = sampling.softmax(logits[0].astype(np.float64))
    p[0] = 0
    p /= p.sum()
    counts = np.bincount([s.vocab.stoi[n[0]] for n in names], minlength=s.vocab.size)
    expected = p * len(names)
    big = expected > 40
    assert counts[0] == 0
    assert np.all(np.abs(counts[big] - expected[big]) < 5 * np.sqrt(expected[big]))


def test_train_reports_keep_the_seeds_empty_names(early_enders):
    """The classic report samples are the seed's sample(), empty names included."""
    from dinogui.bench import seed as ref

    t = early_enders["classic"]
    shown = t.sample(30, seed=0)
    expected = ["".join(t.vocab.chars[i] for i in ref.sample(t.params, t.vocab.stoi, s))
                .strip("\n") for s in range(30)]
    assert shown == expected and "" in shown


def test_cli_sample_prints_no_empty_line(capsys, early_enders, tmp_path):
    path = tmp_path / "c.npz"
    checkpoint.save(early_enders["classic"], path)
    code, out, err = run(capsys, "sample", "--checkpoint", path, "--count", "200")
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 200 and all(lines)


# -- numbers in range --------------------------------------------------------------

def test_seed_range_is_0_to_2_to_the_32_minus_1(capsys, trainers, tmp_path):
    path = tmp_path / "c.npz"
    checkpoint.save(trainers["classic"], path)
    for argv in (["sample", "--checkpoint", path, "--seed", "4294967296"],
                 ["sample", "--checkpoint", path, "--seed", "-1"],
                 ["train", "--iterations", "1", "--seed", "99999999999999999999"]):
        code, out, err = run(capsys, *argv)
        assert code == 2 and out == ""
        assert err.count("\n") == 1 and err.startswith("dinogui: error:")
        assert "0 and 4294967295" in err
    # the largest seed works, in the classic schemes too (their RandomState seeds wrap)
    code, out, err = run(capsys, "sample", "--checkpoint", path, "--seed", "4294967295",
                         "--count", "3")
    assert code == 0 and len(out.splitlines()) == 3, err
    code, out, err = run(capsys, "train", "--iterations", "2", "--seed", "4294967295",
                         "--quiet")
    assert code == 0, err
    with pytest.raises(ConstraintError, match="0 and 4294967295"):
        trainers["classic"].sampler().draw(3, seed=2**32)
    with pytest.raises(ValueError, match="0 and 4294967295"):
        TrainConfig(seed=2**32)


def test_seeds_below_the_wrap_draw_as_before(trainers):
    """The wrap changes nothing where the seed's own seeding worked."""
    from dinogui.bench import seed as ref

    t = trainers["classic"]
    seed = 2**32 - 60  # the 50 draws of a name stay below 2**32
    got = sampling.sample_classic(t.params, seed)
    assert got == ref.sample(t.params, t.vocab.stoi, seed)


@pytest.mark.parametrize("value", ["1e-320", "0.0009", "1001", "inf", "nan", "0"])
def test_extreme_temperatures_are_one_error_line(capsys, trainers, tmp_path, value):
    path = tmp_path / "d.npz"
    checkpoint.save(trainers["default"], path)
    code, out, err = run(capsys, "sample", "--checkpoint", path, "--temperature", value)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "between 0.001 and 1000" in err


@pytest.mark.parametrize("value", ["0.001", "1000"])
def test_temperatures_at_the_ends_of_the_range_draw_quietly(capsys, trainers, tmp_path, value):
    path = tmp_path / "d.npz"
    checkpoint.save(trainers["default"], path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        code, out, err = run(capsys, "sample", "--checkpoint", path, "--temperature", value,
                             "--count", "20", "--scores")
    assert code == 0 and err == "" and len(out.splitlines()) == 20


@pytest.mark.parametrize("key", ["classic", "default"])
def test_weights_too_large_to_use_give_one_error_and_no_warnings(capsys, key, tmp_path):
    t = trained(key)
    head = "Wya" if key == "classic" else "W_hy"
    w = t.params[head]
    w[...] = np.finfo(w.dtype).max / 4  # finite; the logits are not (tanh units all near 1)
    t.params["b"][...] = 20.0
    path = tmp_path / "huge.npz"
    checkpoint.save(t, path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for extra in ([], ["--top-k", "3"], ["--scores"]):
            code, out, err = run(capsys, "sample", "--checkpoint", path, *extra)
            assert code == 2 and out == "", err
            # refused when read: beyond the bound training keeps (core.guard.MAX_MAGNITUDE)
            assert err.count("\n") == 1 and "beyond \u00b11e+30" in err


def test_the_windows_sample_count_is_bounded(qtbot):
    """The window draws at most 1,000 names at once, whatever the settings file says."""
    from PySide6.QtGui import QAction

    from dinogui.widgets.samples_panel import SamplesPanel

    panel = SamplesPanel(QAction("s"), QAction("c"), QAction("e"))
    qtbot.addWidget(panel)
    panel.set_values({"count": 10**9})
    assert panel.request().count == panel.count.maximum() == 1000


# -- what is printed is safe ---------------------------------------------------------

EVIL = ["ab\x1b[2Jcd", "x\x1b]0;owned\x07y", "back\x08\x08ed", "nel\x85c1\x9b"]


def test_display_name_and_titles_escape_control_characters():
    from dinogui.core.corpus import Corpus, Vocab
    from dinogui.core.sampling import display_name

    assert display_name("ab\x1b[2Jcd") == "Ab\\x1b[2Jcd"
    assert display_name("x\x9by\u2028") == "X\\x9by\\u2028"
    assert display_name("zoë-anne o'neil") == "Zoë-anne o'neil"
    c = Corpus(["a"], Vocab.from_names(["a"]), source="/tmp/evil\x1b]0;t\x07.txt")
    assert c.title == "evil\\x1b]0;t\\x07"


def test_a_checkpoint_holding_control_characters_prints_them_escaped(capsys, tmp_path):
    """A checkpoint made elsewhere (its corpus never went through load_corpus)."""
    from dinogui.core.corpus import Corpus, Vocab

    names = EVIL * 5
    corpus = Corpus(names, Vocab.from_names(names), source=str(tmp_path / "t\x1b[H.txt"))
    t = Trainer(corpus, TrainConfig(samples=0))
    t.run(300)
    path = tmp_path / "evil.npz"
    checkpoint.save(t, path)
    runs = [["sample", "--checkpoint", path, "--count", "200", "--temperature", "2"],
            ["sample", "--checkpoint", path, "--count", "50", "--scores"],
            ["train", "--resume", path, "--iterations", "3", "--sample-every", "1"]]
    for argv in runs:
        code, out, err = run(capsys, *argv)
        printed = out + err
        assert not any(ch in printed for ch in "\x1b\x07\x08\x85\x9b"), printed[:200]
        if code == 2:  # a checkpoint check may refuse such names: then in one line
            assert err.count("\n") == 1 and err.startswith("dinogui: error:")
        else:
            assert code == 0 and "\\x1b" in out  # the escapes are shown


def test_large_reports_are_drawn_in_blocks_with_the_same_names(trainers, monkeypatch):
    s = trainers["default"].sampler()
    whole = s.sample(50, seed=3)
    monkeypatch.setattr(sampling, "STREAM_BLOCK", 16)
    sizes = []
    draw = sampling.sample_names_batched

    def counted(*args, **kwargs):
        names = draw(*args, **kwargs)
        sizes.append(len(names))
        return names

    monkeypatch.setattr(sampling, "sample_names_batched", counted)
    assert s.sample(50, seed=3) == whole
    assert sizes == [16, 16, 16, 2]
