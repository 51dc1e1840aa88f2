"""Will a model fit? An estimate of training's memory, checked before anything is allocated.

The estimate counts what grows with the settings: the parameters and the arrays
of their size (gradients, the packed gradient and update, optimizer slots, the
best weights kept for validation), the activations a step keeps for the
backward pass (batch x longest name x the per-position work of every layer and
the output), the held-out names' forward passes, and the encoded corpus. It
errs high; what it leaves out (the interpreter, NumPy, Qt) is already in use
and so already missing from the available memory it is compared with.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

GATES = {"rnn": 1, "gru": 3, "lstm": 4}  # pre-activations per hidden unit
OPTIMIZER_SLOTS = {"sgd": 0, "adagrad": 1, "adam": 2}
EVAL_BATCH = 512  # names per held-out forward pass (core.validation)


class ModelTooLarge(ValueError):
    """Training these settings would need more memory than the machine has free."""


@dataclass(frozen=True)
class MemoryEstimate:
    parameters: int  # count of weights
    weight_bytes: int  # parameters and every array of their size
    activation_bytes: int  # one training step's, plus the held-out forward passes
    data_bytes: int  # the encoded corpus and held-out batches
    batch: int
    steps: int  # positions per name in the longest batch: longest name + 1

    @property
    def total(self) -> int:
        return self.weight_bytes + self.activation_bytes + self.data_bytes

    def describe(self) -> str:
        return (f"about {size(self.total)} ({self.parameters:,} parameters and their "
                f"gradients and optimizer state {size(self.weight_bytes)}, activations for "
                f"{self.batch:,} names x {self.steps:,} steps {size(self.activation_bytes)})")


def size(n: float) -> str:
    """Bytes for people: "3.2 GB"."""
    for unit in ("bytes", "kB", "MB", "GB", "TB", "PB"):
        if n < 1000:
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1000
    return "over 1,000 PB"


def parameter_count(cell: str, layers: int, hidden: int, vocab: int) -> int:
    """Weights of the model (core.models): the layers and the output head."""
    G, H, V = GATES[cell], hidden, vocab
    count = H * V + V  # W_hy, b_y
    for layer in range(layers):
        n_in = V if layer == 0 else H
        count += n_in * G * H + H * G * H + G * H + (H if cell == "gru" else 0)  # + b_hn
    return count


def estimate(config, vocab: int, longest: int, names: int, characters: int,
             apart: int | None = None) -> MemoryEstimate:
    """Training memory for a TrainConfig on a corpus of these dimensions; `apart`: the
    held-out names when a file gives them (train --val-file), counted among `names`."""
    classic = config.preset == "classic"
    cell = "rnn" if classic else config.cell
    layers = 1 if classic else config.layers
    item = 8 if classic or config.dtype == "float64" else 4
    P = parameter_count(cell, layers, config.hidden, vocab)
    # params, gradients, packed gradient, the update's buffer, the initial values being
    # packed; the batched update's second scratch buffer (core.optim: numerator and
    # denominator) and its optimizer slots; best weights. A weight-heavy model (large
    # hidden, small batch) measured 7.4 copies of its weights with Adam: 8 are counted
    copies = 5 + (0 if classic else 1 + OPTIMIZER_SLOTS.get(config.optimizer, 2))
    copies += 1 if config.val_fraction > 0 or apart else 0
    G, H, V = GATES[cell], config.hidden, vocab
    steps = longest + 1
    # as core.validation.split_indices draws them
    held_out = min(max(1, round(config.val_fraction * names)), names - 1) \
        if config.val_fraction > 0 and names > 1 else apart or 0
    # a batch larger than the training names trains on all of them (core.trainer)
    batch = 1 if classic else max(1, min(config.batch_size, names - held_out))
    # per position: each layer's inputs, gates, states and their gradients; logits, their
    # gradient and the softmax; inputs, targets and mask
    per_position = (layers * (4 * G + 4) * H + 3 * V) * item + 24
    activations = batch * steps * per_position
    if held_out:
        activations += (min(held_out, EVAL_BATCH) * steps
                        * (layers * (3 * G + 3) * H + 2 * V) * item)
    data = (characters + names) * 8 + names * 16 + (characters + held_out) * (16 + item)
    return MemoryEstimate(P, copies * P * item, activations, data, batch, steps)


def available_bytes() -> int | None:
    """Memory a new allocation can use: MemAvailable, within a cgroup's limit; None if unknown."""
    found = _meminfo_available()
    if found is None:
        found = _sysconf_available()
    if found is None:
        found = _windows_available()
    limit = _cgroup_room()
    if limit is not None:
        found = limit if found is None else min(found, limit)
    return found


def _meminfo_available() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _sysconf_available() -> int | None:
    """Free physical pages (BSDs and others); total physical memory where that is all there is."""
    for pages in ("SC_AVPHYS_PAGES", "SC_PHYS_PAGES"):
        try:
            return os.sysconf(pages) * os.sysconf("SC_PAGE_SIZE")
        except (AttributeError, ValueError, OSError):
            continue
    return None


def _windows_available() -> int | None:
    if os.name != "nt":
        return None
    try:
        import ctypes

        class Status(ctypes.Structure):
            _fields_ = [("dwLength", ctypes.c_ulong), ("dwMemoryLoad", ctypes.c_ulong),
                        ("ullTotalPhys", ctypes.c_ulonglong), ("ullAvailPhys", ctypes.c_ulonglong),
                        ("ullTotalPageFile", ctypes.c_ulonglong),
                        ("ullAvailPageFile", ctypes.c_ulonglong),
                        ("ullTotalVirtual", ctypes.c_ulonglong),
                        ("ullAvailVirtual", ctypes.c_ulonglong),
                        ("ullAvailExtendedVirtual", ctypes.c_ulonglong)]

        status = Status()
        status.dwLength = ctypes.sizeof(Status)
        if ctypes.windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(status)):  # type: ignore
            return int(status.ullAvailPhys)
    except (OSError, AttributeError):
        pass
    return None


def _cgroup_room() -> int | None:
    """A container's memory limit minus its use (cgroup v2), when it has one."""
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        used = Path("/sys/fs/cgroup/memory.current").read_text().strip()
        return None if limit == "max" else max(0, int(limit) - int(used))
    except (OSError, ValueError):
        return None


def check_fits(config, corpus) -> MemoryEstimate:
    """The estimate for training `config` on `corpus`; ModelTooLarge if it cannot fit."""
    lengths = [len(n) for n in corpus.names + corpus.held_out]
    est = estimate(config, corpus.vocab.size, max(lengths), len(lengths), sum(lengths),
                   len(corpus.held_out))
    room = available_bytes()
    if room is not None and est.total > room:
        raise ModelTooLarge(
            f"this model would need {est.describe()}, more than the {size(room)} of memory "
            "available: choose fewer hidden units, layers or names per step")
    return est
