"""Continuing a trained model on another list of names.

A model's vocabulary is fixed by the shapes of its parameters, so it can learn
from a new name list only when every character of that list is already in its
vocabulary. The continued run keeps the parameters, optimizer state, loss
history and iteration count; the new names get a fresh order drawn from the
run's seed, and the best-held-out record starts over, because it was measured
on other names.
"""

from __future__ import annotations

import copy

from .corpus import Corpus, Vocab
from .optim import Optimizer
from .trainer import Trainer

SHOWN_CHARACTERS = 12  # a message lists at most this many missing characters


class VocabularyMismatch(ValueError):
    """The names hold characters the model cannot read or write; the message says which."""


def vocabulary_problem(vocab: Vocab, corpus: Corpus) -> str | None:
    """Why a model with `vocab` cannot train on `corpus`, or None when it can."""
    missing = sorted(vocab.missing("".join(corpus.names)))
    if not missing:
        return None
    shown = " ".join(repr(ch) for ch in missing[:SHOWN_CHARACTERS])
    more = f" and {len(missing) - SHOWN_CHARACTERS} more" if len(missing) > SHOWN_CHARACTERS else ""
    return (f"{corpus.title} uses {len(missing)} character{'s' if len(missing) > 1 else ''} "
            f"that the model's vocabulary of {vocab.size} does not have: {shown}{more}")


def kinds_problem(labels: tuple[str, ...], corpus: Corpus) -> str | None:
    """Why a model trained on these labels (() for a plain list) cannot go on with `corpus`:
    its label embedding has one row per label, in order. None when the kinds are the same."""
    if tuple(labels) == tuple(corpus.labels):
        return None
    if not labels:
        return (f"{corpus.title} holds names by kind ({', '.join(corpus.labels)}) and the "
                "model was trained on one plain list")
    if not corpus.labels:
        return f"{corpus.title} is one plain list and the model was trained on names by kind"
    return (f"{corpus.title} has the kinds {', '.join(corpus.labels)}; the model knows "
            f"{', '.join(labels)}")


def continue_on(trainer: Trainer, corpus: Corpus) -> Trainer:
    """A new trainer that carries `trainer`'s model on with `corpus`'s names.

    `trainer` is left untouched (everything is copied). Raises VocabularyMismatch
    when the names do not fit the model's vocabulary.
    """
    problem = vocabulary_problem(trainer.vocab, corpus) or kinds_problem(
        trainer.corpus.labels, corpus)
    if problem is not None:
        raise VocabularyMismatch(problem)
    names = Corpus(list(corpus.names), trainer.vocab, corpus.source, corpus.lowercase,
                   list(corpus.duplicates), labels=corpus.labels,
                   name_labels=corpus.name_labels)
    fresh = Trainer(names, trainer.config)  # a valid example order and split for these names
    # the run carries on (every field, copied), from its place in the new names' order;
    # the best weights were judged on other names
    state = copy.deepcopy(trainer.state)
    for name in ("order", "rng_state", "epoch", "cursor"):
        setattr(state, name, getattr(fresh.state, name))
    state.best_val = state.best_iteration = None
    optimizer = None
    if trainer.optimizer is not None:
        o = trainer.optimizer
        optimizer = Optimizer(o.kind, o.beta1, o.beta2, o.eps, t=o.t,
                              state={k: v.copy() for k, v in o.state.items()})
    params = {k: v.copy() for k, v in trainer.params.items()}
    history = trainer.history.copy()
    return Trainer.restore(names, trainer.config, params, optimizer, state, history, None)
