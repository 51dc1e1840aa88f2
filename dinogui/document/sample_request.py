"""The Sample panel's settings as a plain value, and the SampleSpec `dinogui sample` builds
from the same flags: the panel fills it, the sampling controller and the export read it."""

from __future__ import annotations

from dataclasses import dataclass

from dinogui.core.sampling import SampleSpec


@dataclass(frozen=True)
class SampleRequest:
    """The panel's settings, as given (top_k 0: off; prefix and suffix as typed)."""

    count: int
    seed: int
    temperature: float
    max_len: int
    top_k: int = 0
    prefix: str = ""
    suffix: str = ""
    min_len: int = 0
    new_only: bool = False
    best: bool = False  # draw from the weights with the best held-out loss (sample --best)
    top_p: float = 0.0  # 0: off
    beam: bool = False  # the `count` most likely names (sample --beam), not drawn ones
    label: str = ""  # a labelled model's kind or blend (sample --label); "": every kind alike

    def spec(self, lowercase: bool) -> SampleSpec:
        """The SampleSpec `dinogui sample` builds from the same flags (ConstraintError if bad).

        A lower-cased corpus holds lower-case names only, so the beginning and the
        ending are folded as the command line folds them.
        """
        return SampleSpec(temperature=self.temperature, top_k=self.top_k or None,
                          top_p=self.top_p or None, prefix=self.prefix, suffix=self.suffix,
                          min_len=self.min_len, max_len=self.max_len,
                          new_only=self.new_only).for_corpus(lowercase)
