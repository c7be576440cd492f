"""The Python API from any directory: the README's snippet, the seeds as the default corpus, relative paths."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from conftest import ROOT, SEEDS

pytestmark = pytest.mark.usefixtures("hash_model")


def readme_snippet() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Python API") :]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_readme_snippet_runs_from_another_directory(tmp_path):
    snippet = readme_snippet()
    assert "Retriever.open()" in snippet, "the snippet opens the default corpus"
    # the same code, its index in the test's folder rather than the checkout's index/
    code = snippet.replace("Retriever.open()", f"Retriever.open(index={str(tmp_path / 'idx')!r})")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "QA_MODEL": "hash", "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    first = done.stdout.splitlines()[0]
    assert re.fullmatch(rf"1 [01]\.\d{{3}} {re.escape(str(SEEDS))}/\d{{3}}_[0-9a-f]{{16}}\.txt:\d+-\d+", first), first
    assert "'question': 'When did the withdrawal finish?'" in done.stdout
    assert list(elsewhere.iterdir()) == [], "nothing written where it ran"


def test_the_default_corpus_is_the_seeds_wherever_it_runs(tmp_path, monkeypatch):
    from qa.paths import default_docs

    (tmp_path / "seeds").mkdir()  # a folder of the same name elsewhere is not the package's seeds
    monkeypatch.chdir(tmp_path)
    assert default_docs() == SEEDS
    monkeypatch.chdir(ROOT)
    assert default_docs().as_posix() == "seeds", "named as the README shows it, from the checkout"


def test_a_relative_corpus_is_taken_from_the_current_directory(seeds, tmp_path, monkeypatch):
    from qa import Retriever

    monkeypatch.chdir(tmp_path)
    retriever = Retriever.open(docs="seeds", index="idx")
    assert retriever.index_path.parent == tmp_path / "idx"
    hit = retriever.search("troops", k=1).hits[0]
    assert hit.source.path.startswith("seeds/")
    monkeypatch.chdir(ROOT / "tests")  # the files were found where it was opened: they still verify
    assert retriever.search("troops", k=1).hits[0].passage == hit.passage


def test_without_the_seeds_the_error_says_why_and_the_cli_names_docs(monkeypatch, tmp_path, cli):
    import qa.paths
    from qa import Retriever
    from qa.errors import DocsNotFoundError

    monkeypatch.setattr(qa.paths, "SEEDS", tmp_path / "site-packages" / "seeds")
    with pytest.raises(DocsNotFoundError) as error:
        Retriever.open(index=tmp_path / "idx")
    message = f"no corpus given, and the seed articles are not installed here ({tmp_path}/site-packages/seeds)"
    assert str(error.value).startswith(message) and "--" not in str(error.value)
    code, _, err = cli("q", "--index", str(tmp_path / "idx"))
    assert code == 2 and err.startswith(f"error: {message}") and err.endswith("; pass --docs PATH with your articles\n")
