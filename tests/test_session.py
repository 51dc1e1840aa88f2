"""The window's document state (dinogui/document/session.py) without a window, and the rules
the window shares with the CLI (live settings, smoothing, prefix folding), read from one place."""

import math
from dataclasses import replace
from pathlib import Path

import pytest

from dinogui.core.config import LIVE_FIELDS, SMOOTHING, TrainConfig
from dinogui.core.corpus import corpus_from_names
from dinogui.core.sampling import SampleSpec
from dinogui.core.trainer import Trainer
from dinogui.document.session import Session, check_for_views


class Summary:  # what the session needs of a CorpusSummary
    title = "tiny"
    known = frozenset()


def trainer(preset: str = "classic", **config) -> Trainer:
    corpus = corpus_from_names(["ada", "bob", "cyrus", "dan", "eve", "finn", "gus", "hal"])
    return Trainer(corpus, TrainConfig.for_preset(preset, hidden=8, **config))


def adopted(saved_iteration=0, path=None, t=None) -> Session:
    s = Session()
    s.adopt(t or trainer(), Summary(), 1, path, saved_iteration)
    return s


def test_no_model_is_never_modified():
    s = Session()
    assert not s.modified and s.unsaved_iterations == 0 and s.idle_state() == "No model"
    assert s.may_discard_silently() and not s.autosave_due()


def test_a_fresh_model_is_unmodified_until_it_trains():
    s = adopted()
    assert not s.modified and s.idle_state() == "Ready"
    assert s.progressed(5) and s.modified  # the change is reported once
    assert not s.progressed(9)
    assert s.unsaved_iterations == 9 and s.idle_state() == "Paused"


def test_unsaved_iterations_count_from_the_last_save():
    s = adopted(saved_iteration=12_366, path=Path("m.npz"))
    s.progressed(16_109)
    assert s.modified and s.unsaved_iterations == 3_743
    s.saved(Path("m.npz"), 16_109)
    assert not s.modified and s.unsaved_iterations == 0
    s.progressed(16_110)
    assert s.unsaved_iterations == 1


def test_a_model_no_file_holds_is_modified_with_every_iteration_unsaved():
    s = adopted(saved_iteration=None)
    s.progressed(40)
    assert s.modified and s.unsaved_iterations == 40 and not s.may_discard_silently()


def test_a_live_setting_change_is_unsaved_only_once_trained():
    s = adopted()
    s.live_changed({"lr": 0.5})
    assert s.config.lr == 0.5 and not s.modified  # nothing trained: nothing to lose
    s.saved(Path("m.npz"), 0)
    s.progressed(3)
    s.saved(Path("m.npz"), 3)
    s.live_changed({"clip": 1.0})
    assert s.modified and s.unsaved_iterations == 0


def test_autosave_is_due_once_per_unsaved_iteration():
    s = adopted()
    s.progressed(10)
    assert s.autosave_due()
    s.autosaved(10)
    assert not s.autosave_due()
    s.progressed(11)
    assert s.autosave_due()
    s.saved(Path("m.npz"), 11)
    assert not s.autosave_due()


def test_adopting_forgets_the_previous_model():
    s = adopted()
    s.progressed(10)
    s.autosaved(10)
    s.live_changed({"lr": 0.3})
    t = trainer()
    s.adopt(t, Summary(), 2, Path("x.npz"), 0)
    assert (s.generation, s.iteration, s.checkpoint_path, s.config) == (2, 0, Path("x.npz"),
                                                                       t.config)
    assert not s.settings_changed and s.autosaved_iteration is None and not s.training


def test_a_trained_model_passes_the_view_check():
    t = trainer("default", val_fraction=0.25, val_every=2)
    t.run(5)
    check_for_views(t)


@pytest.mark.parametrize("damage, says", [
    (lambda st: setattr(st, "val_losses", st.val_losses[:-1]), "held-out curve"),
    (lambda st: setattr(st, "val_losses", ["x"] * len(st.val_losses)), "not a loss"),
    (lambda st: setattr(st, "val_losses", [math.nan] * len(st.val_losses)), "not a loss"),
    (lambda st: setattr(st, "val_iterations", [10**9] * len(st.val_iterations)),
     "not one it trained"),
    (lambda st: setattr(st, "smooth", math.nan), "smooth"),
    (lambda st: setattr(st, "seconds", "3"), "seconds"),
    (lambda st: setattr(st, "total_chars", -1), "character count"),
    (lambda st: setattr(st, "best_iteration", 99), "best iteration"),
    (lambda st: setattr(st, "iteration", 4), "loss history"),  # more steps than it took
])
def test_a_crafted_state_is_refused_before_anything_switches(damage, says):
    t = trainer("default", val_fraction=0.25, val_every=2)
    t.run(5)
    damage(t.state)
    with pytest.raises(ValueError, match=says):
        check_for_views(t)


def test_the_live_settings_are_one_list_the_trainer_enforces():
    from dinogui.widgets.hyperparams import LIVE_FIELDS as PANEL_LIVE

    assert set(PANEL_LIVE) <= set(LIVE_FIELDS)
    t = trainer("default")
    t.set_live(**{k: None for k in LIVE_FIELDS})  # every listed one is accepted
    t.set_live(lr=0.5, val_every=7)
    assert (t.config.lr, t.config.val_every) == (0.5, 7)
    assert not hasattr(t.optimizer, "lr")  # the rate's one home is the config
    with pytest.raises(ValueError, match="hidden cannot change mid-run"):
        t.set_live(hidden=9)
    fixed = set(TrainConfig().to_dict()) - set(LIVE_FIELDS)
    assert {"hidden", "preset", "seed", "batch_size", "cell", "layers"} <= fixed


@pytest.mark.parametrize("preset", ["classic", "default"])
def test_the_plot_caption_shows_the_smoothing_the_trainer_uses(preset):
    from dinogui.widgets.loss_plot import SMOOTHING as CAPTION

    keep, take = SMOOTHING[preset]
    t = trainer(preset)
    before = t.state.smooth
    r = t.step()
    assert r.smooth == before * keep + (r.loss / r.names) * take
    assert float(CAPTION[preset]) == keep


def test_prefix_and_suffix_fold_in_one_place_for_window_and_cli():
    from dinogui.document.sample_request import SampleRequest

    spec = SampleSpec(prefix="Ka", suffix="SAURUS", max_len=20)
    assert spec.for_corpus(True) == replace(spec, prefix="ka", suffix="saurus")
    assert spec.for_corpus(False) is spec
    req = SampleRequest(count=3, seed=0, temperature=1.0, max_len=20, prefix="Ka",
                        suffix="SAURUS")
    assert req.spec(True) == spec.for_corpus(True) and req.spec(False) == spec


def test_the_title_names_the_checkpoint_once_there_is_one_else_the_corpus():
    s = Session()
    assert s.title() == "dinogui"
    s = adopted()
    assert s.title() == "tiny[*] — dinogui"
    s.saved(Path("/somewhere/dinos-h100.npz"), 0)
    assert s.title() == "dinos-h100.npz[*] — dinogui"


def test_a_history_with_nan_is_refused_before_the_plot_gets_it():
    t = trainer("default", val_fraction=0.25, val_every=2)
    t.run(5)
    t.history.column("smooth")[2] = math.inf
    with pytest.raises(ValueError, match="NaN or infinite"):
        check_for_views(t)


# == the session announces what the window shows ======================================
def watched(s: Session) -> list[tuple]:
    """Each announcement, as what the window would show then."""
    seen: list[tuple] = []
    s.subscribe(lambda: seen.append((s.title(), s.modified, s.training, s.busy)))
    return seen


def test_adopting_a_model_is_announced_with_its_title():
    s = Session()
    seen = watched(s)
    s.adopt(trainer(), Summary(), 1, None, 0)
    assert seen == [("tiny[*] — dinogui", False, False, "")]


def test_progress_is_announced_only_when_it_changes_what_no_file_holds():
    s = adopted(saved_iteration=0)
    seen = watched(s)
    assert s.progressed(0, 10) is False and seen == []  # still what the file holds
    assert s.progressed(5, 50) is True and seen == [("tiny[*] — dinogui", True, False, "")]
    assert s.progressed(9, 90) is False and len(seen) == 1  # modified already: no refresh


def test_saving_training_busy_and_live_settings_are_announced():
    s = adopted(saved_iteration=0)
    seen = watched(s)
    s.began()
    s.stopped(7)
    assert seen == [("tiny[*] — dinogui", False, True, ""), ("tiny[*] — dinogui", True, False, "")]
    s.saved(Path("/x/m.safetensors"), 7)
    assert seen[-1] == ("m.safetensors[*] — dinogui", False, False, "")
    s.live_changed({"lr": 0.5})
    assert seen[-1][1] is True and s.config.lr == 0.5  # a setting no file holds
    s.set_busy("Loading…")
    s.set_busy("")
    assert [b for *_, b in seen[-2:]] == ["Loading…", ""]
    assert len(seen) == 6


def test_a_live_change_without_a_model_announces_nothing():
    s = Session()
    seen = watched(s)
    s.live_changed({"lr": 0.5})
    assert seen == [] and s.config is None


def test_next_rate_is_the_schedules_rate_at_the_next_step():
    from dinogui.core import schedule

    s = adopted(t=trainer("default", lr_schedule="cosine", schedule_iterations=100))
    s.progressed(40)
    assert s.next_rate() == schedule.rate(s.config, 40) < s.config.lr
    assert Session().next_rate() is None


def test_a_stop_brings_the_schedule_the_trainer_sized_to_its_time_budget():
    """The trainer sizes a quality run's schedule itself: the session's copy takes that
    length at the stop (the next step's rate and the schedule-ended warning read it), and
    nothing else of the stopped trainer's settings (a live change may be on its way)."""
    s = Session(config=TrainConfig.for_preset("quality", lr=0.01))
    sized = replace(s.config, schedule_iterations=123, lr=0.5)
    s.stopped(200, sized)
    assert (s.iteration, s.config.schedule_iterations, s.config.lr) == (200, 123, 0.01)
    assert s.next_rate() == 0.0  # past the end of its cosine
    plain = Session(config=TrainConfig.for_preset("default", lr=0.01))
    plain.stopped(5, replace(plain.config, schedule_iterations=9))
    assert plain.config.schedule_iterations == 0  # no budget: nothing the trainer sized
