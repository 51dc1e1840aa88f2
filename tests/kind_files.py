"""Two name lists over disjoint alphabets, for names by kind: abc.txt (a-e), vwx.txt (v-z)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def kind_files(folder: Path, n: int, seed: int = 0) -> list[str]:
    """n names of 3 to 6 letters in each file, drawn by `seed`; their paths, abc first."""
    rng = np.random.default_rng(seed)
    paths = []
    for stem, letters in (("abc", "abcde"), ("vwx", "vwxyz")):
        names = ["".join(rng.choice(list(letters), rng.integers(3, 7))) for _ in range(n)]
        (folder / f"{stem}.txt").write_text("\n".join(names) + "\n")
        paths.append(str(folder / f"{stem}.txt"))
    return paths
