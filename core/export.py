"""A trained model as a file that lives without dinogui: JSON, a Python script, an ES module.

The three share one document (docs/export.md lists every key): the architecture,
the vocabulary, the labels (none yet) and the weights in core.models.reference's
layout, one layer after another, then the head. The classic preset's arrays are
turned into that layout (core.models.classic.to_reference), so every network is
an rnn, gru or lstm of 1 to 3 layers to a loader.

- json: the arrays as nested lists of numbers (each float32 weight written as
  the float64 number it equals, so nothing is rounded).
- py, js: a generator (core/generator_template.py, core/generator_template.mjs)
  with the document embedded; arrays as base64 of their little-endian bytes,
  which is exact and about a quarter of the size.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import numpy as np

from . import atomic
from .models import MIX, classic
from .models.reference import layer_count, layer_params
from .sampling import NameSampler

FORMATS = ("py", "js", "json")
SUFFIXES = {"py": ".py", "js": ".mjs", "json": ".json"}
FORMAT_VERSION = 1
TEMPLATES = {"py": "generator_template.py", "js": "generator_template.mjs"}
PLACEHOLDER = {"py": "MODEL: dict = {}  # dinogui export replaces this line with the model",
               "js": "const MODEL = null; // dinogui export replaces this line with the model"}


class ExportError(ValueError):
    """A model or a format that cannot be exported, with a message for the user."""


def reference_params(sampler: NameSampler) -> dict[str, np.ndarray]:
    """The sampler's weights under the reference names and row layout."""
    if sampler.preset == "classic":
        return {k: np.ascontiguousarray(v) for k, v in classic.to_reference(sampler.params).items()}
    return dict(sampler.params)


def _array(a: np.ndarray, packed: bool) -> dict | list:
    if not packed:
        return np.asarray(a, dtype=np.float64).tolist()
    little = a.astype(a.dtype.newbyteorder("<"), copy=False)
    return {"dtype": str(a.dtype), "shape": list(a.shape),
            "base64": base64.b64encode(np.ascontiguousarray(little).tobytes()).decode("ascii")}


def document(sampler: NameSampler, lowercase: bool, packed: bool = False,
             source: str = "") -> dict:
    """The exported model as JSON-ready data; packed: arrays as base64 (the generators')."""
    params = reference_params(sampler)
    cell = "rnn" if sampler.preset == "classic" else sampler.cell
    if cell not in ("rnn", "gru", "lstm"):
        raise ExportError(f"a {cell} model cannot be exported yet")
    if any(k.startswith(MIX) for k in sampler.params):  # never the network alone, silently
        raise ExportError("a hybrid (a network mixed with a count model) cannot be exported "
                          "yet: train with Mix n-gram off (--mix-ngram 0) to export it")
    L = layer_count(params)
    layers = [{k: _array(v, packed) for k, v in sorted(layer_params(params, i).items())}
              for i in range(L)]
    dtype = str(params["W_hy"].dtype)
    return {
        "format": "dinogui-generator", "version": FORMAT_VERSION,
        "architecture": {"preset": sampler.preset, "cell": cell, "layers": L,
                         "hidden": int(params["W_hy"].shape[0]), "dtype": dtype},
        "vocabulary": list(sampler.vocab.chars),
        "lowercase": bool(lowercase),
        "labels": [],
        "max_len": int(sampler.max_len),
        "source": source,
        "layers": layers,
        "head": {"W_hy": _array(params["W_hy"], packed), "b_y": _array(params["b_y"], packed)},
    }


def render(sampler: NameSampler, fmt: str, lowercase: bool, source: str = "") -> bytes:
    """The file's bytes for format `fmt` (one of FORMATS)."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r} (choose from {', '.join(FORMATS)})")
    if fmt == "json":
        doc = document(sampler, lowercase, packed=False, source=source)
        return (json.dumps(doc, ensure_ascii=True, allow_nan=False, indent=1) + "\n").encode()
    doc = document(sampler, lowercase, packed=True, source=source)
    template = (Path(__file__).with_name(TEMPLATES[fmt])).read_text(encoding="utf-8")
    if template.count(PLACEHOLDER[fmt]) != 1:
        raise RuntimeError(f"the {fmt} template lost its model placeholder")
    # repr: a Python literal; JSON: a JavaScript one (ASCII, so no U+2028 surprises)
    literal = repr(doc) if fmt == "py" else json.dumps(doc, ensure_ascii=True, allow_nan=False)
    line = f"MODEL: dict = {literal}" if fmt == "py" else f"const MODEL = {literal};"
    return template.replace(PLACEHOLDER[fmt], line).encode("utf-8")


def export(sampler: NameSampler, fmt: str, path: str | os.PathLike, lowercase: bool,
           source: str = "") -> int:
    """Write the export atomically (a failure leaves any old file whole); bytes written."""
    if not all(np.isfinite(v).all() for v in sampler.params.values()):
        raise ExportError("the model's weights are not all finite (did its training diverge?)")
    data = render(sampler, fmt, lowercase, source)
    atomic.write_atomic(path, data)
    return len(data)
