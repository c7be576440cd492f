"""Sentence vectors pooled from the passage's own forward pass (late chunking): offsets, ranges, runtimes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import qa.embed.bulk as bulk
from qa.embed.pooling import collapsed_positions, pool_ranges, token_ranges
from qa.embed.texts import embedding_text

WORDS = st.text(alphabet="abcXYZ.,’", min_size=1, max_size=6)
GAPS = st.text(alphabet=" \n\t\u00a0", min_size=1, max_size=3)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(WORDS, GAPS), min_size=1, max_size=12), GAPS, st.data())
def test_a_span_of_the_text_is_the_same_span_of_what_the_model_sees(pieces, lead, data):
    text = lead + "".join(word + gap for word, gap in pieces)
    positions = collapsed_positions(text)
    seen = embedding_text(text)
    assert len(positions) == len(text) + 1 and positions[-1] == len(seen)
    # any span from the start of a word to the end of a word
    starts = [i for i in range(len(text)) if not text[i].isspace() and (i == 0 or text[i - 1].isspace())]
    ends = [i + 1 for i in range(len(text)) if not text[i].isspace() and (i + 1 == len(text) or text[i + 1].isspace())]
    start = data.draw(st.sampled_from(starts))
    end = data.draw(st.sampled_from([e for e in ends if e > start]))
    assert seen[positions[start] : positions[end]] == embedding_text(text[start:end])


def test_token_ranges_cover_each_span_and_a_truncated_one_is_none():
    text = "Troops  left.\nThe   deadline was January 19."
    # what a tokenizer gives for embedding_text(text) = "Troops left. The deadline was January 19.": [CLS] ... [SEP]
    seen = embedding_text(text)
    words = [(m.start(), m.end()) for m in __import__("re").finditer(r"\w+|\.", seen)]
    offsets = [(0, 0), *words, (0, 0)]
    ranges = token_ranges(text, offsets, [(0, 13), (14, len(text))])
    assert ranges == [(1, 4), (4, len(offsets) - 1)]  # "Troops left ." then the rest, special tokens left out
    cut = [(0, 0), *words[:5], (0, 0)]  # truncated inside the second sentence
    assert token_ranges(text, cut, [(0, 13), (14, len(text))]) == [(1, 4), None]


def test_pooled_ranges_are_unit_means_and_a_missing_one_is_zero():
    hidden = np.array([[9.0, 9.0], [1.0, 0.0], [3.0, 0.0], [0.0, 2.0]], dtype=np.float32)
    pooled = pool_ranges(hidden, [(1, 3), (3, 4), None])
    np.testing.assert_allclose(pooled, [[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]], atol=1e-6)


@pytest.mark.model
def test_every_runtime_pools_the_same_sentence_vectors(real_embedder, tmp_path, monkeypatch):
    """The same late-chunked vectors whatever runtime computes them; a sentence cut off by truncation is
    encoded on its own; the passage vector is the one `embed` gives."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    first = "The CSTO said its troops would leave Kazakhstan within ten days."
    second = "Russian defence minister Sergei Shoigu said the withdrawal was finished by January 19."
    long_tail = " ".join(["The alliance kept its peacekeepers at the airport for the whole week."] * 40)
    texts = [f"{first}\n\n{second}", f"{first} {long_tail} {second}"]
    spans = [
        [(0, len(first)), (len(first) + 2, len(texts[0]))],
        [(0, len(first)), (len(texts[1]) - len(second), len(texts[1]))],
    ]
    results = {}
    for name in bulk.available_backends():
        runtime = bulk.bulk_embedder(real_embedder, name)
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
