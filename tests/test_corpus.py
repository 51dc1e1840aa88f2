import os

import pytest

from dinogui.core.corpus import (
    MAX_CORPUS_BYTES,
    CorpusError,
    Vocab,
    bundled_corpus_path,
    corpus_from_names,
    load_corpus,
)


def test_bom_crlf_whitespace_blank_lines(tmp_path):
    p = tmp_path / "names.txt"
    p.write_bytes("\ufeffAlpha\r\n  Beta  \r\n\r\n\tGamma\r\n\r\n".encode())
    c = load_corpus(p)
    assert c.names == ["alpha", "beta", "gamma"]
    assert c.vocab.chars[0] == "\n"
    assert "\ufeff" not in c.vocab.chars and "\r" not in c.vocab.chars


def test_lowercase_is_switchable(tmp_path):
    p = tmp_path / "n.txt"
    p.write_text("Rex\nrex\n", encoding="utf-8")
    assert load_corpus(p).names == ["rex", "rex"]
    kept = load_corpus(p, lowercase=False)
    assert kept.names == ["Rex", "rex"]
    assert "R" in kept.vocab.chars


def test_duplicates_reported_and_kept_like_the_seed():
    c = corpus_from_names(["a", "b", "A", "c", "b"])
    assert c.names == ["a", "b", "a", "c", "b"]
    assert c.duplicates == ["a", "b"]
    assert c.stats().duplicates == 2


def test_vocab_is_built_from_the_corpus_with_newline_first():
    c = corpus_from_names(["é-x", "zoë"])
    assert c.vocab.chars == ("\n", "-", "o", "x", "z", "é", "ë")
    assert c.vocab.decode(c.vocab.encode("zoë")) == "zoë"
    with pytest.raises(ValueError, match="not in the vocabulary"):
        c.vocab.encode("q")


def test_vocab_keeps_newline_first_even_for_control_characters():
    v = Vocab.from_names(["a\tb"])
    assert v.chars == ("\n", "\t", "a", "b")


def test_stats_and_histogram():
    c = corpus_from_names(["ab", "abcd", "abcd", "xyzxyz"])
    s = c.stats()
    assert (s.names, s.characters, s.shortest, s.longest) == (4, 16, 2, 6)
    assert s.mean_length == pytest.approx(4.0)
    assert s.vocab_size == 1 + len(set("abcdxyz"))
    xs, counts = c.length_histogram()
    assert xs.tolist() == [2, 3, 4, 5, 6]
    assert counts.tolist() == [1, 0, 2, 0, 1]


@pytest.mark.parametrize("content", [b"", b"\n\n  \r\n\t\n"])
def test_empty_or_blank_file(tmp_path, content):
    p = tmp_path / "blank.txt"
    p.write_bytes(content)
    with pytest.raises(CorpusError, match="no names"):
        load_corpus(p)


def test_binary_file(tmp_path):
    p = tmp_path / "image.png"
    p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(CorpusError, match="binary"):
        load_corpus(p)


def test_undecodable_file(tmp_path):
    p = tmp_path / "latin1.txt"
    p.write_bytes("Zoë\nBjörk\n".encode("latin-1"))
    with pytest.raises(CorpusError, match="not UTF-8"):
        load_corpus(p)


def test_missing_path_and_folder(tmp_path):
    with pytest.raises(CorpusError, match="no such file"):
        load_corpus(tmp_path / "nope.txt")
    with pytest.raises(CorpusError, match="folder"):
        load_corpus(tmp_path)


def test_too_large_file(tmp_path):
    p = tmp_path / "huge.txt"
    with open(p, "wb") as f:  # sparse: costs no disk
        f.truncate(MAX_CORPUS_BYTES + 1)
    with pytest.raises(CorpusError, match="too large"):
        load_corpus(p)


def test_bundled_corpus_is_real_dinosaur_genera():
    path = bundled_corpus_path()
    assert path.is_file()
    c = load_corpus(path)
    assert c.stats().names >= 1000
    for genus in ("tyrannosaurus", "triceratops", "stegosaurus", "velociraptor", "diplodocus"):
        assert genus in c.name_set()
    assert set(c.vocab.chars) <= set("\nabcdefghijklmnopqrstuvwxyz")


def test_bundled_corpus_is_not_a_copy_of_the_shared_reference():
    from tests.conftest import shared_file

    ref = shared_file("dinos.txt")
    assert bundled_corpus_path().read_bytes() != ref.read_bytes()
    assert os.path.getsize(bundled_corpus_path()) > 0
