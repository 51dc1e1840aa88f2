"""The default preset's recipe (core.recipe): the model picked from the list, on the command
line and at the window's first launch, and never over a model the user shaped."""

from __future__ import annotations

import pytest

from dinogui.core import recipe
from dinogui.core.config import TrainConfig
from dinogui.core.corpus import corpus_from_names
from tests.gui_support import WAIT_MS, open_window, set_panel


def names_of(count: int, length: int) -> list[str]:
    """`count` distinct names of `length` letters."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    out = []
    for i in range(count):
        word, n = "", i
        for _ in range(length):
            word += letters[n % 26]
            n //= 26
        out.append(word)
    return out


@pytest.mark.parametrize(("count", "length", "hidden"), [
    (300, 8, 64), (1875, 8, 64), (1876, 8, 128), (18750, 8, 128), (18751, 8, 256)])
def test_the_tier_goes_by_the_characters_of_the_list(count, length, hidden):
    """Tiers end at 15,000 and 150,000 characters: 1,875 names of 8 letters are the first's
    last list, one name more is the second's."""
    corpus = corpus_from_names(names_of(count, length))
    picked = recipe.settings_for(corpus)
    assert picked["hidden"] == hidden and picked["cell"] == "gru" and picked["mix_ngram"] == 5
    assert picked["val_every"] == 0 and picked["patience"] == recipe.COMMON["patience"]


def test_a_list_too_short_to_hold_names_out_gets_no_mixture_or_patience():
    short = corpus_from_names(names_of(recipe.MIN_NAMES_HELD_OUT - 1, 5))
    picked = recipe.settings_for(short)
    assert (picked["val_fraction"], picked["mix_ngram"], picked["patience"]) == (0.0, 0, 0)
    enough = corpus_from_names(names_of(recipe.MIN_NAMES_HELD_OUT, 5))
    assert "val_fraction" not in recipe.settings_for(enough)  # the preset's tenth
    assert recipe.settings_for(enough, held_out=False)["mix_ngram"] == 0


def test_apply_changes_the_model_and_keeps_the_rest():
    corpus = corpus_from_names(names_of(300, 6))
    mine = TrainConfig.for_preset("default", seed=7, patience=3, sample_every=99)
    got = recipe.apply(mine, corpus)
    assert (got.seed, got.patience, got.sample_every) == (7, 3, 99)
    assert {k: getattr(got, k) for k in recipe.MODEL} == {
        k: v for k, v in recipe.settings_for(corpus).items() if k in recipe.MODEL}
    assert recipe.applied(TrainConfig.for_preset("default", **recipe.settings_for(corpus)),
                          corpus)


def test_the_first_launch_takes_the_recipe_and_a_shaped_model_is_left_alone(qtbot, tmp_path):
    lists = tmp_path / "lists"
    lists.mkdir()
    small = lists / "small.txt"
    small.write_text("\n".join(names_of(300, 6)), encoding="utf-8")
    big = lists / "big.txt"
    big.write_text("\n".join(names_of(3000, 6)), encoding="utf-8")
    w = open_window(qtbot, tmp_path, small, preset=None)  # a first launch
    want = recipe.settings_for(w.session.trainer.corpus)
    cfg = w.worker.call(lambda t: t.config)
    assert {k: getattr(cfg, k) for k in want} == want
    assert (w.hyperparams.hidden.value(), w.hyperparams.cell.currentData()) == (64, "gru")
    assert "the default recipe for 300 names" in w.log.toPlainText()
    assert w.hyperparams.follows_recipe() and w.hyperparams.values()["recipe"] is True

    w.open_corpus_path(big, ask=False)  # untouched: the new list's recipe
    qtbot.waitUntil(lambda: len(w.session.trainer.corpus.names) == 3000 and not w.session.busy,
                    timeout=WAIT_MS)
    assert w.worker.call(lambda t: t.config.hidden) == 128

    set_panel(w, hidden=40)  # the user shapes the model
    qtbot.waitUntil(lambda: w.worker.call(lambda t: t.config.hidden) == 40 and not w.session.busy,
                    timeout=WAIT_MS)
    assert not w.hyperparams.follows_recipe()
    w.open_corpus_path(small, ask=False)
    qtbot.waitUntil(lambda: len(w.session.trainer.corpus.names) == 300 and not w.session.busy,
                    timeout=WAIT_MS)
    assert w.worker.call(lambda t: t.config.hidden) == 40  # theirs, not the recipe's 64


def test_names_by_kind_are_not_mixed_with_a_count_model():
    """The count model reads no kinds: a labelled list's recipe trains the network alone."""
    from dinogui.core.corpus import with_labels

    names = names_of(60, 5)
    kinds = with_labels(corpus_from_names(names), ["a" if i % 2 else "b" for i in range(60)])
    assert recipe.settings_for(kinds)["mix_ngram"] == 0
    assert recipe.settings_for(corpus_from_names(names))["mix_ngram"] == 5
    assert "mixed" not in recipe.describe(kinds) and "mixed" in recipe.describe(
        corpus_from_names(names))
