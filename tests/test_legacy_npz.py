"""The guards on reading .npz checkpoints of version 1: hostile or damaged zips are refused
with "damaged checkpoint" and the path, never a library traceback or a big allocation."""

import io
import json
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest

from dinogui.core import checkpoint, legacy_npz
from dinogui.core.checkpoint import CheckpointError
from tests.checkpoint_files import read_npz, write_npz

FIXTURE = Path(__file__).parent / "data" / "legacy-classic.npz"


def central_entry(raw: bytes, member: str) -> int:
    """The offset of `member`'s entry in the zip's central directory."""
    at = raw.index(b"PK\x01\x02")  # np.savez writes no member data that holds this
    while True:
        n, m, k = struct.unpack("<HHH", raw[at + 28 : at + 34])
        if raw[at + 46 : at + 46 + n] == member.encode():
            return at
        at += 46 + n + m + k


def patched(tmp_path, offset_in_entry: int, value: bytes, member="param/Wax.npy") -> Path:
    raw = bytearray(FIXTURE.read_bytes())
    at = central_entry(bytes(raw), member) + offset_in_entry
    raw[at : at + len(value)] = value
    out = tmp_path / "patched.npz"
    out.write_bytes(bytes(raw))
    return out


def refused(path, reason):
    with pytest.raises(CheckpointError, match=reason) as e:
        checkpoint.load(path)
    assert str(e.value).startswith(f"{path}: damaged checkpoint")
    return str(e.value)


def test_an_unknown_compression_method_is_refused(tmp_path):
    refused(patched(tmp_path, 10, struct.pack("<H", 99)), "compression method 99")


def test_an_encrypted_member_is_refused(tmp_path):
    refused(patched(tmp_path, 8, struct.pack("<H", 1)), "encrypted")


def test_flipped_bits_in_the_central_directory_never_escape(tmp_path):
    raw = FIXTURE.read_bytes()
    start = raw.index(b"PK\x01\x02")
    rng = np.random.default_rng(7)
    outcomes = set()
    for i, at in enumerate(rng.integers(start, len(raw), 150)):
        bad = bytearray(raw)
        bad[at] ^= 1 << int(rng.integers(8))
        path = tmp_path / f"flip{i}.npz"
        path.write_bytes(bytes(bad))
        try:
            checkpoint.load(path)
            outcomes.add("loaded")  # a bit no reader needs (a timestamp, an attribute)
        except CheckpointError as e:
            assert str(e).startswith(f"{path}: ") and "\n" not in str(e)
            outcomes.add("refused")
    assert outcomes == {"loaded", "refused"}


def test_a_member_that_is_not_an_array_is_refused(tmp_path):
    meta, arrays = read_npz(FIXTURE)
    path = write_npz(tmp_path / "c.npz", meta, arrays)
    with pytest.warns(UserWarning, match="Duplicate name"), zipfile.ZipFile(path, "a") as z:
        z.writestr("names.npy", b"just some text, not an array")  # a second 'names'
    refused(path, "twice")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        with zipfile.ZipFile(FIXTURE) as old:
            for info in old.infolist():
                data = b"hello" if info.filename == "state/order.npy" else old.read(info)
                z.writestr(info.filename, data)
    (tmp_path / "text.npz").write_bytes(buf.getvalue())
    refused(tmp_path / "text.npz", "'state/order' is not a NumPy array")


def test_deeply_nested_metadata_is_refused(tmp_path):
    _, arrays = read_npz(FIXTURE)
    deep = "[" * 50_000 + "]" * 50_000
    np.savez(tmp_path / "deep.npz", meta=np.frombuffer(deep.encode(), np.uint8), **arrays)
    refused(tmp_path / "deep.npz", "nested too deeply")


def test_declared_sizes_are_judged_before_any_data_is_read(tmp_path, monkeypatch):
    """A small file whose arrays claim to be huge: refused from the headers alone, and a
    deflated 'bomb' is never inflated."""
    meta, arrays = read_npz(FIXTURE)
    read = []
    real_read = legacy_npz.LegacyNpz.read
    monkeypatch.setattr(legacy_npz.LegacyNpz, "read",
                        lambda self, name: read.append(name) or real_read(self, name))
    arrays["hist/loss"] = np.zeros(5_000_000)  # 40 MB of zeros: ~40 kB deflated
    bomb = tmp_path / "bomb.npz"
    buf = io.BytesIO()
    np.savez_compressed(buf, meta=np.frombuffer(json.dumps(meta).encode(), np.uint8), **arrays)
    bomb.write_bytes(buf.getvalue())
    assert bomb.stat().st_size < 1_000_000
    refused(bomb, "hist/.* has the shape|loss history")
    assert "hist/loss" not in read

    # a member whose .npy header declares ten billion elements in a few bytes
    arrays = read_npz(FIXTURE)[1]
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.zeros(3))
    header = buf.getvalue().replace(b"(3,)", b"(9999999999,)".ljust(4))
    path = write_npz(tmp_path / "claims.npz", meta, arrays)
    with zipfile.ZipFile(path, "a") as z:
        z.writestr("best/Wax.npy", header)
    refused(path, "not the size its header declares|impossible size")


def test_a_member_claiming_more_than_its_stored_bytes_is_refused(tmp_path):
    refused(patched(tmp_path, 24, struct.pack("<I", 2**31)), "impossible size")


def test_unknown_members_are_never_opened(tmp_path):
    """A member dinogui does not know is skipped unread, whatever it holds."""
    meta, arrays = read_npz(FIXTURE)
    path = write_npz(tmp_path / "c.npz", meta, arrays)
    with zipfile.ZipFile(path, "a") as z:
        z.writestr("readme.txt", b"x" * 100)
    raw = bytearray(path.read_bytes())
    at = central_entry(bytes(raw), "readme.txt")
    raw[at + 10 : at + 12] = struct.pack("<H", 99)  # a method no reader supports
    raw[at + 8 : at + 10] = struct.pack("<H", 1)  # and encrypted
    path.write_bytes(bytes(raw))
    assert checkpoint.load(path).iteration == 25


def test_truncated_legacy_files_are_refused(tmp_path):
    raw = FIXTURE.read_bytes()
    for cut in (10, 100, len(raw) // 2, len(raw) - 30):
        path = tmp_path / f"cut{cut}.npz"
        path.write_bytes(raw[:cut])
        refused(path, "zip|ends|damaged|size")
