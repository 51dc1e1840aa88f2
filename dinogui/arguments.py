"""argparse types for numbers: parse, then refuse a value outside its rule with one clear line."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

from dinogui.core.sample_spec import (
    MAX_BEAM,
    MAX_SEED,
    MAX_TEMPERATURE,
    MAX_TOP_P,
    MIN_TEMPERATURE,
    MIN_TOP_P,
)

MAX_NAME_LEN = 1000  # as TrainConfig.max_len allows


def number(kind: type, check: Callable[[float], bool], rule: str) -> Callable[[str], float]:
    """An argparse type: parse `kind`, then refuse a value outside `rule`."""
    noun = "a whole number" if kind is int else "a number"

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {noun}") from None
        if not check(value):
            raise argparse.ArgumentTypeError(f"{text!r} must be {rule}")
        return value

    return parse


positive_int = number(int, lambda v: v >= 1, "at least 1")
count = number(int, lambda v: v >= 0, "zero or more")
max_len = number(int, lambda v: 1 <= v <= MAX_NAME_LEN, f"at least 1 and at most {MAX_NAME_LEN}")
fraction = number(float, lambda v: 0 <= v <= 0.5, "between 0 and 0.5")
dropout = number(float, lambda v: 0 <= v <= 0.9, "between 0 and 0.9")
positive_float = number(float, lambda v: 0 < v < math.inf, "a positive number")
seed = number(int, lambda v: 0 <= v <= MAX_SEED, f"0 to {MAX_SEED}")
temperature = number(float, lambda v: MIN_TEMPERATURE <= v <= MAX_TEMPERATURE,
                     f"between {MIN_TEMPERATURE:g} and {MAX_TEMPERATURE:g}")
top_p = number(float, lambda v: MIN_TOP_P <= v <= MAX_TOP_P,
               f"between {MIN_TOP_P:g} and {MAX_TOP_P:g}")
beam_width = number(int, lambda v: 1 <= v <= MAX_BEAM, f"1 to {MAX_BEAM}")
