"""README.md and docs/: generated pages match the program, links resolve, quotes parse.

The reference pages that quote the program are made by dinogui.docs; a test here fails when
a committed page differs from what the program makes now, naming the command that fixes it.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import struct
from pathlib import Path

import pytest

from dinogui import docs
from dinogui.cli import UsageError, _file_argument, build_parser
from dinogui.core import checkpoint
from dinogui.core.config import TrainConfig
from dinogui.core.corpus import corpus_from_names
from dinogui.core.settings import TRAINING
from dinogui.core.trainer import Trainer

REPO = Path(__file__).resolve().parent.parent
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
FIX = f"run `{docs.COMMAND}` and commit the result"


def text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


# == generated pages ================================================================
def test_every_generated_page_is_what_the_program_makes_now(qapp):
    for path, wanted in docs.expected(REPO).items():
        committed = REPO / path
        assert committed.is_file(), f"{path} is missing: {FIX}"
        assert text(committed) == wanted, f"{path} is out of date: {FIX}"


def test_a_changed_parser_or_setting_makes_the_pages_stale(qapp, tmp_path, monkeypatch):
    root = tmp_path / "repo"
    shutil.copytree(REPO / "docs", root / "docs")
    assert docs.stale(root) == []
    assert docs.main(["--check", "--root", str(root)]) == 0

    real = build_parser

    def with_a_new_flag():
        parser = real()
        train = next(p for name, _, p in docs._subcommands(parser) if name == "train")
        train.add_argument("--made-up", metavar="N", help="a flag the program does not have")
        return parser

    monkeypatch.setattr("dinogui.cli.build_parser", with_a_new_flag)
    monkeypatch.setitem(TRAINING, "hidden",
                        TRAINING["hidden"].__class__(**{**vars(TRAINING["hidden"]), "high": 512}))
    assert "| `--made-up` | `N` | a flag the program does not have |" in docs.command_line_page()
    assert "| between 1 and 512 |" in docs.settings_page()
    assert docs.stale(root) == ["docs/command-line.md", "docs/settings.md"]
    assert docs.main(["--check", "--root", str(root)]) == 1
    assert docs.main(["--root", str(root)]) == 0  # rewrites them
    assert docs.stale(root) == []
    assert "--made-up" in text(root / "docs/command-line.md")


def test_check_names_the_stale_page_and_the_command(qapp, tmp_path, capsys):
    root = tmp_path / "repo"
    shutil.copytree(REPO / "docs", root / "docs")
    page = root / "docs/window.md"
    page.write_text(text(page).replace("| F5 |", "| F7 |"), encoding="utf-8")
    assert docs.main(["--check", "--root", str(root)]) == 1
    assert capsys.readouterr().err == f"docs/window.md is out of date: run {docs.COMMAND}\n"
    docs.main(["--root", str(root)])
    assert "| Start | F5 |" in text(page)
    assert text(page) == text(REPO / "docs/window.md")  # the hand-written rest is kept


def test_every_flag_of_every_command_is_on_the_command_line_page():
    page = text(REPO / "docs/command-line.md")
    for name, _, parser in [("", "", build_parser()), *docs._subcommands(build_parser())]:
        section = page.split(f"## dinogui {name}".rstrip() + "\n", 1)[1].split("\n## ", 1)[0]
        for action in parser._actions:
            for flag in action.option_strings:
                assert f"`{flag}`" in section, f"{flag} of dinogui {name} is not documented"


def test_every_setting_has_a_row_with_its_rule_and_default():
    page = text(REPO / "docs/settings.md")
    for s in TRAINING.values():
        row = next(line for line in page.splitlines() if line.startswith(f"| `{s.name}` "))
        assert f"| {s.rule()} |" in row and f"| {s.help} |" in row


def test_a_block_is_replaced_in_place_and_a_missing_one_is_named():
    begin, end = docs._marks("keys")
    page = f"# Title\n\nbefore\n{begin}\nold\nrows\n{end}\nafter\n"
    new = docs.with_block(page, "keys", "new")
    assert new == f"# Title\n\nbefore\n{begin}\nnew\n{end}\nafter\n"
    with pytest.raises(ValueError, match="no block 'other'"):
        docs.with_block(page, "other", "new")


# == links ==========================================================================
def outside_code(page: str) -> str:
    """The page without its fenced code blocks and inline code."""
    page = re.sub(r"^```.*?^```", "", page, flags=re.DOTALL | re.MULTILINE)
    return re.sub(r"`[^`\n]*`", "", page)


def github_anchors(page: str) -> set[str]:
    """GitHub's anchors for a page's headings (the text of inline code kept)."""
    page = re.sub(r"^```.*?^```", "", page, flags=re.DOTALL | re.MULTILINE)
    out = set()
    for line in page.splitlines():
        if m := re.match(r"#{1,6} (.+)", line):
            words = m.group(1).strip().lower().replace("`", "")
            out.add(re.sub(r"[^\w\- ]", "", words).replace(" ", "-"))
    return out


def broken_links(path: Path) -> list[str]:
    """The relative links of a Markdown page that point at no file or no heading."""
    bad = []
    for target in re.findall(r"\]\(([^)\s]+)\)", outside_code(text(path))):
        if re.match(r"[a-z]+:", target):
            continue  # https:, mailto:
        file, _, anchor = target.partition("#")
        dest = (path.parent / file).resolve() if file else path
        if not dest.is_file():
            bad.append(f"{path.name}: {target} (no such file)")
        elif anchor and dest.suffix == ".md" and anchor not in github_anchors(text(dest)):
            bad.append(f"{path.name}: {target} (no such heading)")
    return bad


def test_every_relative_link_in_readme_and_docs_resolves():
    assert len(PAGES) >= 10
    assert [bad for page in PAGES for bad in broken_links(page)] == []


def test_the_link_check_catches_a_missing_file_and_a_missing_heading(tmp_path):
    (tmp_path / "a.md").write_text("# A page\n\n## Some `code` here\n", encoding="utf-8")
    page = tmp_path / "b.md"
    page.write_text("[ok](a.md#some-code-here) [ok](#b) [file](c.md) [head](a.md#nope)\n"
                    "# B\n`[not a link](x.md)` [web](https://example.org/x)\n", encoding="utf-8")
    assert broken_links(page) == ["b.md: c.md (no such file)", "b.md: a.md#nope (no such heading)"]


# == what the pages quote ===========================================================
def fenced_commands(page: str) -> list[str]:
    """The `dinogui ...` lines of a page's sh blocks, without comments or redirections."""
    out = []
    for block in re.findall(r"^```sh\n(.*?)^```", page, flags=re.DOTALL | re.MULTILINE):
        for line in block.splitlines():
            if line.startswith("dinogui "):
                out.append(re.split(r"\s+(?:#|>)\s", line, maxsplit=1)[0])
    return out


def parses(command: str) -> str | None:
    """Why build_parser() refuses a quoted command line, or None when it parses."""
    try:
        _, argv = _file_argument(shlex.split(command)[1:])  # as main() reads it
        build_parser().parse_args(argv)
    except UsageError as e:
        return f"{command}: {e}"
    return None


def test_every_quoted_dinogui_command_parses():
    commands = [c for page in PAGES for c in fenced_commands(text(page))]
    commands += [c for c in re.findall(r"`(dinogui (?:train|sample) [^`]*)`", text(PAGES[0]))
                 if " > " not in c]
    assert len(commands) >= 15
    assert [why for c in commands if (why := parses(c))] == []
    assert parses("dinogui train --hidden 0") is not None  # the check can fail


def known_flags() -> set[str]:
    """Every option of dinogui's parsers, of the bench scripts' and of the generator's."""
    parser = build_parser()
    flags = {f for p in [parser, *(sub for _, _, sub in docs._subcommands(parser))]
             for a in p._actions for f in a.option_strings}
    # and of the exported generator's command line (docs/export.md)
    for script in [*(REPO / "dinogui" / "bench").glob("*.py"), REPO / "core/generator_template.py"]:
        flags |= set(re.findall(r"add_argument\(\s*\"(--[a-z-]+)\"", text(script)))
    return flags


def test_every_flag_the_pages_mention_exists():
    known = known_flags()
    mentioned = {(page.name, f) for page in PAGES
                 for f in re.findall(r"(?<![\w-])--[a-z][a-z-]*[a-z]", text(page))}
    assert [m for m in sorted(mentioned) if m[1] not in known] == []


def test_readme_starts_with_the_two_commands_and_stays_short():
    readme = text(REPO / "README.md")
    first_block = re.search(r"```sh\n(.*?)```", readme, flags=re.DOTALL).group(1)
    assert first_block == 'pip install . && dinogui\npip install ".[test]" && python -m pytest\n'
    assert readme.index("![") < readme.index("\n## ")  # the screenshot on the first screen
    assert len(readme.splitlines()) <= 200, "README is for a newcomer: move reference to docs/"


# == the checkpoint layout in docs/files.md =========================================
CONFIGS = [
    dict(preset="classic"),
    dict(preset="default", cell="lstm", layers=2, optimizer="adam"),
    dict(preset="default", cell="gru", optimizer="adagrad"),
    dict(preset="default", optimizer="sgd", val_fraction=0.0),
]


def saved_keys(config: dict) -> tuple[set[str], set[str], set[str]]:
    """(header metadata keys, dotted keys of the dinogui JSON, array names) of a real save."""
    names = [f"{a}{b}us" for a in "abcdefgh" for b in "aeiou"]
    trainer = Trainer(corpus_from_names(names, source="t.txt"),
                      TrainConfig.for_preset(**{"val_fraction": 0.1, "val_every": 1, **config}))
    trainer.run(3)
    raw = checkpoint.to_bytes(trainer)
    (size,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + size])
    meta = header.pop("__metadata__")
    dotted = set()
    for key, value in json.loads(meta["dinogui"]).items():
        dotted |= {f"{key}.{k}" for k in value} if isinstance(value, dict) else {key}
    return set(meta), dotted, set(header)


def documented() -> set[str]:
    section = text(REPO / "docs/files.md").split("### Layout of a checkpoint", 1)[1]
    section = section.split("\n## ", 1)[0]
    return set(re.findall(r"`([\w./<>]+)`", section))


def test_the_files_page_names_every_key_a_checkpoint_holds_and_no_other():
    doc = documented()
    seen_meta: set[str] = set()
    for config in CONFIGS:
        header, meta, arrays = saved_keys(config)
        assert header <= doc, f"{config}: header keys {header - doc} are not in docs/files.md"
        config_keys = {k for k in meta if k.startswith("config.")}
        assert config_keys == {f"config.{n}" for n in TRAINING}  # `config.<setting>`
        missing = {k for k in meta - config_keys if k not in doc}
        assert not missing, f"{config}: metadata keys {missing} are not in docs/files.md"
        seen_meta |= meta
        for name in arrays:
            family = re.sub(r"^(param|best|opt/\w+)/(l\d+/)?(\w+)$", r"\1/<name>", name)
            assert name in doc or family in doc, f"{config}: array {name} is not documented"
            if family != name:
                leaf = name.rsplit("/", 1)[1]
                assert f"`{leaf}`" in text(REPO / "docs/files.md"), f"{leaf} is not named"
            seen_meta.add(name)
    explicit = {k for k in doc if re.match(r"(state|optimizer|corpus)[./]\w+$|hist/\w+$", k)}
    assert explicit - seen_meta == set(), "docs/files.md names keys no checkpoint holds"


def test_outside_a_checkout_the_generator_says_so_in_one_line(tmp_path, capsys):
    assert docs.main(["--root", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "has no docs/ folder" in err
    assert list(tmp_path.iterdir()) == []  # nothing written
