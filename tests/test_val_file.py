"""`train --val-file`: exactly the file's names are held out, never trained on, kept by
checkpoints; the count model and the hybrid are tuned on exactly them; bad files refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dinogui.cli import main
from dinogui.core import checkpoint
from dinogui.core.batching import EncodedNames
from dinogui.core.config import TrainConfig
from dinogui.core.corpus import corpus_from_names, hold_out
from dinogui.core.models.ngram import KneserNey
from dinogui.core.trainer import Trainer

CORPUS = ["ada", "bob", "cyrus", "dan", "eve", "finnegan", "gus", "hal", "ivy", "jo", "kim",
          "lou", "max", "ned", "otto", "pia", "quinn", "rex", "sal", "tom", "uma", "vic",
          "wes", "xena", "yul", "zoe", "abel", "bea", "cal", "dora"]
# four are in the corpus (never trained on, then), two are not
HELD = ["Eve", "Otto", "zoe", "bea", "ezra", "nora"]
HELD_LOWER = [n.lower() for n in HELD]


def run(capsys, *argv) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def files(tmp_path) -> tuple[Path, Path]:
    corpus, held = tmp_path / "corpus.txt", tmp_path / "held.txt"
    corpus.write_text("\n".join(CORPUS) + "\n", encoding="utf-8")
    held.write_text("\n".join(HELD) + "\n", encoding="utf-8")
    return corpus, held


def held_corpus():
    return hold_out(corpus_from_names(CORPUS), corpus_from_names(HELD))


def names_of(trainer: Trainer, rows) -> list[str]:
    return [trainer.vocab.decode(trainer._encoded[int(i)]) for i in rows]


def test_the_files_names_are_held_out_and_never_trained_on(capsys, tmp_path, files):
    corpus, held = files
    ckpt = tmp_path / "t.safetensors"
    code, out, err = run(capsys, "train", "--corpus", corpus, "--val-file", held, "--preset",
                         "default", "--batch-size", 4, "--iterations", 30, "--save", ckpt)
    assert code == 0, err
    t = checkpoint.load(ckpt)
    assert t.corpus.names == CORPUS and t.corpus.held_out == HELD_LOWER  # lower-cased alike
    assert t.config.val_fraction == 0  # the default preset's 0.1 is not drawn besides
    assert names_of(t, t.val_rows) == HELD_LOWER
    trained = names_of(t, t.train_rows)
    assert sorted(trained) == sorted(set(CORPUS) - set(HELD_LOWER))  # the 26 others, all
    assert f"the {len(HELD)} names of {held} (4 of the corpus's names among them" in out
    assert t.state.val_losses  # measured on them


def test_the_batches_of_several_epochs_never_hold_a_held_out_name():
    t = Trainer(held_corpus(), TrainConfig.for_preset("default", val_fraction=0, batch_size=5,
                                                      hidden=4, val_every=7))
    seen: list[str] = []
    pad = t._pad_batch

    def recording(rows):
        X, Y, mask = pad(rows)
        for b in range(Y.shape[1]):  # a name's targets: its letters, then the end (0)
            n = int(mask[:, b].sum())
            seen.append(t.vocab.decode(Y[:n, b].astype(int)))
        return X, Y, mask

    t._pad_batch = recording
    t.run(4 * 6)  # 26 training names, 5 a step: 6 steps an epoch, 4 epochs
    assert t.state.epoch == 4
    assert not set(seen) & set(HELD_LOWER)
    assert set(seen) == set(CORPUS) - set(HELD_LOWER)  # every other name was trained on
    assert len(t.state.val_iterations) == 4  # checked on the file's names: 0, 7, 14, 21


@pytest.mark.parametrize(("held", "message"), [
    ("日本\n東京\n", "shares no character with corpus: held-out names must be of the same "
                    "kind as the corpus's"),
    ("ada\nzo\u00eb\nm\u202ex~\n", "has 3 characters that corpus never uses ('~', '\u00eb', "
                                  "'\\u202e'): the model could not score those names"),
    ("\n".join(CORPUS) + "\nextra\n", "holds every name of corpus: no name would be left to "
                                      "train on"),
    ("\n\n", "no names in it (the file is empty or blank)"),
])
def test_unusable_files_are_refused_in_one_line(capsys, tmp_path, files, held, message):
    corpus, _ = files
    bad = tmp_path / "bad.txt"
    bad.write_text(held, encoding="utf-8")
    code, out, err = run(capsys, "train", "--corpus", corpus, "--val-file", bad,
                         "--iterations", 1)
    assert code == 2 and out == ""
    assert err == f"dinogui: error: {bad}: {message}\n"


def test_with_a_fraction_or_on_resume_it_is_refused(capsys, tmp_path, files):
    corpus, held = files
    code, _, err = run(capsys, "train", "--corpus", corpus, "--val-file", held,
                       "--val-fraction", 0.2, "--iterations", 1)
    assert code == 2 and err == ("dinogui: error: --val-file and --val-fraction both choose "
                                 "the held-out names: give one or the other\n")
    ckpt = tmp_path / "a.safetensors"
    assert run(capsys, "train", "--corpus", corpus, "--val-file", held, "--preset", "default",
               "--iterations", 2, "--save", ckpt)[0] == 0
    code, _, err = run(capsys, "train", "--resume", ckpt, "--val-file", held,
                       "--iterations", 1)
    assert code == 2 and err.count("\n") == 1 and "--val-file cannot change when resuming" in err
    with pytest.raises(ValueError, match="give one or the other"):
        Trainer(held_corpus(), TrainConfig.for_preset("default", val_fraction=0.1))


def test_a_resumed_run_keeps_the_names_and_continues_exactly(tmp_path):
    config = TrainConfig.for_preset("default", val_fraction=0, batch_size=4, hidden=6,
                                    cell="gru", dropout=0.2, val_every=5, patience=0)
    straight = Trainer(held_corpus(), config)
    straight.run(40)
    first = Trainer(held_corpus(), config)
    first.run(17)
    path = checkpoint.save(first, tmp_path / "half.safetensors")
    resumed = checkpoint.load(path)
    assert resumed.corpus.held_out == HELD_LOWER
    assert np.array_equal(resumed.val_rows, first.val_rows)
    assert np.array_equal(resumed.train_rows, first.train_rows)
    resumed.run(23)
    for k, v in straight.params.items():
        assert np.array_equal(resumed.params[k], v), k
    assert resumed.state.val_losses == straight.state.val_losses
    # a run without --val-file saves no held-out names at all (its files are as before)
    plain = Trainer(corpus_from_names(CORPUS), TrainConfig.for_preset("default", hidden=4))
    assert "held_out" not in checkpoint.to_arrays(plain)


def _encoded(names: list[str], trainer: Trainer) -> EncodedNames:
    return EncodedNames.encode(trainer.vocab, names)


def test_the_count_model_and_the_hybrid_are_tuned_on_exactly_those_names():
    corpus = held_corpus()
    trained = sorted(set(CORPUS) - set(HELD_LOWER), key=CORPUS.index)
    t = Trainer(corpus, TrainConfig.for_preset("default", val_fraction=0, cell="ngram",
                                               order=3))
    t.step()
    want = KneserNey.fit(_encoded(trained, t), t.vocab.size, 3)
    loss = want.tune(_encoded(HELD_LOWER, t))
    assert t.model.discounts == want.discounts
    assert t.state.val_losses == [loss]

    h = Trainer(corpus, TrainConfig.for_preset("default", val_fraction=0, cell="gru", hidden=4,
                                               mix_ngram=3, val_every=1))
    h.step()
    assert h.mix_count().discounts == want.discounts
    assert h.count_baseline() == (3, want.held_out_loss(_encoded(HELD_LOWER, h)))
    # the hybrid's loss is on the held-out names: no worse than the count model there
    assert h.state.val_losses[0] <= loss + 1e-12


def test_the_memory_estimate_counts_the_held_out_names_and_the_best_weights():
    from dinogui.core import memory

    cfg = TrainConfig.for_preset("default", val_fraction=0, hidden=8)
    plain = memory.check_fits(cfg, corpus_from_names(CORPUS))
    held = memory.check_fits(cfg, held_corpus())
    drawn = memory.check_fits(TrainConfig.for_preset("default", val_fraction=0.2, hidden=8),
                              corpus_from_names(CORPUS))
    assert held.weight_bytes == drawn.weight_bytes > plain.weight_bytes  # + the best weights
    assert held.data_bytes > plain.data_bytes  # the file's names are encoded too
