"""A model's named parameters as views into one flat buffer, with a gradient buffer beside it.

Checking gradients for NaN, clipping them and the optimizer's update then cost
one NumPy call each for the whole model instead of one per parameter (Adam
alone makes a dozen calls per parameter). The names, shapes and values stay
what they were, so checkpoints and models see the same dict of arrays.
"""

from __future__ import annotations

import numpy as np

from .models.ops import all_finite, clip_

Params = dict[str, np.ndarray]


class ParamPack:
    """params: the model's arrays, now views into `flat`; grads: views into `grad`."""

    def __init__(self, params: Params) -> None:
        self.names = tuple(params)
        self.shapes = {k: np.shape(v) for k, v in params.items()}
        dtype = np.result_type(*params.values())
        sizes = [int(np.prod(self.shapes[k])) for k in self.names]
        self.offsets = dict(zip(self.names, np.cumsum([0, *sizes[:-1]]).tolist(), strict=True))
        self.flat = np.empty(sum(sizes), dtype=dtype)
        self.params = self.views(self.flat)
        for k in self.names:
            self.params[k][...] = params[k]
        self.grad = np.zeros_like(self.flat)
        self.grads = self.views(self.grad)

    def views(self, buffer: np.ndarray) -> Params:
        """Named views, shaped like the parameters, into any buffer laid out like `flat`."""
        out = {}
        for k in self.names:
            start = self.offsets[k]
            size = int(np.prod(self.shapes[k]))
            out[k] = buffer[start : start + size].reshape(self.shapes[k])
        return out

    def gather(self, grads: Params) -> None:
        """Copy a model's gradients (fresh arrays) into `grad`."""
        for k, view in self.grads.items():
            view[...] = grads[k]

    def grads_finite(self) -> bool:
        return all_finite(self.grad)

    def clip_grads(self, max_value: float) -> None:
        clip_(self.grad, max_value)
