"""A trained model as a file that lives without dinogui: JSON, a Python script, an ES module.

The three share one document (docs/export.md lists every key): the architecture, the
vocabulary, the labels and the model (with a labelled network's label embedding). A
network's weights are in core.models.reference's layout, one layer after another, then
the head. The classic preset's arrays are turned into that layout
(core.models.classic.to_reference), so every network is an rnn, gru or lstm of 1 to 3
layers to a loader. A count model (cell ngram) is its Kneser-Ney tables, one per order,
with the counts each order uses (raw at the top, continuation below) so a loader needs
no counting; a hybrid is the network, the count model and the network's share of the
mixture.

- json: the arrays as lists of numbers (each float32 weight written as the float64
  number it equals, so nothing is rounded), a row per line.
- py, js: a generator (core/generator_template.py, core/generator_template.mjs)
  with the document embedded; arrays as base64 of their little-endian bytes
  (integers in the narrowest unsigned type that holds them), exact and compact.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
from pathlib import Path

import numpy as np

from . import atomic
from .models import NGRAM, classic, split_mix
from .models.ngram import KneserNey, unfold
from .models.reference import LABEL_EMB, layer_count, layer_params
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


def _integers(a: np.ndarray, packed: bool) -> dict | list:
    """Non-negative integers: JSON lists, or packed as uint8, uint16 or uint32."""
    a = np.asarray(a, dtype=np.int64)
    if not packed:
        return a.tolist()
    top = int(a.max(initial=0))
    for dtype in (np.uint8, np.uint16, np.uint32):
        if top <= np.iinfo(dtype).max:
            return _array(a.astype(dtype), packed=True)
    raise ExportError(f"a count of {top:,} is too large to export (at most {2**32 - 1:,})")


def count_model(arrays: dict[str, np.ndarray], packed: bool) -> dict:
    """The count model as the tables its formula reads: per order k, the k-grams (a
    context of k - 1 symbols, then the next; symbol V the start marker) and a_k."""
    model = KneserNey.from_arrays(arrays)
    levels = [{"grams": _integers(unfold(level.grams, model.base, k), packed),
               "counts": _integers(level.counts, packed)}
              for k, level in enumerate(model.levels, start=1)]
    return {"order": model.order, "vocab_size": model.vocab_size, "start": model.start,
            "discounts": [float(d) for d in model.discounts], "levels": levels}


def _common(sampler: NameSampler, lowercase: bool, source: str, architecture: dict) -> dict:
    return {
        "format": "dinogui-generator", "version": FORMAT_VERSION,
        "architecture": architecture,
        "vocabulary": list(sampler.vocab.chars),
        "lowercase": bool(lowercase),
        "labels": list(sampler.labels),
        "max_len": int(sampler.max_len),
        "source": source,
    }


def document(sampler: NameSampler, lowercase: bool, packed: bool = False,
             source: str = "") -> dict:
    """The exported model as JSON-ready data; packed: arrays as base64 (the generators')."""
    if sampler.cell == NGRAM:
        counts = count_model(sampler.params, packed)
        doc = _common(sampler, lowercase, source, {"preset": sampler.preset, "cell": NGRAM,
                                                   "order": counts["order"]})
        doc["ngram"] = counts
        return doc
    net, mix = split_mix(sampler.params)
    params = reference_params(dataclasses.replace(sampler, params=net))
    cell = "rnn" if sampler.preset == "classic" else sampler.cell
    if cell not in ("rnn", "gru", "lstm"):
        raise ExportError(f"a {cell} model cannot be exported")
    L = layer_count(params)
    architecture = {"preset": sampler.preset, "cell": cell, "layers": L,
                    "hidden": int(params["W_hy"].shape[0]), "dtype": str(params["W_hy"].dtype)}
    if mix is not None:
        counts = count_model({k: v for k, v in mix.items() if k != "weight"}, packed)
        architecture["mix_ngram"] = counts["order"]
    doc = _common(sampler, lowercase, source, architecture)
    doc["layers"] = [{k: _array(v, packed) for k, v in sorted(layer_params(params, i).items())}
                     for i in range(L)]
    doc["head"] = {"W_hy": _array(params["W_hy"], packed), "b_y": _array(params["b_y"], packed)}
    if LABEL_EMB in params:  # (labels, gates * hidden): the label's row added to layer 0's zx
        doc["label_embedding"] = _array(params[LABEL_EMB], packed)
    if mix is not None:
        doc["ngram"] = counts
        doc["mix_weight"] = float(mix["weight"][0])
    return doc


def dumps(doc: dict) -> str:
    """JSON with one key per line and each list of numbers (a vector, a matrix row, an
    n-gram) on one line: readable, and a fraction of one number per line's size."""
    def write(value, depth: int) -> str:
        pad, inner = " " * depth, " " * (depth + 1)
        if isinstance(value, dict) and value:
            items = [f"{inner}{json.dumps(k)}: {write(v, depth + 1)}" for k, v in value.items()]
            return "{\n" + ",\n".join(items) + "\n" + pad + "}"
        if isinstance(value, list) and value and isinstance(value[0], list | dict):
            return "[\n" + ",\n".join(inner + write(v, depth + 1) for v in value) + "\n" + pad + "]"
        return json.dumps(value, ensure_ascii=True, allow_nan=False, separators=(", ", ": "))

    return write(doc, 0) + "\n"


def render(sampler: NameSampler, fmt: str, lowercase: bool, source: str = "") -> bytes:
    """The file's bytes for format `fmt` (one of FORMATS)."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r} (choose from {', '.join(FORMATS)})")
    if fmt == "json":
        return dumps(document(sampler, lowercase, packed=False, source=source)).encode()
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
