"""Names by kind from the command line: train on several files, sample and score by label."""

import pytest

from dinogui.cli import main
from dinogui.core import checkpoint
from tests.kind_files import kind_files


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("labels")
    a, b = kind_files(tmp, 150)
    path = tmp / "kinds.safetensors"
    code = main(["train", "--corpus", a, "--corpus", b, "--cell", "gru", "--hidden", "32",
                 "--lr", "0.01", "--iterations", "300", "--sample-every", "300", "--quiet",
                 "--save", str(path)])
    assert code == 0
    return path


def test_train_on_two_files_reports_the_labels(capsys, tmp_path):
    a, b = kind_files(tmp_path, 20)
    code, out, err = run(capsys, "train", "--corpus", a, "--corpus", b, "--iterations", "3",
                         "--sample-every", "3", "--save", str(tmp_path / "m.safetensors"))
    assert code == 0, err
    assert "labels: abc 20, vwx 20" in out
    t = checkpoint.load(tmp_path / "m.safetensors")
    assert t.corpus.labels == ("abc", "vwx") and t.corpus.label_counts() == {"abc": 20, "vwx": 20}


def test_a_tab_labelled_file_trains_a_labelled_model(capsys, tmp_path):
    (tmp_path / "k.tsv").write_text("lira\telf\nthorin\tdwarf\ngimli\tdwarf\nelrond\telf\n")
    code, _, err = run(capsys, "train", "--corpus", str(tmp_path / "k.tsv"), "--iterations", "2",
                       "--sample-every", "2", "--val-fraction", "0", "--save",
                       str(tmp_path / "m.safetensors"))
    assert code == 0, err
    assert checkpoint.load(tmp_path / "m.safetensors").corpus.labels == ("elf", "dwarf")


def test_classic_refuses_labels_in_one_line(capsys, tmp_path):
    a, b = kind_files(tmp_path, 10)
    code, out, err = run(capsys, "train", "--corpus", a, "--corpus", b, "--preset", "classic",
                         "--iterations", "2")
    assert code == 2 and err.count("\n") == 1 and "default preset" in err


def test_sample_by_label_keeps_every_other_option(capsys, model):
    for label, own in (("abc", set("abcde")), ("vwx", set("vwxyz"))):
        code, out, err = run(capsys, "sample", "--checkpoint", str(model), "--label", label,
                             "--count", "50", "--temperature", "0.6", "--seed", "3")
        assert code == 0, err
        assert set("".join(out.split()).lower()) == own
    code, out, _ = run(capsys, "sample", "--checkpoint", str(model), "--label", "vwx",
                       "--count", "20", "--prefix", "zz", "--top-p", "0.9")
    names = out.split()
    assert len(names) == 20 and all(n.lower().startswith("zz") for n in names)
    assert all(set(n.lower()) <= set("vwxyz") for n in names)
    code, out, _ = run(capsys, "sample", "--checkpoint", str(model), "--label", "abc",
                       "--beam", "5")
    assert code == 0 and len(out.split()) == 5
    assert all(set(n.lower()) <= set("abcde") for n in out.split())
    # the same seed, another kind: other names
    one = run(capsys, "sample", "--checkpoint", str(model), "--label", "abc:0.5,vwx:0.5",
              "--count", "200", "--seed", "1")[1]
    letters = set("".join(one.split()).lower())
    assert letters & set("abcde") and letters & set("vwxyz")


@pytest.mark.parametrize(("label", "why"), [
    ("elves", "unknown label 'elves' (known labels: abc, vwx)"),
    ("abc:0", "must be a positive number"),
    ("abc:0.5,vwx:-0.5", "must be a positive number"),
    ("abc:x", "not a number"),
])
def test_bad_labels_are_refused_with_the_known_ones(capsys, model, label, why):
    code, out, err = run(capsys, "sample", "--checkpoint", str(model), "--label", label)
    assert code == 2 and out == "" and err.count("\n") == 1 and why in err
    code, out, err = run(capsys, "score", "--checkpoint", str(model), "--label", label, "abc")
    assert code != 0 and out == "" and why in err and "Traceback" not in err


def test_score_prints_a_column_per_label_and_the_likeliest(capsys, model):
    code, out, err = run(capsys, "score", "--checkpoint", str(model), "abcd", "vwxz", "eba")
    assert code == 0, err
    lines = [line.split("\t") for line in out.splitlines()]
    assert lines[0] == ["name", "abc", "vwx", "best"]
    assert [r[0] for r in lines[1:]] == ["abcd", "vwxz", "eba"]
    assert [r[3] for r in lines[1:]] == ["abc", "vwx", "abc"]
    for r in lines[1:]:
        assert all(len(v.split(".")[1]) == 6 for v in r[1:3])
    t = checkpoint.load(model)
    for r in lines[1:]:
        for col, label in ((1, "abc"), (2, "vwx")):
            want = t.sampler().with_label(label).loglik_per_char([r[0]])[0]
            assert float(r[col]) == pytest.approx(want, abs=2e-6)
    code, out, _ = run(capsys, "score", "--checkpoint", str(model), "--label", "vwx", "vwxz")
    assert out.splitlines() == [f"vwxz\t{float(lines[2][2]):.6f}"]


def test_label_on_an_unlabelled_model_is_refused(capsys, tiny_corpus, tmp_path):
    path = tmp_path / "plain.safetensors"
    main(["train", "--corpus", str(tiny_corpus), "--iterations", "2", "--quiet",
          "--save", str(path)])
    capsys.readouterr()
    code, out, err = run(capsys, "sample", "--checkpoint", str(path), "--label", "elf")
    assert code == 2 and "this model has no labels" in err
    code, out, err = run(capsys, "score", "--checkpoint", str(path), "--label", "elf", "ab")
    assert code != 0 and "this model has no labels" in err
