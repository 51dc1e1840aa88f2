"""Which kind of file the user pointed at (`dinogui FILE`, a drop, a recent file): a checkpoint
or a name list, told by its first bytes, not its name."""

from __future__ import annotations

import os
from pathlib import Path

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # .npz checkpoints (a file entry, an empty zip)
SAFETENSORS_LENGTH = 8  # safetensors: a little-endian u64 header length, then a JSON object


def looks_like_checkpoint(path: str | os.PathLike) -> bool:
    """True when the file starts as a checkpoint (.npz zip or safetensors) does.

    A damaged checkpoint still looks like one, so it is refused with the checkpoint's
    message; anything else (a missing file too) is left to the name-list reader.
    """
    try:
        with open(Path(path), "rb") as f:
            head = f.read(SAFETENSORS_LENGTH + 1)
            size = os.fstat(f.fileno()).st_size
    except OSError:
        return False
    if head.startswith(ZIP_MAGIC):
        return True
    if len(head) <= SAFETENSORS_LENGTH:
        return False
    header = int.from_bytes(head[:SAFETENSORS_LENGTH], "little")
    return head[SAFETENSORS_LENGTH:] == b"{" and SAFETENSORS_LENGTH + header <= size
