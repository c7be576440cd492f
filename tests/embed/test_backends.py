"""Bulk embedding backends: each one's vectors match the torch fp32 reference; bad choices fail in one line."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT, SEEDS, dev_questions

import qa.embed.bulk as bulk
from qa.embed.pooling import mean_pool, model_inputs, normalise, sentence_vectors
from qa.embed.reference import HashEmbedder, SentenceTransformerEmbedder, load_embedder
from qa.errors import BackendError, QAError
from qa.inputs import BACKENDS

pytestmark = pytest.mark.model

FALLBACK_QUESTIONS = [
    "When did the withdrawal finish?",
    "How many troops did the CSTO send to Kazakhstan?",
    "What triggered the protests?",
    "Who asked the alliance for help?",
    "How many people died in the unrest?",
]


def seed_pieces(words: int = 100) -> list[str]:
    pieces = []
    for path in sorted(SEEDS.glob("*.txt")):
        tokens = path.read_text(encoding="utf-8").split()
        pieces += [" ".join(tokens[i : i + words]) for i in range(0, len(tokens), words)]
    return pieces


def questions() -> list[str]:
    return [q["question"] for q in dev_questions()] or FALLBACK_QUESTIONS


@pytest.fixture(scope="module")
def sample(real_embedder):
    """The pieces, the questions (and one text longer than max_seq_length) with their reference vectors."""
    texts = seed_pieces() + [" ".join(["A very long paragraph about troops leaving Kazakhstan."] * 60)]
    asked = questions()
    return texts, asked, real_embedder.embed(texts), real_embedder.embed(asked)


@pytest.fixture(scope="module")
def built(tmp_path_factory, real_embedder):
    """Every available backend, built once for the module with its exports in a cache folder of its own."""
    saved = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("bulk-cache"))
    try:
        yield {name: bulk.bulk_embedder(real_embedder, name) for name in bulk.available_backends()}
    finally:
        if saved is None:
            os.environ.pop("XDG_CACHE_HOME", None)
        else:
            os.environ["XDG_CACHE_HOME"] = saved


def top10(queries: np.ndarray, passages: np.ndarray) -> np.ndarray:
    return np.argsort(-(queries @ passages.T), axis=1, kind="stable")[:, :10]


@pytest.mark.parametrize("backend", BACKENDS)
def test_backend_matches_the_reference(backend, built, sample, real_embedder):
    if backend not in built:
        pytest.skip(f"{backend} is not available here")
    embedder = built[backend]
    texts, asked, ref_texts, ref_asked = sample
    assert embedder.backend == backend
    assert embedder.name == real_embedder.name and embedder.dim == real_embedder.dim
    vectors, question_vectors = embedder.embed(texts), embedder.embed(asked)
    assert vectors.dtype == np.float32 and vectors.shape == ref_texts.shape
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    cosines = np.concatenate([np.sum(vectors * ref_texts, axis=1), np.sum(question_vectors * ref_asked, axis=1)])
    assert cosines.min() >= 0.999, cosines.min()
    found, expected = top10(question_vectors, vectors), top10(ref_asked, ref_texts)
    kept = sum(len(set(a) & set(b)) for a, b in zip(found, expected, strict=True))
    assert kept / expected.size >= 0.98


def test_order_and_batching_do_not_change_a_vector(built, sample):
    """Texts are sorted by length and batched with padding (shared code): each row still belongs to its text."""
    texts = [sample[1][0], *sample[0][:3], sample[1][1], sample[0][-1]]
    embedder = built[bulk.available_backends()[0]]
    together = embedder.embed(texts)
    alone = np.stack([embedder.embed([t])[0] for t in texts[::-1]])[::-1]
    assert np.sum(together * alone, axis=1).min() >= 0.9999
    assert embedder.embed([]).shape == (0, embedder.dim)


def test_progress_reaches_the_total(built, sample):
    texts = sample[0]
    embedder = built[bulk.available_backends()[0]]
    seen = []
    embedder.embed(texts, progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (len(texts), len(texts))
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


def test_auto_measures_every_available_backend_and_keeps_the_choice(monkeypatch):
    reference = load_embedder(None)  # not loaded: choosing a backend needs no reference model when it is cached
    assert isinstance(reference, SentenceTransformerEmbedder)
    seen = {}

    def calibrated(ref, candidates, build, folder):
        seen["candidates"] = list(candidates)
        return candidates[-1]

    monkeypatch.setattr(bulk, "calibrated_backend", calibrated)
    monkeypatch.setattr(bulk, "_build", lambda backend, _: backend)
    assert bulk.bulk_embedder(reference) == seen["candidates"][-1]
    assert seen["candidates"] == list(bulk.available_backends())
    monkeypatch.setattr(bulk, "_installed", lambda module: module not in ("openvino",))
    bulk.bulk_embedder(reference)
    assert not any(name.startswith("openvino") for name in seen["candidates"])
    assert not reference.loaded


@pytest.mark.parametrize(
    ("backend", "missing", "message"),
    [
        ("fastest", None, "unknown embedding backend 'fastest' (choose from auto, openvino-bf16,"),
        ("openvino-bf16", "openvino", "embedding backend openvino-bf16 is not available here: openvino is not"),
        ("torch-bf16", "flags", "embedding backend torch-bf16 is not available here: the CPU has no native bf16"),
        ("torch-fp32", "torch", "embedding backend torch-fp32 is not available here: torch is not installed"),
        ("onnxruntime-fp32", "onnxruntime", "embedding backend onnxruntime-fp32 is not available here"),
    ],
)
def test_a_forced_backend_that_cannot_run_raises(backend, missing, message, monkeypatch):
    if missing == "flags":
        monkeypatch.setattr(bulk, "_cpu_flags", lambda: frozenset())
    elif missing:
        monkeypatch.setattr(bulk, "_installed", lambda module: module != missing)
    reference = load_embedder(None)
    with pytest.raises(BackendError) as caught:
        bulk.bulk_embedder(reference, backend)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)
    assert isinstance(caught.value, QAError) and caught.value.exit_code == 2
    assert not reference.loaded


def test_other_embedders_come_back_unchanged():
    hashed = HashEmbedder()
    assert bulk.bulk_embedder(hashed) is hashed and hashed.backend == "hash"
    assert bulk.bulk_embedder(hashed, "torch-fp32") is hashed
    with pytest.raises(BackendError):
        bulk.bulk_embedder(hashed, "nonsense")


def test_the_backend_a_build_records_for_an_embedder_used_as_it_is():
    """The manifest's model.backend: "hash" for the hash model, "reference" for any other model that encodes."""
    renamed = HashEmbedder()
    renamed.name = "other"
    assert bulk.bulk_embedder(renamed).backend == "reference"
    assert load_embedder(None).backend == "reference"


def test_pooling_averages_the_real_tokens_and_normalises():
    """Padding never moves a vector: the shared pooling masks it out, then scales each row to unit length."""

    class Encoding:
        def __init__(self, ids):
            self.ids, self.attention_mask, self.type_ids = ids, [1] * len(ids), [0] * len(ids)

    arrays = model_inputs([Encoding([5, 6, 7]), Encoding([8])], width=4)
    assert arrays["input_ids"].tolist() == [[5, 6, 7, 0], [8, 0, 0, 0]]
    assert arrays["attention_mask"].tolist() == [[1, 1, 1, 0], [1, 0, 0, 0]]
    hidden = np.random.default_rng(0).standard_normal((2, 4, 3)).astype(np.float32)
    pooled = mean_pool(hidden, arrays["attention_mask"])
    np.testing.assert_allclose(pooled, [hidden[0, :3].mean(axis=0), hidden[1, 0]], rtol=1e-6)
    vectors = sentence_vectors(hidden, arrays["attention_mask"])
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-6)
    assert not normalise(np.zeros((1, 3))).any()


def test_importing_bulk_imports_no_runtime():
    code = (
        "import sys, qa.embed.bulk\n"
        "print(sorted(m for m in ('torch', 'openvino', 'onnxruntime', 'transformers') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"


def test_every_runtime_pools_the_same_sentence_vectors(built):
    """Late chunking (sentence vectors pooled from the passage's pass): the same vectors whatever runtime
    computes them; a sentence cut off by truncation is encoded on its own; the passage vector is `embed`'s."""
    first = "The CSTO said its troops would leave Kazakhstan within ten days."
    second = "Russian defence minister Sergei Shoigu said the withdrawal was finished by January 19."
    long_tail = " ".join(["The alliance kept its peacekeepers at the airport for the whole week."] * 40)
    texts = [f"{first}\n\n{second}", f"{first} {long_tail} {second}"]
    spans = [
        [(0, len(first)), (len(first) + 2, len(texts[0]))],
        [(0, len(first)), (len(texts[1]) - len(second), len(texts[1]))],
    ]
    results = {}
    for name, runtime in built.items():
        vectors, pooled = runtime.embed_with_spans(texts, spans)
        assert np.sum(vectors * runtime.embed(texts), axis=1).min() >= 0.9999
        assert [len(p) for p in pooled] == [2, 2]
        np.testing.assert_allclose(np.linalg.norm(np.vstack(pooled), axis=1), 1.0, atol=1e-5)
        # the second text's last sentence lies past max_seq_length: encoded alone
        assert float(pooled[1][1] @ runtime.embed([second])[0]) >= 0.999
        # pooled in context, a sentence is close to, but not the same as, the sentence encoded alone
        alone = float(pooled[0][1] @ runtime.embed([second])[0])
        assert 0.6 < alone < 0.999
        results[name] = np.vstack(pooled)
    reference = next(iter(results.values()))
    for name, found in results.items():
        assert np.sum(found * reference, axis=1).min() >= 0.99, name
