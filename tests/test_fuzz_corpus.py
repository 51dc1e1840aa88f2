"""Corpora crafted at random: `train` and `sample` either work or say why in one line.

Each case is a file built from a seeded generator: random bytes, UTF-16 with and
without a byte-order mark, marks in mid-file, control characters, tabs, NULs,
invalid UTF-8, very long lines, one huge line, random Unicode, and joins of
these. Whatever the file, the command exits 0, or 2 with exactly one
`dinogui: error:` line naming the file; never a traceback, and nothing printed
holds a control character (so nothing can move the cursor or set the title).
"""

from __future__ import annotations

import random
import re

import pytest

from dinogui.cli import main
from dinogui.core import checkpoint
from dinogui.core.corpus import CONTROL

CASES = 240
NAMES = ["anna", "bob", "Carla", "dmitri", "Éloïse", "fu", "Günther", "hana", "Ígor", "jo",
         "o'neil", "mary-kate", "saurus", "tyrannosaurus", "zoë"]
CONTROLS = [chr(c) for c in [*range(0, 9), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F,
                             *range(0x80, 0xA0)]] + ["\u2028", "\u2029"]
# what may reach the terminal: printable text, newlines, and the tabs of --scores
PRINTED_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")


def names_text(rng: random.Random) -> str:
    names = [rng.choice(NAMES) for _ in range(rng.randint(1, 40))]
    sep = rng.choice(["\n", "\r\n", "\r"])
    return sep.join(names) + rng.choice(["", sep, sep * 3])


def mutate(rng: random.Random, text: str) -> str:
    """One hostile change at a random place."""
    at = rng.randrange(len(text) + 1)
    kind = rng.randrange(8)
    if kind == 0:
        insert = rng.choice(CONTROLS)
    elif kind == 1:
        insert = "\t"
    elif kind == 2:
        insert = "\ufeff"  # a byte-order mark in mid-file or mid-name
    elif kind == 3:
        insert = "\n\ufeff" + rng.choice(NAMES)  # a joined file's mark at a line start
    elif kind == 4:
        insert = "\n" + "x" * rng.choice([999, 1000, 1001, 5000]) + "\n"
    elif kind == 5:
        insert = "".join(chr(rng.randrange(0x20, 0x3000)) for _ in range(rng.randint(1, 20)))
    elif kind == 6:
        insert = " " * rng.randint(1, 5) + "\t"
    else:
        insert = "\x1b]0;owned\x07\x1b[2J"  # set the title, clear the screen
    return text[:at] + insert + text[at:]


def crafted(rng: random.Random) -> bytes:
    kind = rng.randrange(10)
    if kind == 0:  # random bytes
        return bytes(rng.randrange(256) for _ in range(rng.randint(0, 600)))
    if kind == 1:  # UTF-16, with or without its mark, maybe damaged
        text = names_text(rng)
        if rng.random() < 0.3:
            text = mutate(rng, text)
        codec = rng.choice(["utf-16-le", "utf-16-be"])
        raw = (("\ufeff" if rng.random() < 0.6 else "") + text).encode(codec, "surrogatepass")
        if rng.random() < 0.2:
            raw = raw[:-1] if len(raw) % 2 == 0 else raw + b"\x00"
        if rng.random() < 0.2:
            raw += b"\x00\xd8"  # a lone surrogate
        return raw
    if kind == 2:  # one huge line
        return ("a" * rng.choice([1001, 50_000, 300_000])).encode()
    if kind == 3:  # random Unicode
        return "".join(chr(rng.choice([rng.randrange(0x20, 0x250), rng.randrange(0x0, 0x110000)]))
                       for _ in range(rng.randint(1, 300))).encode("utf-8", "surrogatepass")
    if kind == 4:  # invalid UTF-8 spliced into good text
        raw = bytearray(names_text(rng).encode())
        raw.insert(rng.randrange(len(raw) + 1), rng.choice([0x80, 0xC3, 0xFF, 0xED, 0xF8]))
        return bytes(raw)
    if kind == 5:  # NULs
        raw = bytearray(names_text(rng).encode())
        for _ in range(rng.randint(1, 3)):
            raw.insert(rng.randrange(len(raw) + 1), 0)
        return bytes(raw)
    if kind == 6:  # whitespace and marks only
        return "".join(rng.choice([" ", "\t", "\n", "\r\n", "\ufeff"])
                       for _ in range(rng.randint(0, 30))).encode()
    if kind == 7:  # files joined with `cat`, each with a mark
        return b"".join(("\ufeff" + names_text(rng) + "\n").encode() for _ in range(3))
    text = names_text(rng)  # good names with one to three hostile changes
    for _ in range(rng.randint(1, 3)):
        text = mutate(rng, text)
    return text.encode("utf-8", "surrogatepass")


def assert_clean_outcome(code: int, out: str, err: str, path) -> None:
    assert "Traceback" not in err
    assert not PRINTED_CONTROL.search(out + err), (out + err)[:300]
    if code == 0:
        return
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("dinogui: error: "), err
    assert str(path) in err, err  # the message names the file


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    path = tmp_path_factory.mktemp("fuzz") / "model.npz"
    assert main(["train", "--iterations", "20", "--quiet", "--save", str(path)]) == 0
    return path


def test_train_on_crafted_corpora(capsys, tmp_path):
    rng = random.Random(9)
    outcomes = {0: 0, 2: 0}
    for case in range(CASES):
        path = tmp_path / f"case{case}.txt"
        path.write_bytes(crafted(rng))
        argv = ["train", "--corpus", str(path), "--iterations", "2", "--quiet"]
        if case % 20 == 0:
            argv += ["--save", str(tmp_path / "saved.npz")]
        code = main(argv)
        out, err = capsys.readouterr()
        assert_clean_outcome(code, out, err, path)
        outcomes[code] += 1
        if code == 0 and case % 20 == 0:
            checkpoint.load(tmp_path / "saved.npz")  # what train saved loads
    # both outcomes occur, so the fuzzing reaches training as well as the refusals
    assert outcomes[0] > CASES // 10 and outcomes[2] > CASES // 3, outcomes


def test_sample_against_crafted_corpora(capsys, tmp_path, ckpt):
    rng = random.Random(10)
    outcomes = {0: 0, 2: 0}
    for case in range(CASES // 2):
        path = tmp_path / f"case{case}.txt"
        path.write_bytes(crafted(rng))
        flag = ["--scores"] if case % 2 else ["--new-only"]
        code = main(["sample", "--checkpoint", str(ckpt), "--corpus", str(path), "--count", "3",
                     *flag])
        out, err = capsys.readouterr()
        assert_clean_outcome(code, out, err, path)
        outcomes[code] += 1
        if code == 0 and flag == ["--scores"]:
            rows = out.splitlines()
            assert len(rows) == 3 and all(len(r.split("\t")) == 3 for r in rows)
    assert outcomes[0] > 5 and outcomes[2] > 5, outcomes


def test_refused_files_name_their_problem():
    """Every control character a crafted file may hold is one check_lines refuses."""
    assert all(CONTROL.fullmatch(c) for c in CONTROLS)
