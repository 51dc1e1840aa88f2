"""Labelled corpora end to end in the engine: reading, stratified split, conditioning,
checkpoints, and the --label syntax (one label or a blend)."""

import numpy as np
import pytest

from dinogui.core import checkpoint
from dinogui.core.checkpoint import CheckpointError
from dinogui.core.config import TrainConfig
from dinogui.core.corpus import CorpusError, corpus_from_names, load_corpora, with_labels
from dinogui.core.labels import label_weights
from dinogui.core.trainer import Trainer
from dinogui.core.validation import split_indices
from tests.checkpoint_files import rewrite


def toy_corpus(n=200, seed=0):
    """Two kinds over disjoint alphabets: 'ab' names use a-e, 'vz' names use v-z."""
    rng = np.random.default_rng(seed)
    a = ["".join(rng.choice(list("abcde"), rng.integers(3, 7))) for _ in range(n)]
    b = ["".join(rng.choice(list("vwxyz"), rng.integers(3, 7))) for _ in range(n)]
    return with_labels(corpus_from_names(a + b), ["ab"] * n + ["vz"] * n)


def config(**kw):
    return TrainConfig.for_preset("default", **{"cell": "gru", "hidden": 32, "lr": 0.01,
                                                "sample_every": 1000, **kw})


# -- reading ----------------------------------------------------------------------------
def test_several_files_take_their_stems_and_a_tab_file_its_own_labels(tmp_path):
    (tmp_path / "elf.txt").write_text("Aelar\nlira\n\nthalion\n")
    (tmp_path / "dwarf.txt").write_text("gimli\nthorin\n")
    (tmp_path / "mixed.tsv").write_text("orla\torc\nbrakk\torc\nsylva\telf\n")
    c = load_corpora([tmp_path / "elf.txt", tmp_path / "dwarf.txt", tmp_path / "mixed.tsv"])
    assert c.names == ["aelar", "lira", "thalion", "gimli", "thorin", "orla", "brakk", "sylva"]
    assert c.labels == ("elf", "dwarf", "orc")
    assert c.name_labels.tolist() == [0, 0, 0, 1, 1, 2, 2, 0]
    assert c.label_counts() == {"elf": 4, "dwarf": 2, "orc": 2}
    assert c.title == "elf + dwarf + mixed"
    one = load_corpora([tmp_path / "mixed.tsv"])
    assert one.labels == ("orc", "elf") and one.names == ["orla", "brakk", "sylva"]
    plain = load_corpora([tmp_path / "elf.txt"])
    assert not plain.labelled and plain.name_labels is None and plain.label_counts() == {}


@pytest.mark.parametrize(("files", "message"), [
    ({"a.tsv": "orla\torc\nbrakk\n"}, "line 2 has no tab|tab inside|line 2"),
    ({"a.tsv": "orla\torc\n\tbad\n"}, "line 2"),
    ({"a.tsv": "orla\tor:c\n"}, "holds ':' or ','"),
])
def test_bad_labelled_files_are_refused_in_one_line(tmp_path, files, message):
    paths = []
    for name, text in files.items():
        (tmp_path / name).write_text(text)
        paths.append(tmp_path / name)
    with pytest.raises(CorpusError, match=message) as e:
        load_corpora(paths)
    assert "\n" not in str(e.value)


def test_two_files_with_one_stem_are_refused(tmp_path):
    for d in ("x", "y"):
        (tmp_path / d).mkdir()
        (tmp_path / d / "elf.txt").write_text("lira\n")
    with pytest.raises(CorpusError, match="already"):
        load_corpora([tmp_path / "x" / "elf.txt", tmp_path / "y" / "elf.txt"])


# -- the split --------------------------------------------------------------------------
def test_validation_is_stratified_by_label():
    labels = np.array([0] * 300 + [1] * 20 + [2] * 2 + [3])
    train, val = split_indices(len(labels), 0.1, seed=3, labels=labels)
    assert np.bincount(labels[val], minlength=4).tolist() == [30, 2, 1, 0]
    assert sorted([*train, *val]) == list(range(len(labels)))
    again = split_indices(len(labels), 0.1, seed=3, labels=labels)
    assert np.array_equal(again[1], val)
    other = split_indices(len(labels), 0.1, seed=4, labels=labels)[1]
    assert not np.array_equal(other, val)
    # unlabelled: exactly as before
    plain = split_indices(100, 0.1, seed=3)
    assert len(plain[1]) == 10


def test_the_trainer_holds_out_names_of_every_kind():
    c = toy_corpus(n=40)
    t = Trainer(c, config(val_fraction=0.25))
    assert np.bincount(c.name_labels[t.val_rows]).tolist() == [10, 10]


# -- conditioning -----------------------------------------------------------------------
def test_each_label_samples_only_its_own_letters():
    t = Trainer(toy_corpus(), config())
    for _ in range(300):
        t.step()
    held = t.held_out_by_label()
    assert held.keys() == {"ab", "vz"} and all(v < 1.8 for v in held.values())
    s = t.sampler()
    # at temperature 0.6 the short training's last ~0.5% of stray probability is cut
    ab = s.with_label("ab").sample(400, seed=1, temperature=0.6)
    vz = s.with_label("vz").sample(400, seed=1, temperature=0.6)
    assert set("".join(ab)) == set("abcde")
    assert set("".join(vz)) == set("vwxyz")
    # at temperature 1, under 1% of letters stray (a model that ignored labels: about half)
    for label, own in (("ab", "abcde"), ("vz", "vwxyz")):
        text = "".join(s.with_label(label).sample(400, seed=2))
        assert sum(ch not in own for ch in text) < 0.01 * len(text)
    # no kind asked: every kind alike, the uniform blend
    assert s.sample(30, seed=4) == s.with_label("ab,vz").sample(30, seed=4) \
        == s.with_label("ab:0.5,vz:0.5").sample(30, seed=4)
    # a blend draws from both alphabets
    both = "".join(s.with_label("ab:0.5,vz:0.5").sample(200, seed=1))
    assert set(both) & set("abcde") and set(both) & set("vwxyz")
    # scores: an 'ab' name is likelier as an 'ab' name
    assert s.with_label("ab").loglik_per_char(["abcd"])[0] > \
        s.with_label("vz").loglik_per_char(["abcd"])[0] + 1.0


def test_the_held_out_loss_is_the_kinds_losses_weighted_by_their_characters():
    c = toy_corpus(n=50)
    t = Trainer(c, config(val_fraction=0.2))
    t.run(20)
    overall = t.validate()
    per = t.last_val_by_label
    assert per == list(t.held_out_by_label().values())
    chars = [sum(len(c.names[i]) + 1 for i in t.val_rows if c.name_labels[i] == k)
             for k in range(2)]
    assert overall == pytest.approx(np.dot(per, chars) / sum(chars), rel=1e-6)
    assert per[0] != pytest.approx(per[1], rel=1e-3)


@pytest.mark.parametrize("kw", [{"preset": "classic"}, {"cell": "ngram"}, {"mix_ngram": 3}])
def test_labels_are_refused_where_the_model_cannot_condition(kw):
    cfg = TrainConfig.for_preset(kw.pop("preset", "default"), sample_every=1000, **kw)
    with pytest.raises(ValueError, match="labelled names.*need"):
        Trainer(toy_corpus(n=10), cfg)


# -- blends -----------------------------------------------------------------------------
def test_label_weights_one_label_a_blend_normalised_and_refusals():
    labels = ("elf", "dwarf", "orc")
    assert label_weights("dwarf", labels).tolist() == [0, 1, 0]
    np.testing.assert_allclose(label_weights("elf:0.7,orc:0.3", labels), [0.7, 0, 0.3])
    np.testing.assert_allclose(label_weights("elf:2, dwarf:1", labels), [2 / 3, 1 / 3, 0])
    np.testing.assert_allclose(label_weights("elf,orc", labels), [0.5, 0, 0.5])
    for bad, why in [("troll", "unknown label 'troll' \\(known labels: elf, dwarf, orc\\)"),
                     ("elf:0", "positive"), ("elf:-1,orc:2", "positive"),
                     ("elf:x", "not a number"), ("elf:nan", "positive"),
                     ("elf:1,elf:2", "twice"), ("elf:inf", "positive")]:
        with pytest.raises(ValueError, match=why):
            label_weights(bad, labels)
    with pytest.raises(ValueError, match="no labels"):
        label_weights("elf", ())


# -- checkpoints ------------------------------------------------------------------------
def test_checkpoint_round_trip_with_labels_resumes_exactly(tmp_path):
    straight = Trainer(toy_corpus(n=30), config(batch_size=8))
    straight.run(40)
    first = Trainer(toy_corpus(n=30), config(batch_size=8))
    first.run(20)
    path = checkpoint.save(first, tmp_path / "l.safetensors")
    back = checkpoint.load(path)
    assert back.corpus.labels == ("ab", "vz")
    assert back.corpus.names == first.corpus.names
    assert np.array_equal(back.corpus.name_labels, first.corpus.name_labels)
    assert np.array_equal(back.val_rows, first.val_rows)
    assert back.params["label_emb"].shape == (2, 96)
    back.run(20)
    for k in straight.params:
        assert np.array_equal(straight.params[k], back.params[k]), k


def test_checkpoints_with_broken_labels_are_refused(tmp_path):
    t = Trainer(toy_corpus(n=10), config(batch_size=4))
    t.run(2)
    good = checkpoint.save(t, tmp_path / "g.safetensors")

    def drop_labels(meta):
        del meta["corpus"]["labels"]

    def bad_index(arrays):
        arrays["name_labels"] = arrays["name_labels"] + 5

    def drop_array(arrays):
        del arrays["name_labels"]

    for i, (meta, arrays, why) in enumerate([
            (drop_labels, None, "do not fit a gru"),
            (None, bad_index, "not among its labels"),
            (None, drop_array, "missing or malformed")]):
        bad = rewrite(good, tmp_path / f"b{i}.safetensors", meta, arrays)
        with pytest.raises(CheckpointError, match=why):
            checkpoint.load(bad)
