"""Fuzzing the checkpoint reader through the CLI: damaged files crafted at random.

Each case damages a good checkpoint (safetensors or legacy .npz) one way: cut short,
bits flipped, a metadata field given a wrong type or range or removed, an array given
another dtype, shape or values, removed or added. `dinogui sample --checkpoint X` and
`dinogui train --resume X --iterations 1` must then exit 0, or exit 2 with exactly one
`dinogui: error:` line naming the file; never a traceback. Whatever train saved loads.
"""

from __future__ import annotations

import copy
import json
import math
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from dinogui import cli
from dinogui.core import checkpoint
from tests.checkpoint_files import read, read_npz, write, write_npz

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).resolve().parent.parent
CASES_PER_BASE = 90
WRONG_VALUES = [None, True, False, -1, 0, 1, 3, 2**40, 10**30, -0.5, 0.0, 1.5, 1e308,
                math.inf, -math.inf, "", "x", "adam", [], [1, "a"], [0.5], {}, {"a": 1}]
DTYPES = [np.float16, np.float32, np.float64, np.int32, np.int64, np.uint8]
DEEP = "<deeply nested>"
EXTRA_NAMES = ["param/extra", "opt/m/Wax", "opt/v/zz", "best/W_hy", "hist/more",
               "state/other", "state/a_prev", "extra"]


@pytest.fixture(scope="module")
def bases(tmp_path_factory):
    """Good checkpoints that `train` wrote (two presets) and the two legacy fixtures."""
    folder = tmp_path_factory.mktemp("fuzz")
    corpus = folder / "names.txt"
    corpus.write_text("ada\nbob\ncyrus\ndan\neve\nfinnegan\ngus\nhal\nivy\njo\n")
    made = []
    for name, flags in [("classic", ["--hidden", "8"]),
                        ("gru", ["--cell", "gru", "--hidden", "6", "--batch-size", "3",
                                 "--val-fraction", "0.3", "--val-every", "4"])]:
        out = folder / f"{name}.safetensors"
        assert cli.main(["train", "--corpus", str(corpus), "--iterations", "30", "--quiet",
                         "--save", str(out), *flags]) == 0
        assert checkpoint.load(out).iteration == 30  # whatever train saved loads
        made.append(out)
    return made + [DATA / "legacy-classic.npz", DATA / "legacy-gru-adam.npz"]


def leaves(obj, path=()):
    """Paths to every value in a JSON object, containers included."""
    if path:
        yield path
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from leaves(v, (*path, k))
    elif isinstance(obj, list) and len(obj) <= 8:
        for i, v in enumerate(obj):
            yield from leaves(v, (*path, i))


def damage_meta(meta: dict, rng) -> str:
    paths = list(leaves(meta))
    path = paths[rng.integers(len(paths))]
    parent = meta
    for k in path[:-1]:
        parent = parent[k]
    if rng.random() < 0.15:
        del parent[path[-1]]
        return f"meta {path} removed"
    value = copy.deepcopy(WRONG_VALUES[rng.integers(len(WRONG_VALUES))])
    if rng.random() < 0.05:
        value = DEEP  # replaced by deeply nested JSON once written out
    parent[path[-1]] = value
    return f"meta {path} = {str(value)[:30]}"


def damage_arrays(arrays: dict, rng) -> str:
    names = sorted(arrays)
    name = names[rng.integers(len(names))]
    a = arrays[name]
    kind = rng.integers(6)
    if kind == 0:
        dtype = DTYPES[rng.integers(len(DTYPES))]
        with np.errstate(all="ignore"):
            arrays[name] = a.astype(dtype)
        return f"{name} as {np.dtype(dtype)}"
    if kind == 1:
        shapes = [a.reshape(-1), a[None], a.reshape(-1)[: max(0, a.size - 1)],
                  np.concatenate([a.reshape(-1), a.reshape(-1)[:1]]), a.reshape(-1)[:0]]
        arrays[name] = shapes[rng.integers(len(shapes))]
        return f"{name} reshaped to {arrays[name].shape}"
    if kind == 2 and a.size and a.dtype.kind == "f":
        b = a.copy()
        b.reshape(-1)[rng.integers(a.size)] = [np.nan, np.inf, -1.0, 1e30, -1e30][
            rng.integers(5)]
        arrays[name] = b
        return f"{name} with a bad value"
    if kind == 3 and a.size and a.dtype.kind in "iu":
        b = a.copy()
        value = [-1, 0, 10, 255, 10**6][rng.integers(5)]
        b.reshape(-1)[rng.integers(a.size)] = value % 256 if a.dtype == np.uint8 else value
        arrays[name] = b
        return f"{name} with a changed number"
    if kind == 4:
        del arrays[name]
        return f"{name} removed"
    extra = EXTRA_NAMES[rng.integers(len(EXTRA_NAMES))]
    arrays[extra] = rng.standard_normal(int(rng.integers(1, 5)))
    return f"{extra} added"


def damage_bytes(raw: bytes, rng) -> tuple[bytes, str]:
    if rng.random() < 0.4:
        cut = int(rng.integers(len(raw)))
        return raw[:cut], f"cut at {cut}"
    bad = bytearray(raw)
    span = len(raw) if rng.random() < 0.5 else min(len(raw), 2000)  # often the header
    for _ in range(int(rng.integers(1, 5))):
        bad[rng.integers(span)] ^= 1 << int(rng.integers(8))
    return bytes(bad), "bits flipped"


def craft(base: Path, out: Path, rng) -> str:
    legacy = base.suffix == ".npz"
    family = rng.integers(3)
    if family == 2:
        raw, what = damage_bytes(base.read_bytes(), rng)
        out.write_bytes(raw)
        return what
    meta, arrays = (read_npz if legacy else read)(base)
    what = damage_meta(meta, rng) if family == 0 else damage_arrays(arrays, rng)
    text = json.dumps(meta).replace(json.dumps(DEEP), "[" * 3000 + "]" * 3000)
    (write_npz if legacy else write)(out, text, arrays)
    return what


def run_cli(capsys, argv: list[str], path: Path, what: str) -> int:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code = cli.main(argv)
    assert not caught, (what, [str(w.message) for w in caught])  # they would print too
    out, err = capsys.readouterr()
    assert "Traceback" not in err, what
    if code == 0:
        assert err.count("dinogui: error:") == 0, (what, err)
    else:
        lines = err.strip().splitlines()
        assert code == 2 and len(lines) == 1, (what, code, err)
        assert lines[0].startswith("dinogui: error: "), (what, err)
        assert str(path) in lines[0], (what, err)  # the message names the file
    return code


def test_damaged_checkpoints_give_one_error_line_or_load(bases, tmp_path, capsys):
    rng = np.random.default_rng(20261130)
    tally = {"refused": 0, "loaded": 0}
    for b, base in enumerate(bases):
        for i in range(CASES_PER_BASE):
            path = tmp_path / f"case-{b}-{i}{base.suffix}"
            what = craft(base, path, rng)
            code = run_cli(capsys, ["sample", "--checkpoint", str(path), "--count", "2"],
                           path, what)
            tally["refused" if code else "loaded"] += 1
            if code and rng.random() < 0.7:
                continue  # train reads it the same way: a third of the refused suffice
            saved = tmp_path / "resaved.safetensors"
            saved.unlink(missing_ok=True)
            with warnings.catch_warnings():
                # a loaded model whose weights are finite but absurd (1e30) may overflow in
                # its first step; that step is refused (TrainingDiverged), the warning is
                # the training code's to silence, not the reader's
                warnings.simplefilter("ignore", RuntimeWarning)
                resumed = cli.main(["train", "--resume", str(path), "--iterations", "1",
                                    "--quiet", "--save", str(saved)])
            err = capsys.readouterr().err
            assert "Traceback" not in err and resumed in (0, 2), (what, err)
            if resumed == 0:  # whatever train saved loads
                assert checkpoint.load(saved).iteration >= 1, what
            elif code == 2:
                assert err.startswith("dinogui: error: ") and err.count("\n") == 1, (what, err)
    assert tally["refused"] > 2 * len(bases) * CASES_PER_BASE // 3, tally
    assert tally["loaded"] > 0, tally  # some damage is harmless (a timestamp, a history
    # value): those files load and train


def test_a_damaged_checkpoint_in_a_fresh_process(bases, tmp_path):
    """The same promise for the real command (a few cases: processes are slow to start)."""
    raw = bases[1].read_bytes()
    cases = {"cut.safetensors": raw[: len(raw) // 3],
             "flipped": raw[:20] + bytes([raw[20] ^ 0x40]) + raw[21:],
             "legacy-cut.npz": bases[3].read_bytes()[:-200]}
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        proc = subprocess.run([sys.executable, "-m", "dinogui", "sample", "--checkpoint",
                               str(path)], capture_output=True, text=True, timeout=60,
                              env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
        assert proc.returncode == 2, (name, proc.stderr)
        assert proc.stderr.startswith(f"dinogui: error: {path}: ")
        assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
