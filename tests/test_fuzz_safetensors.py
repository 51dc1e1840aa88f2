"""Crafted safetensors headers and metadata, from a seeded generator of our own, through the
CLI: every case exits 0 or gives one bounded `dinogui: error:` line; no traceback, no raw
control or bidi character in anything printed. And what `train` saves under random (some
absurd) settings always loads and samples."""

from __future__ import annotations

import copy
import json
import math
import random
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dinogui.cli import MAX_ERROR_LINE, main
from dinogui.core import checkpoint
from dinogui.core.config import TrainConfig
from dinogui.core.corpus import corpus_from_names
from dinogui.core.trainer import Trainer
from tests.checkpoint_files import join_safetensors, split_safetensors

REPO = Path(__file__).resolve().parent.parent
CASES = 160
NAMES = ["anna", "bob", "carla", "dora", "emil", "fran", "gus", "hal", "ida", "jo"]
EVIL_TEXT = ["\x1b[2J", "\x1b]0;t\x07", "\r", "\u202e", "\u2066", "\x85", "\x00", "\u200f",
             "\ud800", "x" * 5000, "é名"]
HOSTILE = [None, True, -1, 0, 2**62, 2**64, 10**400, -0.0, 1e308, math.inf, 1.5, "",
           "F32", [], [[[]]], {}, {"a": 1}, [0, 2**63], [-1, 4], ["0", "4"], [1.0, 2.0]]
DTYPES = ["F32", "F64", "I64", "U8", "F16", "BF16", "BOOL", "O", "", "\x1bF32", "f32"]
# what must never reach the terminal (tabs separate --scores' columns, newlines end lines)
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
                 "\u200e\u200f\u061c]")


def evil(rng: random.Random) -> str:
    return "".join(rng.choice(EVIL_TEXT + ["a", "7"]) for _ in range(rng.randint(1, 4)))


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    t = Trainer(corpus_from_names(NAMES * 3), TrainConfig(preset="default", samples=0,
                                                          val_fraction=0.2, val_every=2))
    t.run(5)
    return checkpoint.save(t, tmp_path_factory.mktemp("base") / "base.safetensors").read_bytes()


def shift_last(header: dict, data: bytes, k: int) -> tuple[dict, bytes]:
    """The last array's byte range moved k bytes back over the one before it (the file is
    cut by k, so its length still matches what the header describes)."""
    name = max((n for n in header if n != "__metadata__"),
               key=lambda n: header[n]["data_offsets"][0])
    b, e = header[name]["data_offsets"]
    header[name]["data_offsets"] = [b - k, e - k]
    return header, data[:-k]


def mutate(rng: random.Random, raw: bytes) -> tuple[bytes, str]:
    header, data = split_safetensors(raw)
    header = copy.deepcopy(header)
    names = [n for n in header if n != "__metadata__"]
    meta = header["__metadata__"]
    kind = rng.randrange(12)
    if kind == 0:
        header, data = shift_last(header, data, rng.choice([1, 4, 8]))
        return join_safetensors(header, data), "overlap"
    if kind == 1:
        n = rng.choice(names)
        header[n]["dtype"] = rng.choice(DTYPES + [evil(rng)])
    elif kind == 2:
        n = rng.choice(names)
        header[n]["shape"] = rng.choice(HOSTILE + [[2**31, 2**31], [3] * 40])
    elif kind == 3:
        n = rng.choice(names)
        header[n]["data_offsets"] = rng.choice(HOSTILE)
    elif kind == 4:  # a new array under a hostile name
        header[evil(rng) * rng.choice([1, 100])] = {"dtype": "U8", "shape": [0],
                                                    "data_offsets": [len(data), len(data)]}
    elif kind == 5:
        meta[rng.choice(["format", "version", "dinogui", evil(rng)])] = rng.choice(
            [evil(rng), "2", "dinogui-checkpoint", "3", "1"])
    elif kind == 6:  # a metadata value that is not a string
        meta[rng.choice(["version", "dinogui"])] = rng.choice(HOSTILE)
    elif kind == 7:  # one leaf of the dinogui metadata made hostile
        d = json.loads(meta["dinogui"])
        section = rng.choice(["config", "state", "optimizer", "corpus"])
        key = rng.choice(list(d[section]))
        d[section][key] = rng.choice(HOSTILE + [evil(rng)])
        meta["dinogui"] = json.dumps(d)
    elif kind == 8:  # a setting, a section or the vocabulary removed or made hostile
        d = json.loads(meta["dinogui"])
        section = rng.choice(["config", "optimizer", "vocab", "state"])
        if section == "vocab":
            d["vocab"] = "\n" + evil(rng) + "abc"
        else:
            d[section].pop(rng.choice(list(d[section])))
        meta["dinogui"] = json.dumps(d)
    elif kind == 9:  # deep nesting, in the header or in the metadata
        deep = "[" * 3000 + "]" * 3000
        if rng.random() < 0.5:
            meta["dinogui"] = deep
        else:
            text = json.dumps(header)[:-1] + ', "deep": ' + deep + "}"
            return join_safetensors(text, data), "deep header"
    elif kind == 10:  # a key twice, or text that is not JSON
        text = json.dumps(header)
        text = rng.choice([text[:-1] + ', "' + names[0] + '": {}}', text[: len(text) // 2],
                           text.replace('"', "'", 3)])
        return join_safetensors(text, data), "raw header"
    else:  # the header length field wrong
        text = json.dumps(header).encode()
        n = len(text) + rng.choice([-5, -1, 1, 7, 2**40])
        return n.to_bytes(8, "little") + text + data, "length"
    return join_safetensors(header, data), f"kind {kind}"


def check_printed(code: int, out: str, err: str, what: str) -> None:
    assert code in (0, 2), (what, code, err[-500:])
    assert "Traceback" not in err, (what, err[-500:])
    assert not RAW.search(out + err), (what, (out + err)[:300])
    if code == 2:  # one error line, after any one-line warnings (a blow-up's, say)
        *warnings, last = err.splitlines()
        assert last.startswith("dinogui: error: "), (what, err[:300])
        assert all(w.startswith("dinogui: warning: ") for w in warnings), (what, err[:300])
        assert len(err) <= len("dinogui: error: \n") + MAX_ERROR_LINE, what


def test_crafted_headers_and_metadata_give_one_clean_line_or_load(base, tmp_path, capsys):
    rng = random.Random(16)
    outcomes = {0: 0, 2: 0}
    for case in range(CASES):
        raw, what = mutate(rng, base)
        path = tmp_path / f"c{case}.safetensors"
        path.write_bytes(raw)
        argv = rng.choice([["sample", "--checkpoint", path, "--count", "5", "--scores"],
                           ["train", "--resume", path, "--iterations", "2", "--quiet"]])
        code = main([str(a) for a in argv])
        out, err = capsys.readouterr()
        check_printed(code, out, err, f"case {case} ({what})")
        outcomes[code] += 1
    assert outcomes[0] >= 3 and outcomes[2] > CASES / 2, outcomes  # both paths exercised


def test_overlapping_byte_ranges_are_refused(base, tmp_path, capsys):
    for k in (1, 4, 8):
        path = tmp_path / f"overlap{k}.safetensors"
        path.write_bytes(join_safetensors(*shift_last(*split_safetensors(base), k)))
        assert main(["sample", "--checkpoint", str(path)]) == 2
        assert capsys.readouterr().err == (
            f"dinogui: error: {path}: damaged checkpoint: its arrays' byte ranges overlap "
            "or leave gaps\n")
    # two arrays of one size sharing one range: the same refusal
    header, data = split_safetensors(base)
    sizes: dict[int, list[str]] = {}
    for n, info in header.items():
        if n != "__metadata__":
            b, e = info["data_offsets"]
            sizes.setdefault(e - b, []).append(n)
    a, b = next(v for size, v in sizes.items() if len(v) > 1 and size)[:2]
    gone = header[b]["data_offsets"]
    header[b]["data_offsets"] = header[a]["data_offsets"]
    for info in (v for n, v in header.items() if n != "__metadata__"):
        if info["data_offsets"][0] >= gone[1]:  # close the gap b left
            info["data_offsets"] = [x - (gone[1] - gone[0]) for x in info["data_offsets"]]
    path = tmp_path / "shared.safetensors"
    path.write_bytes(join_safetensors(header, data[: gone[0]] + data[gone[1] :]))
    with pytest.raises(checkpoint.CheckpointError, match="byte ranges overlap"):
        checkpoint.load(path)


def test_what_train_saves_loads_and_samples(tmp_path, capsys):
    """Random settings, some absurd (rates up to 1e38, clip up to 1e30, batches beyond the
    names): whatever `train` saves, `sample` reads and draws from."""
    corpus = tmp_path / "n.txt"
    corpus.write_text("\n".join(NAMES * 2))
    rng = random.Random(3)
    for case in range(14):
        path = tmp_path / f"t{case}.safetensors"
        preset = rng.choice(["classic", "default"])
        argv = ["train", "--corpus", corpus, "--iterations", str(rng.randint(1, 30)),
                "--preset", preset, "--lr", f"{10 ** rng.uniform(-3, 38):.3g}",
                "--clip", f"{10 ** rng.uniform(-2, 30):.3g}", "--save", path, "--quiet"]
        if preset == "default":
            argv += ["--batch-size", str(rng.choice([1, 7, 10**6])),
                     "--optimizer", rng.choice(["sgd", "adagrad", "adam"]),
                     "--cell", rng.choice(["rnn", "gru", "lstm", "ngram"])]
        code = main([str(a) for a in argv])
        out, err = capsys.readouterr()
        check_printed(code, out, err, f"train {case}")
        assert path.exists(), (argv, err)
        t = checkpoint.load(path)
        assert t.iteration <= int(argv[4])
        for extra in ([], ["--temperature", "0.001", "--scores"]):
            code = main(["sample", "--checkpoint", str(path), "--count", "5", *extra])
            out, err = capsys.readouterr()
            assert code == 0 and len(out.splitlines()) == 5, (argv, extra, err)


def test_a_crafted_file_in_a_fresh_process_ends_in_time(base, tmp_path):
    """No hang and no traceback outside pytest's capture either (a few cases)."""
    rng = random.Random(99)
    for case in range(3):
        raw, what = mutate(rng, base)
        path = tmp_path / f"p{case}.safetensors"
        path.write_bytes(raw)
        proc = subprocess.run([sys.executable, "-m", "dinogui", "sample", "--checkpoint",
                               str(path)], cwd=REPO, capture_output=True, text=True,
                              timeout=60)
        check_printed(proc.returncode, proc.stdout, proc.stderr, what)


def test_the_fuzz_bases_are_sound(base, tmp_path):
    path = tmp_path / "b.safetensors"
    path.write_bytes(base)
    assert checkpoint.load(path).iteration == 5
    header, data = split_safetensors(base)
    assert join_safetensors(header, data) != b"" and np.frombuffer(data, np.uint8).size
