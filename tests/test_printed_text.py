"""What a file holds is printed escaped and bounded: control and bidi characters never reach
the terminal raw, and an error line quoting a file has a bounded length."""

from __future__ import annotations

import re

import numpy as np
import pytest

from dinogui.cli import MAX_ERROR_LINE, main
from dinogui.core import checkpoint
from dinogui.core.config import TrainConfig
from dinogui.core.corpus import Corpus, Vocab, escape_controls, quote, shorten
from dinogui.core.trainer import Trainer
from tests.checkpoint_files import read, write

BIDI = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068",
        "\u2069", "\u200e", "\u200f", "\u061c"]
UNSAFE = [chr(c) for c in [*range(0x20), *range(0x7f, 0xa0)]] + ["\u2028", "\u2029", *BIDI]
RAW = re.compile("[" + "".join(re.escape(c) for c in UNSAFE if c != "\n") + "]")


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(code: int, err: str) -> str:
    assert code == 2 and err.startswith("dinogui: error: ") and err.count("\n") == 1, err[:300]
    assert not RAW.search(err), err[:300]
    return err


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    names = ["anna", "bob", "carla", "dora", "emil", "fran"] * 3
    t = Trainer(Corpus(names, Vocab.from_names(names)), TrainConfig(preset="default",
                                                                   samples=0))
    t.run(3)
    return checkpoint.save(t, tmp_path_factory.mktemp("good") / "good.safetensors")


def test_every_control_and_bidi_character_is_escaped():
    for ch in UNSAFE:
        shown = escape_controls(f"a{ch}b")
        assert ch not in shown and shown.startswith("a\\") and shown.endswith("b"), repr(ch)
    assert escape_controls("\r") == "\\r" and escape_controls("\u202e") == "\\u202e"
    assert escape_controls("Zoë o'Neil-Ström 名") == "Zoë o'Neil-Ström 名"  # letters stay


def test_quote_escapes_then_bounds_with_an_ellipsis():
    assert shorten("abcdef", 4) == "abc\u2026" and shorten("abcd", 4) == "abcd"
    assert quote("\x1b" * 100, 10) == "\\x1b\\x1b\\\u2026"
    assert len(quote("x" * 10**6)) == 200


def test_a_format_version_holding_escape_codes_is_printed_escaped(good, tmp_path, capsys):
    meta, arrays = read(good)
    evil = "\x1b]0;owned\x07\x1b[2J\u202e2"
    bad = write(tmp_path / "v.safetensors", meta, arrays, version=evil)
    for argv in (["sample", "--checkpoint", bad], ["train", "--resume", bad]):
        err = one_error_line(*run(capsys, *argv)[::2])
        assert "format version \\x1b]0;owned\\x07\\x1\u2026 is not supported" in err
        assert len(err) < 400


def test_a_path_holding_escape_codes_is_printed_escaped(tmp_path, capsys):
    err = one_error_line(*run(capsys, "sample", "--checkpoint",
                              tmp_path / "no\x1b[31m\u202efile")[::2])
    assert "no\\x1b[31m\\u202efile: no such file" in err


def test_a_carriage_return_and_bidi_override_in_a_vocabulary_print_escaped(tmp_path, capsys):
    """A checkpoint made elsewhere: its names never went through load_corpus's checks."""
    names = ["ab\rcd", "x\u202ey", "plain", "ab\rcd", "ok\u2066k"] * 6
    t = Trainer(Corpus(names, Vocab.from_names(names), source="s\r\u202e.txt"),
                TrainConfig(samples=0))
    t.run(200)
    path = checkpoint.save(t, tmp_path / "cr.safetensors")
    runs = [["sample", "--checkpoint", path, "--count", "300", "--temperature", "3"],
            ["sample", "--checkpoint", path, "--count", "100", "--scores"],
            ["train", "--resume", path, "--iterations", "4", "--sample-every", "1",
             "--samples", "40"]]
    shown = ""
    for argv in runs:
        code, out, err = run(capsys, *argv)
        assert code == 0, err
        assert not RAW.search(out.replace("\t", "") + err), (out + err)[:300]
        shown += out
    assert "\\r" in shown and ("\\u202e" in shown or "\\u2066" in shown)
    assert "corpus s\\r\\u202e:" in shown  # the corpus title from the file, escaped too


def test_a_megabyte_tensor_name_gives_a_bounded_error_line(good, tmp_path, capsys):
    meta, arrays = read(good)
    arrays["x" * 2**20] = np.zeros(1, np.float32)
    bad = write(tmp_path / "big.safetensors", meta, arrays)
    err = one_error_line(*run(capsys, "sample", "--checkpoint", bad)[::2])
    assert len(err) < 500 and "\u2026" in err
    assert err.startswith(f"dinogui: error: {tmp_path}")


def test_every_error_line_is_bounded(tmp_path, capsys):
    """The last guard: whatever a message holds, the line stays under the limit."""
    long = tmp_path / ("d" * 200) / ("e" * 200) / ("f" * 200) / ("g" * 200) / "h"
    code, _, err = run(capsys, "sample", "--checkpoint", str(long) * 3)
    one_error_line(code, err)
    assert len(err) <= len("dinogui: error: \n") + MAX_ERROR_LINE


def test_the_window_shows_a_checkpoints_vocabulary_and_source_escaped(qtbot, tmp_path):
    from tests.gui_support import open_window

    names = ["ab\rcd", "x\u202ey", "plain", "ok\u2066k"] * 4
    t = Trainer(Corpus(names, Vocab.from_names(names), source=str(tmp_path / "s\u202e.txt")),
                TrainConfig(samples=0))
    t.run(5)
    path = checkpoint.save(t, tmp_path / "cr.safetensors")
    w = open_window(qtbot, tmp_path)
    w.dialogs.open_paths = [str(path)]
    w.actions_.open_checkpoint.trigger()
    qtbot.waitUntil(lambda: w.session.iteration == 5 and not w.session.busy, timeout=20_000)
    panel = w.corpus_panel
    shown = [panel.title.text(), panel.title.toolTip(), panel.fields["vocabulary"].toolTip()]
    assert not any(RAW.search(s.replace("\n", "")) for s in shown), shown
    assert "\\r" in shown[2] and "\\u202e" in shown[2] and "\\u202e" in shown[1]
