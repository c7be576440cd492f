"""The torch-free query path: the ONNX export gives the reference vectors, and a cold ask never imports torch."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT, SEEDS, dev_questions

from qa.embed.onnx import OnnxEmbedder, export, export_dir, query_embedder
from qa.embed.reference import SentenceTransformerEmbedder, load_embedder

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def exported(_model_cache):
    """One export for the module, in the session's model cache (which later builds reuse)."""
    cache = _model_cache
    saved = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(cache)
    try:
        reference = load_embedder(None)
        onnx_file = export(reference.path)
    finally:
        if saved is None:
            os.environ.pop("XDG_CACHE_HOME", None)
        else:
            os.environ["XDG_CACHE_HOME"] = saved
    assert onnx_file is not None and onnx_file.is_file()
    return cache, reference, onnx_file


def seed_texts() -> list[str]:
    texts = [q["question"] for q in dev_questions()] or ["When did the withdrawal finish?"]
    for path in sorted(SEEDS.glob("*.txt")):
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if len(line.split()) > 8]
        texts.extend(lines[:15])
    texts.append(" ".join(["A very long paragraph about troops leaving Kazakhstan."] * 60))  # truncated at 256
    return texts


def test_onnx_vectors_match_the_reference(exported):
    _, reference, onnx_file = exported
    fast = OnnxEmbedder(onnx_file, reference.path, reference.name, reference.dim)
    texts = seed_texts()
    cosines = np.sum(fast.embed(texts) * reference.embed(texts), axis=1)
    assert cosines.min() >= 0.999, cosines.min()


def test_onnx_keeps_the_top_10_on_the_seeds(exported, seed_retriever):
    _, reference, onnx_file = exported
    fast = OnnxEmbedder(onnx_file, reference.path, reference.name, reference.dim)
    index = seed_retriever._index  # noqa: SLF001 - compare raw FAISS rankings
    questions = [q["question"] for q in dev_questions()] or ["When did the withdrawal finish?"]
    kept = total = 0
    for a, b in zip(fast.embed(questions), reference.embed(questions), strict=True):
        top_fast = set(index.vectors.search(a[None, :], 10)[1][0])
        top_ref = set(index.vectors.search(b[None, :], 10)[1][0])
        kept += len(top_fast & top_ref)
        total += len(top_ref)
    assert kept / total >= 0.98


def test_query_embedder_uses_the_export_and_falls_back_without_it(exported, monkeypatch, tmp_path):
    cache, reference, onnx_file = exported
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    assert isinstance(query_embedder(reference), OnnxEmbedder)
    monkeypatch.setenv("QA_BACKEND", "torch")
    assert query_embedder(reference) is reference
    monkeypatch.delenv("QA_BACKEND")
    # a damaged export: the reference answers
    damaged = tmp_path / "damaged-cache"
    shutil.copytree(cache, damaged)
    monkeypatch.setenv("XDG_CACHE_HOME", str(damaged))
    folder = export_dir(reference.path)
    (folder / "model.onnx").write_bytes(b"not a model")
    assert query_embedder(reference) is reference
    assert isinstance(reference, SentenceTransformerEmbedder)


def test_a_cold_question_never_imports_torch(exported, seeds, tmp_path):
    cache, _, _ = exported
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    args = [sys.executable, "-X", "importtime", str(ROOT / "ask.py"), "When did the withdrawal finish?"]
    args += ["--json", "--docs", str(seeds), "--index", str(tmp_path / "idx"), "-q"]
    first = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr[-2000:]
    again = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-2000:]
    imported = {line.split("|")[-1].strip() for line in again.stderr.splitlines() if line.startswith("import time:")}
    assert "torch" not in imported and "sentence_transformers" not in imported
    assert "onnxruntime" in imported
    # nor what only a build needs: the extractor (jusText, lxml, its patterns), the reader, the final indexes
    assert not imported & {"justext", "lxml", "qa.extract.article", "qa.indexing.planner", "qa.indexing.finalize"}
    assert "pydantic" not in imported, "typer >= 0.29 coerces every option through pydantic: +70 ms a question"
    assert json.loads(again.stdout)["passages"] == json.loads(first.stdout)["passages"]


def test_the_preloaded_session_is_the_one_questions_use(exported, monkeypatch):
    """preload.start loads the encoder of the model a question will use; OnnxEmbedder takes that session."""
    from qa.embed import preload

    cache, reference, onnx_file = exported
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    monkeypatch.delenv("QA_MODEL", raising=False)
    assert preload.take(onnx_file) is None, "nothing loads before start"
    preload.start(str(reference.path))
    session = preload.take(onnx_file)
    assert session is not None and preload.take(onnx_file) is None, "handed over once"
    preload.start(str(reference.path))
    fast = query_embedder(reference)
    assert isinstance(fast, OnnxEmbedder) and preload.take(onnx_file) is None, "the encoder took it"
    questions = ["When did the withdrawal finish?", "How many troops were sent?"]
    assert float(np.min(np.sum(fast.embed(questions) * reference.embed(questions), axis=1))) > 0.9999
    preload.start("hash")  # no export to load: nothing happens, nothing raises
    preload.start(str(cache / "no-such-model"))


def test_the_first_build_prepares_the_torch_free_path_whatever_its_encoder(seeds, tmp_path):
    """An empty model cache: a build with an encoder that needs no export (torch; forced, so that no backend
    measurement makes the export on the way) leaves an ONNX export for the next question."""
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    args = [sys.executable, "-X", "importtime", str(ROOT / "ask.py"), "When did the withdrawal finish?"]
    args += ["--docs", str(seeds), "--index", str(tmp_path / "idx"), "-q", "--backend", "torch-fp32"]
    first = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stderr[-2000:]
    again = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    imported = {line.split("|")[-1].strip() for line in again.stderr.splitlines() if line.startswith("import time:")}
    assert again.returncode == 0 and "torch" not in imported and "onnxruntime" in imported
