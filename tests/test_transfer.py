import numpy as np
import pytest

from dinogui.core import checkpoint
from dinogui.core.config import TrainConfig
from dinogui.core.corpus import corpus_from_names
from dinogui.core.trainer import Trainer
from dinogui.core.transfer import VocabularyMismatch, continue_on, vocabulary_problem

DINOS = ["aardonyx", "brontosaurus", "ceratops", "diplodocus", "euoplocephalus", "fukuiraptor"]


@pytest.mark.parametrize("preset", ["classic", "default"])
def test_continuing_on_other_names_keeps_the_model_and_its_progress(tmp_path, preset):
    t = Trainer(corpus_from_names(DINOS), TrainConfig.for_preset(preset, batch_size=2,
                                                                 sample_every=1000))
    t.run(40)
    other = corpus_from_names(["cora", "dora", "flora", "nora"])  # letters the model knows
    moved = continue_on(t, other)
    assert moved.vocab == t.vocab and moved.corpus.names == other.names
    assert moved.iteration == 40 and len(moved.history) == 40
    for k in t.params:
        assert np.array_equal(moved.params[k], t.params[k])
        assert moved.params[k] is not t.params[k]
    before = {k: v.copy() for k, v in t.params.items()}
    moved.run(10)
    assert moved.iteration == 50
    for k in t.params:  # the original is untouched
        assert np.array_equal(t.params[k], before[k])
    # a continued model saves and resumes like any other
    checkpoint.save(moved, tmp_path / "moved.npz")
    back = checkpoint.load(tmp_path / "moved.npz")
    assert back.corpus.names == other.names and back.vocab == t.vocab
    back.run(5)
    assert back.iteration == 55


def test_names_with_unknown_characters_are_refused_with_the_characters():
    t = Trainer(corpus_from_names(DINOS), TrainConfig())
    odd = corpus_from_names(["zoë", "ana-maria"], source="friends.txt")
    problem = vocabulary_problem(t.vocab, odd)
    assert "friends" in problem and "'ë'" in problem and "'-'" in problem
    with pytest.raises(VocabularyMismatch, match="'ë'"):
        continue_on(t, odd)
    assert vocabulary_problem(t.vocab, corpus_from_names(["dino"])) is None
