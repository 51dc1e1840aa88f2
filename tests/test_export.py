"""`dinogui score` and `dinogui export`: the generators run as a user runs them (Python with
-I -S in a subprocess, the ES module under node) and agree with `dinogui score`."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from dinogui.cli import main
from dinogui.core import checkpoint
from dinogui.core.models.ops import log_softmax, sigmoid

NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed")
NAMES = ("Ada", "finnegan", "cyrus", "e", "Bobada")  # a capital: the model reads it lower-cased
CORPUS = ("Ada\nBob\nCyrus\nDan\nEve\nFinnegan\nGus\nHal\nAbigail\nBernadette\nCedric\n"
          "Danica\nEvangeline\nFiona\nGunnar\nHelena\n")
MODELS = {  # name: train flags
    "classic": ["--preset", "classic", "--hidden", "9"],
    "rnn": ["--preset", "default", "--cell", "rnn", "--hidden", "9"],
    "gru": ["--preset", "default", "--cell", "gru", "--hidden", "7"],
    "lstm": ["--preset", "default", "--cell", "lstm", "--hidden", "6"],
    "gru-2": ["--preset", "default", "--cell", "gru", "--layers", "2", "--hidden", "5"],
    "lstm-3": ["--preset", "default", "--cell", "lstm", "--layers", "3", "--hidden", "4"],
}


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def train_all(folder, models: dict, *common: str) -> dict:
    """`dinogui train` of each model (its flags after the common ones): {model: checkpoint}."""
    made = {}
    for name, flags in models.items():
        made[name] = folder / f"{name}.safetensors"
        assert main(["train", *common, "--quiet", "--save", str(made[name]), *flags]) == 0
    return made


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    corpus = folder / "names.txt"
    corpus.write_text(CORPUS, encoding="utf-8")
    return train_all(folder, MODELS, "--corpus", str(corpus), "--iterations", "150")


@pytest.fixture(scope="module")
def exports(checkpoints, tmp_path_factory):
    """Every model in every format: exports[model][format] -> path."""
    return export_all(checkpoints, tmp_path_factory.mktemp("exports"))


def export_all(checkpoints: dict, folder) -> dict:
    """`dinogui export` of each checkpoint in every format: {model: {format: path}}."""
    made = {}
    for name, ckpt in checkpoints.items():
        made[name] = {}
        for fmt, suffix in (("py", ".py"), ("js", ".mjs"), ("json", ".json")):
            path = folder / f"{name.replace('-', '_')}{suffix}"
            assert main(["export", "--checkpoint", str(ckpt), "--format", fmt,
                         "--out", str(path)]) == 0
            made[name][fmt] = path
    return made


def generator(path, *argv) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-I", "-S", str(path)] if path.suffix == ".py" else [NODE, str(path)]
    return subprocess.run(cmd + [str(a) for a in argv], capture_output=True, text=True,
                          timeout=120)


def scores_of(text: str) -> dict[str, float]:
    return {line.split("\t")[0]: float(line.split("\t")[1]) for line in text.splitlines()}


def dinogui_scores(capsys, ckpt, names=NAMES) -> dict[str, float]:
    code, out, err = run(capsys, "score", "--checkpoint", ckpt, *names)
    assert code == 0 and err == "", err
    return scores_of(out)


def float64_scores(ckpt, names=NAMES) -> np.ndarray:
    sampler = checkpoint.load(ckpt).sampler()
    wide = dataclasses.replace(sampler, params={k: v.astype(np.float64)
                                                for k, v in sampler.params.items()})
    return wide.loglik_per_char([n.lower() for n in names])


def load_module(path):
    spec = importlib.util.spec_from_file_location(f"exported_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- dinogui score ----------------------------------------------------------------------------
def test_score_prints_name_tab_loglik_per_char_in_float64(capsys, checkpoints):
    for ckpt in checkpoints.values():
        got = dinogui_scores(capsys, ckpt)
        assert list(got) == list(NAMES)  # in order, each name as given
        np.testing.assert_allclose(list(got.values()), float64_scores(ckpt), atol=5e-7, rtol=0)


def test_score_is_the_number_sample_scores_prints(capsys, checkpoints):
    code, out, _ = run(capsys, "sample", "--checkpoint", checkpoints["gru"], "--scores",
                       "--count", "5", "--seed", "2")
    drawn = [(line.split("\t")[0], float(line.split("\t")[1])) for line in out.splitlines()]
    got = dinogui_scores(capsys, checkpoints["gru"], [n for n, _ in drawn])
    for name, s in drawn:
        assert got[name] == pytest.approx(s, abs=6e-5)  # 4 decimals there, float32 weights


def test_score_refuses_unknown_characters_by_name_and_scores_the_rest(capsys, checkpoints):
    code, out, err = run(capsys, "score", "--checkpoint", checkpoints["rnn"], "ada",
                         "x1\x1b", "eve")
    assert code == 1
    assert list(scores_of(out)) == ["ada", "eve"]
    assert err.splitlines() == ["dinogui: cannot score 'x1\\x1b': character 'x' is not in the "
                                "vocabulary of this model"]


def test_score_reads_a_file_and_refuses_labels_and_nothing(capsys, checkpoints, tmp_path):
    names = tmp_path / "some.txt"
    names.write_text("ada\n\n  eve  \r\ncyrus\n", encoding="utf-8")
    code, out, err = run(capsys, "score", "--checkpoint", checkpoints["lstm"], "bob",
                         "--file", names)
    assert code == 0 and list(scores_of(out)) == ["bob", "ada", "eve", "cyrus"]
    code, out, err = run(capsys, "score", "--checkpoint", checkpoints["lstm"], "bob",
                         "--label", "elf")
    assert code == 2 and out == ""
    assert err == ("dinogui: error: --label 'elf': unknown label (known labels: none: this "
                   "model has no labels)\n")
    code, out, err = run(capsys, "score", "--checkpoint", checkpoints["lstm"])
    assert code == 2 and len(err.splitlines()) == 1 and "give names to score" in err


# -- the generators agree with dinogui score ------------------------------------------------
@pytest.mark.parametrize("model", list(MODELS))
def test_python_generator_scores_like_dinogui_under_isolated_python(capsys, checkpoints,
                                                                   exports, model):
    done = generator(exports[model]["py"], "--score", *NAMES)
    assert done.returncode == 0, done.stderr
    want = dinogui_scores(capsys, checkpoints[model])
    got = scores_of(done.stdout)
    assert list(got) == list(want)
    for name in NAMES:
        assert abs(got[name] - want[name]) <= 1e-6
    # imported, at full precision
    module = load_module(exports[model]["py"])
    full = [module.score(n) for n in NAMES]
    np.testing.assert_allclose(full, float64_scores(checkpoints[model]), atol=1e-9, rtol=0)


@needs_node
@pytest.mark.parametrize("model", list(MODELS))
def test_js_generator_scores_like_dinogui_under_node(capsys, checkpoints, exports, model):
    done = generator(exports[model]["js"], "--score", *NAMES)
    assert done.returncode == 0, done.stderr
    want = dinogui_scores(capsys, checkpoints[model])
    got = scores_of(done.stdout)
    assert list(got) == list(want)
    for name in NAMES:
        assert abs(got[name] - want[name]) <= 1e-6


@needs_node
def test_js_module_imported_gives_full_precision_scores(checkpoints, exports):
    path = exports["lstm-3"]["js"]
    script = (f"import {{ score }} from {json.dumps(path.as_uri())};"
              f"console.log(JSON.stringify({json.dumps(list(NAMES))}.map((n) => score(n))));")
    done = subprocess.run([NODE, "--input-type=module", "-e", script], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    np.testing.assert_allclose(json.loads(done.stdout), float64_scores(checkpoints["lstm-3"]),
                               atol=1e-9, rtol=0)


# -- draws ------------------------------------------------------------------------------------
def test_python_draws_are_deterministic_per_seed_and_a_longer_count_keeps_the_first(exports):
    module = load_module(exports["gru-2"]["py"])
    a = module.sample(count=12, seed=7)
    assert a == module.sample(count=12, seed=7)
    assert a != module.sample(count=12, seed=8)
    assert module.sample(count=5, seed=7) == a[:5]
    assert all(a) and len(set(a)) > 3  # no empty names; not one name repeated


@needs_node
@pytest.mark.parametrize("model", ["classic", "lstm", "gru-2"])
def test_python_and_js_draw_the_same_names_for_a_seed(exports, model):
    for argv in (["--count", "15", "--seed", "3"],
                 ["--count", "8", "--seed", "4294967295", "--temperature", "1.7",
                  "--prefix", "Da", "--max-len", "6"]):
        py, js = generator(exports[model]["py"], *argv), generator(exports[model]["js"], *argv)
        assert py.returncode == js.returncode == 0, py.stderr + js.stderr
        assert py.stdout == js.stdout and len(py.stdout.splitlines()) == int(argv[1])
    again = generator(exports[model]["js"], "--count", "15", "--seed", "3")
    other = generator(exports[model]["js"], "--count", "15", "--seed", "4")
    assert again.stdout == generator(exports[model]["py"], "--count", "15",
                                     "--seed", "3").stdout
    assert other.stdout != again.stdout


@pytest.mark.parametrize("model", ["rnn", "lstm-3"])
def test_generator_command_line_options(capsys, checkpoints, exports, model):
    path = exports[model]["py"]
    lines = generator(path, "--count", "40", "--seed", "1", "--prefix", "Ev",
                      "--max-len", "4", "--temperature", "3").stdout.splitlines()
    assert len(lines) == 40
    assert all(n.startswith("Ev") and 3 <= len(n) <= 4 for n in lines), lines  # never empty
    assert any(len(n) == 4 for n in lines)  # the cap is reached, not undercut
    hot = generator(path, "--count", "20", "--seed", "1", "--temperature", "3").stdout
    assert hot != generator(path, "--count", "20", "--seed", "1").stdout
    # near temperature 0 every draw is the most likely letter: dinogui's greedy name
    cold = generator(path, "--count", "3", "--seed", "9", "--temperature", "0.0001").stdout
    code, greedy, _ = run(capsys, "sample", "--checkpoint", checkpoints[model], "--top-k", "1",
                          "--count", "1")
    assert cold.splitlines() == greedy.splitlines() * 3


@pytest.mark.parametrize("fmt", ["py", pytest.param("js", marks=needs_node)])
def test_generator_refuses_bad_input_in_one_line(exports, fmt):
    path = exports["gru"][fmt]
    for argv in (["--count", "0"], ["--seed", "-1"], ["--seed", "4294967296"],
                 ["--temperature", "0"], ["--temperature", "x"], ["--max-len", "0"],
                 ["--prefix", "Q9"], ["--prefix", "bernadette", "--max-len", "3"],
                 ["--score", "ada", "--label", "elf"] if fmt == "py"
                 else ["--label", "elf", "--score", "ada"], ["--score", "a9"], ["--bogus"]):
        done = generator(path, *argv)
        assert done.returncode == 2 and done.stdout == "", (argv, done.stdout)
        assert len(done.stderr.splitlines()) == 1 and done.stderr.startswith("error: "), argv
    done = generator(path, "--score", "ada", "--label", "elf") if fmt == "py" else \
        generator(path, "--label", "elf", "--score", "ada")
    assert "known labels: none" in done.stderr


# -- the json export --------------------------------------------------------------------------
def json_net_log_probs(doc: dict, codes: list[int]) -> list[np.ndarray]:
    """A loader written from docs/export.md alone: the reference cells in NumPy; the
    next-character log-probabilities before each of codes and the end."""
    arch, H = doc["architecture"], doc["architecture"]["hidden"]
    layers = [{k: np.array(v) for k, v in layer.items()} for layer in doc["layers"]]
    W_hy, b_y = np.array(doc["head"]["W_hy"]), np.array(doc["head"]["b_y"])
    states = [[np.zeros(H), np.zeros(H)] for _ in layers]
    x, out = -1, []
    for target in codes + [0]:
        inp = np.zeros(len(doc["vocabulary"]))
        if x >= 0:
            inp[x] = 1.0
        for i, p in enumerate(layers):
            h, c = states[i]
            zx, a = inp @ p["W_x"] + p["b"], h @ p["W_h"]
            if arch["cell"] == "rnn":
                h = np.tanh(zx + a)
            elif arch["cell"] == "gru":
                r, z = sigmoid(zx[:H] + a[:H]), sigmoid(zx[H:2 * H] + a[H:2 * H])
                n = np.tanh(zx[2 * H:] + r * (a[2 * H:] + p["b_hn"]))
                h = (1 - z) * n + z * h
            else:
                s = zx + a
                c = sigmoid(s[H:2 * H]) * c + sigmoid(s[:H]) * np.tanh(s[3 * H:])
                h = sigmoid(s[2 * H:3 * H]) * np.tanh(c)
            states[i], inp = [h, c], h
        out.append(log_softmax(inp @ W_hy + b_y))
        x = target
    return out


def json_codes(doc: dict, name: str) -> list[int]:
    return [doc["vocabulary"].index(c) for c in (name.lower() if doc["lowercase"] else name)]


def json_loglik(doc: dict, name: str) -> float:
    codes = json_codes(doc, name)
    steps = json_net_log_probs(doc, codes)
    return sum(lp[t] for lp, t in zip(steps, codes + [0], strict=True)) / (len(codes) + 1)


@pytest.mark.parametrize("model", list(MODELS))
def test_json_export_round_trip_scores_like_dinogui(checkpoints, exports, model):
    doc = json.loads(exports[model]["json"].read_text(encoding="utf-8"))
    assert doc["format"] == "dinogui-generator" and doc["version"] == 1
    assert doc["labels"] == [] and doc["vocabulary"][0] == "\n" and doc["lowercase"] is True
    trainer = checkpoint.load(checkpoints[model])
    assert doc["architecture"] == {
        "preset": trainer.config.preset, "cell": "rnn" if model == "classic" else
        trainer.config.cell, "layers": trainer.config.layers if model != "classic" else 1,
        "hidden": trainer.config.hidden,
        "dtype": "float64" if model == "classic" else trainer.config.dtype}
    got = [json_loglik(doc, n) for n in NAMES]
    np.testing.assert_allclose(got, float64_scores(checkpoints[model]), atol=1e-9, rtol=0)


# -- dinogui export: bad input ----------------------------------------------------------------
def test_export_refuses_bad_input_in_one_line_and_writes_nothing(capsys, checkpoints, tmp_path):
    ckpt = checkpoints["rnn"]
    blocker = tmp_path / "a-file"
    blocker.write_text("keep", encoding="utf-8")
    cases = [(["--format", "exe", "--out", tmp_path / "x.exe"], "invalid choice: 'exe'"),
             (["--format", "py", "--out", blocker / "x.py"], "a-file/x.py"),
             (["--format", "py", "--out", tmp_path], str(tmp_path)),
             (["--format", "json", "--out", ckpt], "that is the checkpoint itself")]
    for argv, says in cases:
        code, out, err = run(capsys, "export", "--checkpoint", ckpt, *argv)
        assert code == 2 and out == "" and len(err.splitlines()) == 1, err
        assert err.startswith("dinogui: error: ") and says in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]
    assert blocker.read_text(encoding="utf-8") == "keep"
    assert checkpoint.load(ckpt).iteration == 150  # the checkpoint is whole


def test_export_says_what_it_wrote(capsys, checkpoints, tmp_path):
    out_path = tmp_path / "gen.js"
    code, out, err = run(capsys, "export", "--checkpoint", checkpoints["gru"], "--format", "js",
                         "--out", out_path)
    assert code == 0
    assert out == f"wrote {out_path}: a js generator, {out_path.stat().st_size:,} bytes\n"
    assert "ends in .mjs" in err


@needs_node
def test_js_module_runs_where_there_is_no_node_process_as_in_a_browser(exports):
    path = exports["gru"]["js"]
    script = ("const node = globalThis.process;"
              "Object.defineProperty(globalThis, 'process', {value: undefined, "
              "configurable: true, writable: true});"
              f"const m = await import({json.dumps(path.as_uri())});"
              "const out = JSON.stringify(m.sample({ count: 4, seed: 3 }));"
              "globalThis.process = node; console.log(out);")
    done = subprocess.run([NODE, "--input-type=module", "-e", script], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    under_node = generator(path, "--count", "4", "--seed", "3").stdout.splitlines()
    assert [n[:1].upper() + n[1:] for n in json.loads(done.stdout)] == under_node
