import os
import re

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


# -- hostile and unlucky files --------------------------------------------------

def _refused(path, match):
    with pytest.raises(CorpusError, match=match) as info:
        load_corpus(path)
    assert str(info.value).startswith(f"{path}: "), "every refusal names the file"
    return str(info.value)


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_with_a_byte_order_mark_is_decoded(tmp_path, codec):
    p = tmp_path / "u16.txt"
    p.write_bytes("\ufeffZoë\r\nBjörk\n".encode(codec))
    assert load_corpus(p).names == ["zoë", "björk"]


def test_utf16_without_a_mark_is_refused_with_what_to_do(tmp_path):
    p = tmp_path / "u16.txt"
    p.write_bytes("Anna\nBob\nCarl\n".encode("utf-16-le"))
    assert "save it as UTF-8" in _refused(p, "UTF-16")


def test_damaged_utf16_is_refused(tmp_path):
    p = tmp_path / "u16.txt"
    p.write_bytes(b"\xff\xfe" + "Anna\n".encode("utf-16-le") + b"\x00\xd8")  # lone surrogate
    _refused(p, "UTF-16 with a damaged character at byte 12")


def test_every_file_start_loses_its_byte_order_mark(tmp_path):
    """Files joined with `cat` keep each one's mark at the start of a line."""
    p = tmp_path / "joined.txt"
    p.write_bytes("\ufeffAnna\nBob\n".encode() + "\ufeffCarl\r\n".encode() + b"\xef\xbb\xbfDan")
    c = load_corpus(p)
    assert c.names == ["anna", "bob", "carl", "dan"]
    assert "\ufeff" not in c.vocab.chars


@pytest.mark.parametrize("char, shown", [("\x1b", "U+001B ESC"), ("\x07", "U+0007 BEL"),
                                         ("\x00", "U+0000 NUL"), ("\x7f", "U+007F DEL"),
                                         ("\x9b", "U+009B"), ("\x85", "U+0085 NEL"),
                                         ("\x0b", "U+000B VT"), ("\x0c", "U+000C FF"),
                                         ("\u2028", "U+2028 LINE SEPARATOR")])
def test_control_characters_are_refused_with_the_line_number(tmp_path, char, shown):
    p = tmp_path / "c.txt"
    text = f"anna\nbob\nca{char}rl\ndan\n"
    # NUL only reaches the line check through UTF-16 (in UTF-8 it makes a binary file)
    p.write_bytes(("\ufeff" + text).encode("utf-16-le") if char == "\x00" else text.encode())
    msg = _refused(p, re.escape(f"line 3 holds the control character {shown};"))
    assert "(and" not in msg


def test_control_characters_at_a_line_end_are_refused_too(tmp_path):
    """Whitespace-like controls are not stripped away silently: they are refused."""
    p = tmp_path / "c.txt"
    p.write_text("anna\nbob\x1c\nx\x1b\n", encoding="utf-8")
    _refused(p, r"line 2 \(and 1 more line\) holds the control character U\+001C")


def test_a_tab_inside_a_name_is_refused_but_tabs_around_it_are_stripped(tmp_path):
    p = tmp_path / "t.txt"
    p.write_text("\tanna\t\n bob \n", encoding="utf-8")
    assert load_corpus(p).names == ["anna", "bob"]
    p.write_text("anna\nbo\tb\nca\trl\n", encoding="utf-8")
    _refused(p, r"line 2 \(and 1 more line\) has a tab inside a name")


def test_names_longer_than_the_limit_are_refused_with_the_line_number(tmp_path):
    from dinogui.core.corpus import MAX_NAME_CHARS

    p = tmp_path / "long.txt"
    p.write_text(f"anna\n  {'a' * MAX_NAME_CHARS}  \nbob\n", encoding="utf-8")
    assert load_corpus(p).stats().longest == MAX_NAME_CHARS  # exactly the limit: accepted
    p.write_text(f"anna\n{'a' * (MAX_NAME_CHARS + 1)}\n", encoding="utf-8")
    _refused(p, "line 2 is 1,001 characters long; a name may have at most 1,000")


def test_only_newline_carriage_return_and_crlf_end_a_line(tmp_path):
    p = tmp_path / "n.txt"
    p.write_bytes(b"anna\rbob\r\ncarl\n\ndan")
    c = load_corpus(p)
    assert c.names == ["anna", "bob", "carl", "dan"]


def test_messages_escape_control_characters_in_the_file_name(tmp_path):
    p = tmp_path / "evil\x1b]0;owned\x07.txt"
    p.write_text("", encoding="utf-8")
    with pytest.raises(CorpusError) as info:
        load_corpus(p)
    msg = str(info.value)
    assert "\x1b" not in msg and "\x07" not in msg
    assert "evil\\x1b]0;owned\\x07.txt: no names" in msg


def test_dev_zero_is_refused_after_one_chunk():
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero on this system")
    _refused("/dev/zero", "binary file")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes need POSIX")
def test_a_named_pipe_with_no_writer_does_not_hang(tmp_path, monkeypatch):
    import dinogui.core.corpus as corpus_mod

    monkeypatch.setattr(corpus_mod, "IDLE_SECONDS", 0.05)  # a timeout, 30 s in use
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    _refused(fifo, "is a pipe nothing wrote to in 0 s")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes need POSIX")
def test_an_endless_pipe_is_read_up_to_the_limit_only(tmp_path, monkeypatch):
    import subprocess
    import sys

    import dinogui.core.corpus as corpus_mod

    monkeypatch.setattr(corpus_mod, "MAX_CORPUS_BYTES", 3 * corpus_mod.CHUNK)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    # a writer that never stops (like `yes anna > pipe`); it dies of SIGPIPE once we close
    writer = subprocess.Popen([sys.executable, "-c", "import sys\nf = open(sys.argv[1], 'w')\n"
                               "while True: f.write('anna\\n' * 1000)", str(fifo)],
                              stderr=subprocess.DEVNULL)
    try:
        msg = _refused(fifo, "more than 3 MB is too large for a name list")
        assert "limit is 3 MB" in msg
    finally:
        writer.kill()
        writer.wait()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes need POSIX")
def test_a_pipe_being_written_is_read_whole(tmp_path):
    import subprocess
    import sys

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    writer = subprocess.Popen([sys.executable, "-c", "import sys\nf = open(sys.argv[1], 'w')\n"
                               "f.write('anna\\nbob\\n' * 50000)", str(fifo)])
    try:  # whether the writer opens the pipe before or after load_corpus does
        assert len(load_corpus(fifo).names) == 100_000
    finally:
        writer.kill()
        writer.wait()


def test_the_file_is_named_when_it_cannot_be_read(tmp_path):
    p = tmp_path / "locked.txt"
    p.write_text("anna\n", encoding="utf-8")
    p.chmod(0)
    try:
        if os.access(p, os.R_OK):
            pytest.skip("running as a user who reads any file")
        _refused(p, "cannot be read")
    finally:
        p.chmod(0o644)
