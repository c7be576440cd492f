"""Shared fixtures: every user path in a sandbox, the seeds copied aside, the real model loaded once."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SHARED = ROOT.parent / "shared"
DEV_QUESTIONS = SHARED / "eval" / "seed_qa_dev.jsonl"


@pytest.fixture(scope="session", autouse=True)
def _model_cache(tmp_path_factory) -> Iterator[Path]:
    """One model cache for the session (exports, conversions, the backend measurement): each is made once,
    content-addressed and written atomically. A test that needs an empty cache sets XDG_CACHE_HOME itself.
    Set for the whole session, so that session and module fixtures (a seed index, a loaded model) built before
    any test's own set-up never write to $HOME either."""
    cache = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(cache))
        patch.setenv("HF_HUB_OFFLINE", "1")
        yield cache


@pytest.fixture(autouse=True)
def _sandbox(_model_cache, monkeypatch):
    """No test writes outside its tmp folders or reads a model path from the environment."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(_model_cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("QA_MODEL", raising=False)


@pytest.fixture
def hash_model(monkeypatch):
    """`ask.py` and `Retriever.open` without an embedder use the hashing embedder: instant, deterministic."""
    monkeypatch.setenv("QA_MODEL", "hash")


@pytest.fixture
def cli(capsys) -> Callable[..., tuple[int, str, str]]:
    """Run ask.py's entry point in this process: `cli("question", "--json")` -> (exit code, stdout, stderr)."""
    from qa.fronts.cli import main

    def run(*argv: str) -> tuple[int, str, str]:
        with pytest.raises(SystemExit) as exit_info:
            main(list(argv))
        out, err = capsys.readouterr()
        code = exit_info.value.code
        return (code if isinstance(code, int) else 0), out, err

    return run


@pytest.fixture
def open_hashed(tmp_path) -> Callable[..., object]:
    """`open_hashed(docs)`: a Retriever over `docs` with the hashing embedder, its index in tmp_path/idx (and the
    shipped reader unless reader=False)."""
    from qa import Retriever
    from qa.embed import HashEmbedder

    def open_(docs: Path, index: Path | None = None, *, reader: bool = True) -> Retriever:
        return Retriever.open(docs=docs, index=index or tmp_path / "idx", embedder=HashEmbedder(), reader=reader)

    return open_


@pytest.fixture
def seeds(tmp_path) -> Path:
    target = tmp_path / "seeds"
    shutil.copytree(SEEDS, target)
    return target


@pytest.fixture
def corpus(tmp_path) -> Path:
    """A small folder corpus written by the test: two articles, one nested."""
    root = tmp_path / "docs"
    (root / "world").mkdir(parents=True)
    (root / "a.txt").write_text(
        "Troops leave Kazakhstan\n\nThe troops began to leave on Thursday. The withdrawal ends on January 19.\n",
        encoding="utf-8",
    )
    (root / "world" / "b.md").write_text(
        "# Fuel prices\n\nProtests started after a sharp rise in fuel prices. Police vehicles were set ablaze.\n",
        encoding="utf-8",
    )
    return root


@pytest.fixture(scope="session")
def real_embedder():
    from qa.embed.reference import load_embedder

    return load_embedder(None)


@pytest.fixture(scope="session")
def seed_retriever(tmp_path_factory, real_embedder):
    from qa import Retriever

    folder = tmp_path_factory.mktemp("seedcorpus")
    shutil.copytree(SEEDS, folder / "seeds")
    return Retriever.open(docs=folder / "seeds", index=folder / "index", embedder=real_embedder)


def dev_questions() -> list[dict]:
    if not DEV_QUESTIONS.is_file():
        return []
    return [json.loads(line) for line in DEV_QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
