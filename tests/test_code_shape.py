"""Shape rules for the library's code: short functions, so every step has a name."""

from __future__ import annotations

import ast
from pathlib import Path

QA = Path(__file__).resolve().parent.parent / "qa"
MAX_FUNCTION_LINES = 60


def test_no_function_is_longer_than_60_lines():
    long = []
    for path in sorted(QA.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(QA.parent)}:{node.lineno} {node.name} ({lines} lines)")
    assert not long, "split these functions:\n" + "\n".join(long)


def test_the_package_ships_its_type_marker():
    assert (QA / "py.typed").is_file()


def test_every_public_name_is_importable_from_the_package_root():
    import qa

    missing = [name for name in qa.__all__ if not hasattr(qa, name)]
    assert not missing, f"in qa.__all__ but not importable: {missing}"


MAX_FILE_LINES = 500


def test_no_module_is_longer_than_500_lines():
    long = [
        f"{path.relative_to(QA.parent)} ({count} lines)"
        for path in sorted(QA.rglob("*.py"))
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_FILE_LINES
    ]
    assert not long, "split these modules:\n" + "\n".join(long)
