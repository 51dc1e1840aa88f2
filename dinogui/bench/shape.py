"""The code's shape: modules over MAX_LINES lines and each module's longest function.

    python -m dinogui.bench.shape [ROOT]     (ROOT: a checkout, default this one)

A function's length is its lines from `def` to its last line, nested functions
included; for a module, its longest function or method.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

MAX_LINES = 400
PACKAGES = ("core", "dinogui")


def longest_function(source: str) -> tuple[str, int]:
    """(qualified name, lines) of the longest function or method in this source."""
    best = ("-", 0)

    def visit(node: ast.AST, prefix: str) -> None:
        nonlocal best
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = prefix + child.name
                if not isinstance(child, ast.ClassDef):
                    lines = child.end_lineno - child.lineno + 1
                    if lines > best[1]:
                        best = (name, lines)
                visit(child, name + ".")

    visit(ast.parse(source), "")
    return best


def modules(root: Path) -> list[tuple[str, int, str, int]]:
    """(path, lines, longest function, its lines) of every module under PACKAGES."""
    rows = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            if path.is_symlink() or any(p.is_symlink() for p in path.parents if p != root):
                continue  # dinogui/core is core
            source = path.read_text(encoding="utf-8")
            name, length = longest_function(source)
            rows.append((str(path.relative_to(root)), source.count("\n"), name, length))
    return rows


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    root = Path(argv[0]) if argv else Path(__file__).resolve().parents[2]
    rows = modules(root)
    big = [r for r in rows if r[1] > MAX_LINES]
    print(f"modules over {MAX_LINES} lines: {len(big)}")
    for path, lines, _, _ in sorted(big, key=lambda r: -r[1]):
        print(f"  {path}: {lines}")
    print("\nlongest function per module (lines):")
    for path, _, name, length in sorted(rows, key=lambda r: -r[3]):
        print(f"  {length:4d}  {path}: {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
