"""The window follows its document from one place: whatever the session announces (a save,
a step, a busy spell, a live setting) shows in the title, the actions and the state without
any flow refreshing the window itself."""

from __future__ import annotations

from tests.gui_support import open_window, train, wait_ready


def test_the_title_actions_and_state_follow_what_the_session_announces(qtbot, tmp_path,
                                                                        tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus)
    a, s = w.actions_, w.session
    assert w.windowTitle() == "tiny[*] — dinogui" and not w.isWindowModified()
    assert a.start.isEnabled() and a.start.text() == "&Start"

    train(qtbot, w, 3)  # began/stopped/progressed come from the worker's reports
    assert w.isWindowModified() and a.start.text() == "&Resume" and a.reset.isEnabled()

    s.saved(tmp_path / "kept.safetensors", s.iteration)  # announced: no flow refreshes
    assert w.windowTitle() == "kept.safetensors[*] — dinogui" and not w.isWindowModified()

    s.live_changed({"lr": s.config.lr / 2})  # a setting no file holds yet
    assert w.isWindowModified()

    s.set_busy("Loading something…")
    assert w.status.state.text() == "Loading something…"
    assert not any(x.isEnabled() for x in (a.start, a.step, a.save, a.open_corpus, a.sample))
    assert not w.hyperparams.isEnabled()
    s.set_busy("")
    assert w.status.state.text() == "Paused" and a.start.isEnabled() and a.save.isEnabled()


def test_copy_and_export_follow_the_drawn_list_through_the_sampling_flow(qtbot, tmp_path,
                                                                          tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus)
    a = w.actions_
    assert not a.copy_samples.isEnabled() and not a.export_samples.isEnabled()
    a.sample.trigger()
    qtbot.waitUntil(lambda: bool(w.samples.names()), timeout=10_000)
    assert a.copy_samples.isEnabled() and a.export_samples.isEnabled()
    assert a.toggle_favourite.isEnabled() and not a.export_favourites.isEnabled()
    wait_ready(qtbot, w)


def test_the_inspectors_list_is_scored_by_its_controller_and_cut_at_its_limit(
        qtbot, tmp_path, tiny_corpus, monkeypatch):
    import dinogui.controllers.name_list as name_list

    monkeypatch.setattr(name_list, "MAX_LIST", 3)
    monkeypatch.setattr(name_list, "NEAREST_CHUNK", 2)  # the search takes two chunks
    w = open_window(qtbot, tmp_path, tiny_corpus)
    w.actions_.show_inspector.trigger()
    qtbot.waitUntil(lambda: w.inspector.snapshot_key == (w.session.generation, w.session.iteration),
                    timeout=10_000)
    w.inspector.list_edit.setPlainText("adan\nhal\nvyb\nzed\nbo\n")
    w.actions_.score_names.trigger()
    qtbot.waitUntil(lambda: len(w.inspector.rows) == 3 and w.inspector.nearest_done,
                    timeout=10_000)
    assert sorted(r.name for r in w.inspector.rows) == ["adan", "hal", "vyb"]
    assert [r.nearest for r in w.inspector.rows if r.name == "adan"] == ["ada"]
    assert all(r.nearest for r in w.inspector.rows if not r.in_corpus)
    assert "only the first 3 names" in w.inspector.list_status.text()
    assert not w.name_list.scoring


def test_the_inspector_view_neither_reads_files_nor_runs_tasks():
    import ast
    from pathlib import Path

    source = (Path(__file__).resolve().parent.parent / "dinogui" / "widgets" /
              "inspector.py").read_text(encoding="utf-8")
    calls = {ast.unparse(n.func).rsplit(".", 1)[-1] for n in ast.walk(ast.parse(source))
             if isinstance(n, ast.Call)}
    assert not calls & {"read_text", "open", "open_path", "run", "run_task", "score_list"}
