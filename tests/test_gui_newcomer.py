"""Issue 17: a newcomer's first ten minutes (the wheel over settings, old samples, closing
mid-training, early stops, dark desktops, words, a 1024x768 screen)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from tests.gui_support import WAIT_MS, open_window, settle, train

pytest.importorskip("pytestqt")


def wheel(widget, notches: int = 1) -> None:
    """Notches of the mouse wheel over the middle of the widget (negative: towards the user)."""
    at = QPointF(widget.width() / 2, widget.height() / 2)
    for _ in range(abs(notches)):
        QApplication.sendEvent(widget, QWheelEvent(
            at, widget.mapToGlobal(at), QPoint(0, 0), QPoint(0, 120 if notches > 0 else -120),
            Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
            Qt.ScrollPhase.NoScrollPhase, False))
    settle()


# -- 1. the wheel scrolls the settings, it does not change them ----------------------------

def test_the_wheel_over_an_unfocused_field_scrolls_the_column_and_changes_nothing(qtbot,
                                                                                tmp_path):
    w = open_window(qtbot, tmp_path)
    w.resize(1000, 500)  # short enough that the settings column scrolls
    settle()
    hp, bar = w.hyperparams, w.left_scroll.verticalScrollBar()
    assert bar.maximum() > 0
    hidden, preset = hp.hidden.value(), hp.preset.currentIndex()
    w.loss_plot.setFocus()  # the user last clicked the plot
    assert not hp.hidden.hasFocus()
    wheel(hp.hidden, -3)  # three notches down, as the user scrolls the column
    wheel(hp.preset, -1)
    assert hp.hidden.value() == hidden and hp.preset.currentIndex() == preset
    assert bar.value() > 0  # the column scrolled instead
    assert not hp.hidden.hasFocus()  # and the wheel did not take the focus to the field
    for box in (w.samples.count, w.samples.temperature):  # the sampling column too
        before = box.value()
        wheel(box, 2)
        assert box.value() == before


def test_the_wheel_changes_a_field_the_user_clicked_into(qtbot, tmp_path):
    w = open_window(qtbot, tmp_path)
    box = w.samples.count
    box.setFocus()
    qtbot.waitUntil(box.hasFocus)
    before = box.value()
    wheel(box, 2)
    assert box.value() == before + 2


# -- 4. old samples are cleared or marked, never passed off as the new model's --------------

def draw(qtbot, w) -> None:
    before = w.samples.summary.text()
    w.actions_.sample.trigger()
    qtbot.waitUntil(lambda: w.samples.summary.text() != before and not w.busy, timeout=WAIT_MS)


def test_samples_of_an_earlier_model_are_marked_then_cleared(qtbot, tmp_path, tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus)
    draw(qtbot, w)  # an untrained model: letter soup, and the list says why
    summary = w.samples.summary.text()
    assert summary.startswith("The model has not trained yet") and "Start (F5)" in summary
    assert len(w.samples.names()) == 10
    train(qtbot, w, 300)
    summary = w.samples.summary.text()
    assert summary.startswith("Drawn at iteration 0; the model is at 300 now")
    assert "Sample (Ctrl+G)" in summary
    draw(qtbot, w)  # trained: no hint, no mark
    summary = w.samples.summary.text()
    assert "not trained yet" not in summary and "Drawn at" not in summary
    assert "iteration 300" in summary

    w.dialogs.choices = [1]  # Reset, then Discard the unsaved training
    w.actions_.reset.trigger()
    qtbot.waitUntil(lambda: w.iteration == 0 and not w.busy, timeout=WAIT_MS)
    assert w.samples.names() == [] and w.samples.list.topLevelItemCount() == 0
    assert "previous model were cleared" in w.samples.summary.text()
    assert not w.actions_.copy_samples.isEnabled()
    assert not w.actions_.export_samples.isEnabled()


def test_changing_the_preset_and_discarding_clears_the_samples(qtbot, tmp_path, tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus, preset="default")
    train(qtbot, w, 200)
    draw(qtbot, w)
    assert "best weights" in w.samples.summary.text() and w.samples.names()
    w.dialogs.choices = [1]  # a new preset needs a new model: Discard the trained one
    w.hyperparams.preset.setCurrentIndex(w.hyperparams.preset.findData("classic"))
    qtbot.waitUntil(lambda: w.config.preset == "classic" and not w.busy, timeout=WAIT_MS)
    assert w.samples.names() == []
    assert "best weights" not in w.samples.summary.text()


# -- 5. closing says what happens to the work; Escape keeps the autosave -------------------

def test_the_first_close_mid_training_says_the_work_is_kept_then_never_again(qtbot, tmp_path,
                                                                           tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus, budget=0)
    w.actions_.start.trigger()
    qtbot.waitUntil(lambda: w.iteration > 20, timeout=WAIT_MS)
    w.actions_.quit.trigger()  # Ctrl+Q mid-training
    assert w.closing and w.autosave_path.is_file()
    [(title, text)] = w.dialogs.infos
    assert title == "Training kept for the next launch"
    assert "offers them back the next time it starts" in text and "appears once" in text

    again = open_window(qtbot, tmp_path / "b", tiny_corpus, budget=0,
                        settings=w.settings)  # the same user, another session
    again.actions_.start.trigger()
    qtbot.waitUntil(lambda: again.iteration > 20, timeout=WAIT_MS)
    again.close()
    assert again.closing and again.autosave_path.is_file()
    assert again.dialogs.infos == []  # told once: closing is quick from then on


def test_escape_on_restore_keeps_the_autosave_for_the_next_launch(qtbot, tmp_path,
                                                                 tiny_corpus):
    from tests.gui_support import ScriptedDialogs, wait_ready

    first = open_window(qtbot, tmp_path, tiny_corpus)
    train(qtbot, first, 30)
    first.close()

    dialogs = ScriptedDialogs()
    dialogs.confirms = [None]  # Escape
    second = open_window(qtbot, tmp_path, tiny_corpus, dialogs=dialogs)
    assert second.offer_restore()
    qtbot.waitUntil(lambda: not dialogs.confirms and not second.busy, timeout=WAIT_MS)
    assert second.iteration == 0  # nothing restored...
    kept = second.autosaver.kept_path
    assert kept.is_file() and "offers it again at the next launch" in second.log.toPlainText()
    train(qtbot, second, 10)  # ...and this session's own unsaved training
    second.close()  # goes to the usual autosave, beside the kept one
    assert kept.is_file() and second.autosave_path.is_file()

    dialogs = ScriptedDialogs()
    dialogs.confirms = [False, True]  # Discard this session's, then Restore the kept one
    third = open_window(qtbot, tmp_path, dialogs=dialogs)
    assert third.offer_restore()
    qtbot.waitUntil(lambda: len(dialogs.asked) == 1 and not third.busy, timeout=WAIT_MS)
    assert "iteration 10 on tiny" in dialogs.asked[0][1]
    assert third.offer_restore()  # the one kept for later comes next
    qtbot.waitUntil(lambda: third.iteration == 30 and not third.busy, timeout=WAIT_MS)
    wait_ready(qtbot, third)
    assert "iteration 30 on tiny" in dialogs.asked[1][1]
    assert not kept.exists() and third.isWindowModified()


def test_escape_on_the_real_restore_question_means_later(qtbot):
    from PySide6.QtCore import QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QWidget

    from dinogui.dialogs import Dialogs

    parent = QWidget()
    qtbot.addWidget(parent)
    answers = []

    def press(key) -> None:
        box = QApplication.activeModalWidget()
        if box is None:
            QTimer.singleShot(10, lambda: press(key))
            return
        QTest.keyClick(box, key)

    for key in (Qt.Key.Key_Escape, Qt.Key.Key_Return):
        QTimer.singleShot(0, lambda k=key: press(k))
        answers.append(Dialogs(parent).confirm_or_later("Restore unsaved training?", "…",
                                                        yes="Restore", no="Discard"))
    assert answers == [None, True]  # Escape: later; Enter: Restore, the default


def test_opening_the_list_a_restored_model_trains_on_asks_nothing(qtbot, tmp_path,
                                                                  tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus)
    train(qtbot, w, 30)
    generation = w.generation
    w.open_path(tiny_corpus)  # `dinogui tiny.txt`: the names this model trains on
    qtbot.waitUntil(lambda: not w.busy, timeout=WAIT_MS)
    assert w.dialogs.asked == []  # no "train this model on it, or start a new one?"
    assert w.generation == generation and w.iteration == 30
    assert "already trains on these names" in w.statusBar().currentMessage()

    other = tmp_path / "other.txt"
    other.write_text("Ada\nBob\n", encoding="utf-8")
    w.dialogs.choices = [None]  # other names: the question stays (Cancel)
    w.open_path(other)
    qtbot.waitUntil(lambda: len(w.dialogs.asked) == 1 and not w.busy, timeout=WAIT_MS)
    assert "Train this model on other.txt" in w.dialogs.asked[0][1]


# -- 3. an early stop reads finished, and says why, every time -----------------------------

def test_an_early_stop_reads_finished_and_a_resume_says_why_it_stops_again(qtbot, tmp_path,
                                                                          tiny_corpus):
    import re

    from tests.gui_support import wait_stopped

    small = dict(hidden=16, batch_size=4, sample_every=10, samples=0, patience=2)
    w = open_window(qtbot, tmp_path, tiny_corpus, preset="default", **small)
    w.hyperparams.budget.setValue(5000)
    w.actions_.start.trigger()
    wait_stopped(qtbot, w)
    first = w.iteration
    assert first < 5000  # stopped early
    bar = w.status.progress
    assert bar.isVisible() and bar.value() == bar.maximum()
    assert bar.text() == "Finished early: no held-out gain"  # not "3% · 4,880 to go"
    assert "no better held-out loss for 2 checks" in bar.toolTip()
    logged = re.findall(r"no better held-out loss for (\d+) checks", w.log.toPlainText())
    assert logged == ["2"] and w.status.state.text() == "Stopped: no better held-out loss " \
        "for 2 checks"

    w.actions_.start.trigger()  # Resume: told beforehand that the next quiet check stops it
    assert "stops again at the next held-out check" in w.log.toPlainText()
    assert bar.text().endswith("to go") or bar.text().startswith("ETA") or "%" in bar.text()
    wait_stopped(qtbot, w)
    assert first < w.iteration < 5000
    message = w.statusBar().currentMessage()
    assert message.startswith(f"Stopped again at iteration {w.iteration:,}: no better")
    logged = re.findall(r"no better held-out loss for (\d+) checks", w.log.toPlainText())
    assert logged[-1] == "3"  # one more check without a new best: the status says the same
    assert w.status.state.text() == "Stopped: no better held-out loss for 3 checks"
    assert bar.text() == "Finished early: no held-out gain"

    w.dialogs.choices = [1]  # Reset (Discard): a fresh model counts towards the budget again
    w.actions_.reset.trigger()
    qtbot.waitUntil(lambda: w.iteration == 0 and not w.busy, timeout=WAIT_MS)
    assert bar.text() == "0% · 5,000 to go"


# -- 9. words: Help lists the keys on F1; "the original exercise", not "the seed" ------------

def test_f1_lists_every_shortcut_of_the_window(qtbot, tmp_path):
    from PySide6.QtGui import QKeySequence

    w = open_window(qtbot, tmp_path)
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow)
    qtbot.keyClick(w, Qt.Key.Key_F1)  # as the user presses it
    [(title, text)] = w.dialogs.infos
    assert title == "Keyboard Shortcuts"
    keyed = [a for a in w.actions_.all() if not a.shortcut().isEmpty()]
    assert len(keyed) >= 20
    for a in keyed:
        keys = a.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        assert f"<b>{keys}</b>" in text, a.text()
    for words in ("Start", "Sample", "Star Favourite", "Keyboard Shortcuts", "Save Checkpoint"):
        assert f"&nbsp;&nbsp;{words}</td>" in text
    help_menu = next(a.menu() for a in w.menuBar().actions() if a.text() == "&Help")
    assert w.actions_.shortcuts in help_menu.actions()


def test_the_classic_caption_says_the_original_exercise_not_the_seed(qtbot, tmp_path,
                                                                    tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus)  # classic
    caption = w.loss_plot.caption.text()
    assert "the original exercise's smoothed loss per name" in caption
    assert "seed" not in caption and "seed" not in w.actions_.per_name.toolTip()


# -- 2. a 1024-pixel screen: starring does not widen the window -----------------------------

def test_starring_a_favourite_does_not_widen_the_window(qtbot, tmp_path, tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus)
    w.resize(w.minimumSizeHint().width(), 700)  # as narrow as it goes (a 1024-pixel screen)
    draw(qtbot, w)
    bar = w.statusBar()
    bar.clearMessage()  # a message hides labels as far as it needs: measure the labels alone
    settle()
    width, least, bar_least = w.width(), w.minimumSizeHint().width(), \
        bar.minimumSizeHint().width()
    w.samples.list.setCurrentItem(w.samples.list.topLevelItem(0))
    w.actions_.toggle_favourite.trigger()  # Ctrl+D
    bar.clearMessage()
    settle()
    assert len(w.samples.favourites) == 1 and w.status.favourites_label.text() == "★ 1"
    assert w.minimumSizeHint().width() <= least and w.width() == width
    assert bar.minimumSizeHint().width() == bar_least  # the bar, the widest part at 1024 px
    w.resize(1280, 700)  # with room, it shows
    settle()
    label = w.status.favourites_label
    assert label.width() >= label.sizeHint().width() > 1
