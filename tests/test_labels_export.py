"""Labelled models exported (py, js, json): labels and the label embedding travel, and the
generators' --label / label= score exactly as `dinogui score` does (to 1e-6)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.test_export import (
    export_all,
    generator,
    json_net_log_probs,
    load_module,
    needs_node,
    run,
    train_all,
)

ELVES = "aelar\nlira\nthalion\nelrond\nsylva\nnaeris\nlorien\nmirael\n"
DWARVES = "gimli\nthorin\nbalin\ndwalin\nbrokk\ngrimdal\ndurin\nborin\n"
NAMES = ("Lira", "gimli", "thalor", "b")
MODELS = {"gru": ["--cell", "gru", "--hidden", "7"],
          "lstm-2": ["--cell", "lstm", "--layers", "2", "--hidden", "5"],
          "rnn": ["--cell", "rnn", "--hidden", "6"]}


@pytest.fixture(scope="module")
def labelled(tmp_path_factory):
    """{model: {"ckpt": path, "py": path, "js": path, "json": path}}"""
    folder = tmp_path_factory.mktemp("labelled")
    (folder / "elf.txt").write_text(ELVES)
    (folder / "dwarf.txt").write_text(DWARVES)
    ckpts = train_all(folder, MODELS, "--corpus", str(folder / "elf.txt"), "--corpus",
                      str(folder / "dwarf.txt"), "--iterations", "60", "--val-fraction", "0.25")
    return {name: {"ckpt": ckpts[name], **formats}
            for name, formats in export_all(ckpts, folder).items()}


def dinogui_table(capsys, ckpt) -> list[list[str]]:
    capsys.readouterr()
    code, out, err = run(capsys, "score", "--checkpoint", ckpt, *NAMES)
    assert code == 0, err
    return [line.split("\t") for line in out.splitlines()]


def close(a: list[list[str]], b: list[list[str]]) -> None:
    assert [r[0] for r in a] == [r[0] for r in b] and [r[-1] for r in a] == [r[-1] for r in b]
    for ra, rb in zip(a[1:], b[1:], strict=True):
        np.testing.assert_allclose([float(v) for v in ra[1:-1]], [float(v) for v in rb[1:-1]],
                                   atol=1.5e-6, rtol=0)


@pytest.mark.parametrize("model", list(MODELS))
def test_python_generator_scores_each_label_like_dinogui(capsys, labelled, model):
    want = dinogui_table(capsys, labelled[model]["ckpt"])
    assert want[0] == ["name", "elf", "dwarf", "best"]
    got = generator(labelled[model]["py"], "--score", *NAMES)
    assert got.returncode == 0, got.stderr
    close([line.split("\t") for line in got.stdout.splitlines()], want)
    one = generator(labelled[model]["py"], "--label", "dwarf", "--score", "gimli")
    assert one.stdout == f"gimli\t{float(want[2][2]):.6f}\n"


@needs_node
@pytest.mark.parametrize("model", list(MODELS))
def test_js_generator_scores_each_label_like_dinogui(capsys, labelled, model):
    want = dinogui_table(capsys, labelled[model]["ckpt"])
    got = generator(labelled[model]["js"], "--score", *NAMES)
    assert got.returncode == 0, got.stderr
    close([line.split("\t") for line in got.stdout.splitlines()], want)
    one = generator(labelled[model]["js"], "--label", "elf", "--score", "Lira")
    assert one.stdout == f"Lira\t{float(want[1][1]):.6f}\n"


def test_imported_python_generator_blends_and_matches_dinogui_blend(capsys, labelled):
    paths = labelled["gru"]
    module = load_module(paths["py"])
    assert module.GENERATOR.labels == ["elf", "dwarf"]
    capsys.readouterr()
    code, out, err = run(capsys, "score", "--checkpoint", paths["ckpt"], "--label",
                         "elf:3,dwarf:1", "thalor")
    assert code == 0, err
    assert module.score("thalor", label="elf:0.75,dwarf:0.25") == pytest.approx(
        float(out.split("\t")[1]), abs=1e-6)
    a = module.sample(count=8, seed=5, label="dwarf")
    assert a == module.sample(count=8, seed=5, label="dwarf")
    assert a != module.sample(count=8, seed=5, label="elf")
    assert module.sample(count=8, seed=5) == module.sample(count=8, seed=5, label="elf,dwarf")


@pytest.mark.parametrize("fmt", ["py", pytest.param("js", marks=needs_node)])
@pytest.mark.parametrize(("label", "why"), [("troll", "unknown label 'troll' (known labels: "
                                             "elf, dwarf)"),
                                            ("elf:0", "positive"), ("elf:x", "not a number")])
def test_generators_refuse_bad_labels_in_one_line(labelled, fmt, label, why):
    got = generator(labelled["gru"][fmt], "--label", label, "--count", "3")
    assert got.returncode == 2 and got.stdout == ""
    assert got.stderr.count("\n") == 1 and why in got.stderr


@pytest.mark.parametrize("fmt", ["py", pytest.param("js", marks=needs_node)])
def test_generator_draws_by_label_are_deterministic(labelled, fmt):
    a = generator(labelled["lstm-2"][fmt], "--label", "elf", "--count", "6", "--seed", "9")
    b = generator(labelled["lstm-2"][fmt], "--label", "elf", "--count", "6", "--seed", "9")
    c = generator(labelled["lstm-2"][fmt], "--label", "dwarf", "--count", "6", "--seed", "9")
    assert a.returncode == 0 and a.stdout == b.stdout and len(a.stdout.split()) == 6
    assert a.stdout != c.stdout


def test_json_carries_labels_and_the_embedding_a_loader_can_use(capsys, labelled):
    doc = json.loads(labelled["gru"]["json"].read_text(encoding="utf-8"))
    assert doc["labels"] == ["elf", "dwarf"]
    E = np.array(doc["label_embedding"])
    assert E.shape == (2, 3 * 7)
    want = dinogui_table(capsys, labelled["gru"]["ckpt"])
    # a loader from docs/export.md: the label's row added to layer 0's b at every step
    for k, label in enumerate(doc["labels"]):
        shifted = {**doc, "layers": [{**doc["layers"][0],
                                      "b": (np.array(doc["layers"][0]["b"]) + E[k]).tolist()}]}
        for row in want[1:]:
            codes = [doc["vocabulary"].index(c) for c in row[0].lower()]
            steps = json_net_log_probs(shifted, codes)
            ll = sum(lp[t] for lp, t in zip(steps, codes + [0], strict=True)) / (len(codes) + 1)
            assert ll == pytest.approx(float(row[1 + k]), abs=1e-6), (label, row[0])

