"""The package's stages import one way only: fronts -> search -> indexing -> stages -> inputs -> text -> records.

Every `import qa...` / `from qa... import` in qa/ (lazy ones inside functions too) is read from the
source with `ast`, so an upward import fails here before it becomes a cycle somewhere else.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

QA = Path(__file__).resolve().parent.parent / "qa"

# lower numbers are lower layers; a module may import its own layer or lower ones, never higher
LAYERS = {
    "errors": 0,
    "records": 0,
    "citations": 0,  # a hit's citation: records' to_dict calls it
    "paths": 0,
    "version": 0,
    "text": 1,
    "inputs": 2,
    "ingest": 3,
    "chunk": 3,
    "embed": 3,
    "storage": 3,
    "read": 3,  # the reader network: trained (qa/read/train.py), shipped as ONNX, run at question time
    "extract": 4,  # reads a file through ingest for --explain
    "indexing": 5,
    "search": 6,
    "conversation": 7,  # follow-ups resolved against earlier turns (qa/conversation/), over search
    "app": 7,  # the library layer under the fronts (qa/app/): opening, maintenance, and what the fronts use
    "fronts": 8,
    "integrations": 8,  # framework retrievers (qa/integrations/): a front for LangChain and LlamaIndex
}
# the fronts stand on the library layer alone: besides their own package, they import only these
FRONT_MAY_IMPORT = {"app", "records", "errors"}
# the package's public face and the import shims kept for documented deep paths: they sit on top
TOP = {"__init__", "cli", "server", "indexer", "evaluate"}


def _part(module: str) -> str:
    """`qa.storage.vectors` -> `storage`; `qa` -> `__init__`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names if alias.name.split(".")[0] == "qa"]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}:{node.lineno}: use absolute imports (from qa.x import ...)"
            if node.module and node.module.split(".")[0] == "qa":
                found.append((node.lineno, node.module))
    return found


def _modules() -> list[Path]:
    return sorted(p for p in QA.rglob("*.py") if "__pycache__" not in p.parts)


def test_every_part_of_the_package_has_a_layer():
    parts = {_part(".".join(("qa", *p.relative_to(QA).with_suffix("").parts))) for p in _modules()}
    assert parts - TOP <= set(LAYERS), f"give these a layer in tests/test_layers.py: {parts - TOP - set(LAYERS)}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(QA)))
def test_nothing_imports_upward(path: Path):
    own = _part(".".join(("qa", *path.relative_to(QA).with_suffix("").parts)))
    if own in TOP:
        return
    upward = [
        f"line {line}: {module} ({_part(module)}, layer {LAYERS.get(_part(module))}) from {own} (layer {LAYERS[own]})"
        for line, module in _imports(path)
        if _part(module) in TOP or LAYERS[_part(module)] > LAYERS[own]
    ]
    assert not upward, "imports upward:\n" + "\n".join(upward)


def test_no_cycles_between_parts():
    graph: dict[str, set[str]] = {}
    for path in _modules():
        own = _part(".".join(("qa", *path.relative_to(QA).with_suffix("").parts)))
        if own not in TOP:
            graph.setdefault(own, set()).update(_part(m) for _, m in _imports(path) if _part(m) != own)
    done: set[str] = set()

    def visit(node: str, trail: list[str]) -> None:
        assert node not in trail, "import cycle: " + " -> ".join([*trail[trail.index(node) :], node])
        if node in done:
            return
        for other in sorted(graph.get(node, ())):
            visit(other, [*trail, node])
        done.add(node)

    for node in sorted(graph):
        visit(node, [])


@pytest.mark.parametrize(
    "path",
    [
        p
        for p in _modules()
        if _part(".".join(("qa", *p.relative_to(QA).with_suffix("").parts))) in ("fronts", "integrations")
    ],
    ids=lambda p: str(p.relative_to(QA)),
)
def test_fronts_import_only_the_library_layer(path: Path):
    own = _part(".".join(("qa", *path.relative_to(QA).with_suffix("").parts)))
    beside = [
        f"line {line}: {module}"
        for line, module in _imports(path)
        if _part(module) not in FRONT_MAY_IMPORT | {own} and module != "qa"
    ]
    assert not beside, "a front imports beside the library layer (qa/app/), records and errors:\n" + "\n".join(beside)


def test_every_name_of_the_library_layer_is_what_its_home_holds():
    import importlib

    import qa.app

    for name in qa.app.__all__:
        value = getattr(qa.app, name)
        home = qa.app._HOMES[name]  # noqa: SLF001
        expected = (
            importlib.import_module(home) if name in qa.app._MODULES else getattr(importlib.import_module(home), name)
        )  # noqa: SLF001
        assert value is expected, name
