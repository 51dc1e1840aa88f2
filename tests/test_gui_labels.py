"""Names by kind in the window: File > Open Corpus with several files, the kinds in the corpus
panel, the Kind control in Sample names (a label or a blend, bad ones refused in one line)."""

import re

import pytest

from dinogui.core.corpus import escape_controls
from tests.gui_support import ScriptedDialogs, open_window, train, wait_ready
from tests.kind_files import kind_files

pytest.importorskip("pytestqt")

WAIT = 30_000


def open_kinds(qtbot, tmp_path):
    dialogs = ScriptedDialogs()
    w = open_window(qtbot, tmp_path, dialogs=dialogs, preset="default", cell="gru", hidden=32)
    dialogs.open_paths = [kind_files(tmp_path, 120)]
    w.actions_.open_corpus.trigger()
    qtbot.waitUntil(lambda: w.session.trainer is not None and w.session.trainer.corpus.labelled
                    and not w.session.busy, timeout=WAIT)
    return w


def draw(qtbot, w, kind: str, **controls) -> list[str]:
    p = w.samples
    p.kind.setEditText(kind)
    for name, value in controls.items():
        getattr(p, name).setValue(value)
    before, errors = p.summary.text(), len(w.dialogs.errors)
    w.actions_.sample.trigger()
    qtbot.waitUntil(lambda: p.summary.text() != before or len(w.dialogs.errors) > errors,
                    timeout=WAIT)
    return p.names()


def test_several_files_open_as_kinds_with_counts_and_colours(qtbot, tmp_path):
    w = open_kinds(qtbot, tmp_path)
    assert w.session.trainer.corpus.labels == ("abc", "vwx")
    panel = w.corpus_panel
    assert panel.kinds.isVisible() and panel.kinds_label.isVisible()
    text = panel.kinds.text()
    assert "abc · 120" in text and "vwx · 120" in text
    colours = re.findall(r"rgb\((\d+, \d+, \d+)\)", text)
    assert len(colours) == 2 and colours[0] != colours[1]
    assert panel.title.text() == "abc + vwx"
    k = w.samples.kind
    assert k.isEnabled() and [k.itemText(i) for i in range(k.count())] == \
        ["abc", "vwx", "abc:0.5,vwx:0.5"]
    w.grab().save(str(tmp_path / "kinds.png"))


def test_the_kind_control_draws_that_kinds_names(qtbot, tmp_path):
    w = open_kinds(qtbot, tmp_path)
    train(qtbot, w, 300)
    # the loss plot: one held-out curve per kind, a point at every check
    plot = w.loss_plot
    assert plot.kind_labels == ("abc", "vwx") and len(plot.kind_points) == len(plot.val_x) > 2
    assert [x for x, _ in plot.kind_points] == plot.val_x
    last = w.worker.call(lambda t: (t.last_val_by_label, t.held_out_by_label()))
    assert plot.kind_points[-1][1] == last[0] == list(last[1].values())
    xs, ys = plot.kind_curves[1].getData()
    assert list(xs) == plot.val_x and ys[-1] == pytest.approx(last[0][1])
    abc = draw(qtbot, w, "abc", count=40, temperature=0.6)
    assert len(abc) == 40 and set("".join(abc).lower()) == set("abcde")
    assert "kind abc" in w.samples.summary.text()
    vwx = draw(qtbot, w, "vwx", count=40, temperature=0.6)
    assert set("".join(vwx).lower()) == set("vwxyz")
    both = "".join(draw(qtbot, w, "abc:0.5,vwx:0.5", count=100, temperature=1.0)).lower()
    assert set(both) & set("abcde") and set(both) & set("vwxyz")
    # the same names `dinogui sample --label` draws from the same weights and seed
    sampler = w.worker.call(lambda t: t.sampler(copy_params=True, best=True))
    want = sampler.with_label("vwx").sample(40, seed=w.samples.seed.value(), temperature=0.6)
    got = draw(qtbot, w, "vwx", count=40, temperature=0.6)
    assert [n.lower() for n in got] == want
    shown = w.samples.names()
    before = len(w.dialogs.errors)
    draw(qtbot, w, "elves")
    assert len(w.dialogs.errors) == before + 1
    title, text = w.dialogs.errors[-1]
    assert "unknown label 'elves' (known labels: abc, vwx)" in escape_controls(text)
    assert w.samples.names() == shown  # the list was kept


def test_a_plain_corpus_has_no_kinds(qtbot, tmp_path, tiny_corpus):
    w = open_window(qtbot, tmp_path, tiny_corpus)
    wait_ready(qtbot, w)
    assert not w.corpus_panel.kinds.isVisible()
    assert not w.samples.kind.isEnabled() and w.samples.request().label == ""


def test_the_inspector_scores_a_typed_name_under_each_kind(qtbot, tmp_path, capsys):
    """As `dinogui score` prints a labelled model's columns: one per kind, the likeliest."""
    from dinogui import cli
    from dinogui.core import checkpoint

    w = open_kinds(qtbot, tmp_path)
    train(qtbot, w, 60)
    w.actions_.show_inspector.trigger()
    qtbot.waitUntil(lambda: w.inspector.snapshot is not None, timeout=WAIT)
    qtbot.keyClicks(w.inspector.name_edit, "vwxy")
    text = w.inspector.summary.text()
    path = tmp_path / "kinds.safetensors"
    checkpoint.save(w.worker.call(lambda t: t), path)
    capsys.readouterr()
    assert cli.main(["score", "--checkpoint", str(path), "vwxy"]) == 0
    header, row = capsys.readouterr().out.splitlines()
    assert header.split("\t") == ["name", "abc", "vwx", "best"]
    _, ll_abc, ll_vwx, best = row.split("\t")
    assert f"By kind: abc {float(ll_abc):.3f}, vwx {float(ll_vwx):.3f}" in text
    assert f"likeliest: <b>{best}</b>" in text and best == "vwx"
