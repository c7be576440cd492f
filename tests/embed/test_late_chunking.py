"""Sentence vectors pooled from the passage's own forward pass (late chunking): offsets and token ranges.

That every runtime pools the same vectors is tested with the runtimes, in test_backends.py.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

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
