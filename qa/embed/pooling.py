"""The steps around the transformer, as sentence-transformers takes them: tokenize, pad, mean-pool, L2-normalise."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from qa.embed.texts import embedding_text

if TYPE_CHECKING:
    from tokenizers import Encoding, Tokenizer

MODEL_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
DEFAULT_MAX_SEQ_LENGTH = 256


def max_seq_length(model_path: Path) -> int:
    """The tokens sentence-transformers keeps per text (its sentence_bert_config.json), 256 without one."""
    try:
        return int(json.loads((model_path / "sentence_bert_config.json").read_text())["max_seq_length"])
    except (OSError, ValueError, KeyError):
        return DEFAULT_MAX_SEQ_LENGTH


def load_tokenizer(model_path: Path) -> Tokenizer:
    """The model's fast tokenizer, truncating at max_seq_length and never padding (batches pad themselves)."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_path / "tokenizer.json"))
    # the bundled tokenizer.json truncates and pads at 128; sentence-transformers uses max_seq_length
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_seq_length(model_path))
    return tokenizer


def tokenize(tokenizer: Tokenizer, texts: Sequence[str]) -> list[Encoding]:
    """One encoding per text, of the text the model sees."""
    return list(tokenizer.encode_batch([embedding_text(t) for t in texts]))


def model_inputs(encodings: Sequence[Encoding], width: int) -> dict[str, np.ndarray]:
    """A batch's ids, attention mask and token types, zero-padded to `width` tokens."""
    arrays = {name: np.zeros((len(encodings), width), dtype=np.int64) for name in MODEL_INPUTS}
    for row, encoding in enumerate(encodings):
        size = len(encoding.ids)
        arrays["input_ids"][row, :size] = encoding.ids
        arrays["attention_mask"][row, :size] = encoding.attention_mask
        arrays["token_type_ids"][row, :size] = encoding.type_ids
    return arrays


def mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The mean of each text's real tokens' vectors (padding masked out), in float32."""
    weights = mask[..., None].astype(np.float32)
    sums = (hidden.astype(np.float32, copy=False) * weights).sum(axis=1)
    mean: np.ndarray = sums / np.maximum(weights.sum(axis=1), 1e-9)
    return mean


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Each row scaled to unit length, in float32 (an all-zero row stays zero)."""
    vectors = vectors.astype(np.float32, copy=False)
    unit: np.ndarray = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    return unit


def sentence_vectors(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The model's token vectors to unit sentence vectors: mean pooling, then L2 norm."""
    return normalise(mean_pool(hidden, mask))


def collapsed_positions(text: str) -> np.ndarray:
    """For each character of `text` and for its end, the matching offset in embedding_text(text).

    embedding_text drops leading and trailing whitespace and turns every run of it into one space; a
    whitespace character maps to the end of the word before it (0 before the first word).
    """
    positions = np.empty(len(text) + 1, dtype=np.int64)
    collapsed = 0
    seen_word = False
    in_space = False
    for index, char in enumerate(text):
        if char.isspace():
            in_space = True
            positions[index] = collapsed
            continue
        if in_space and seen_word:
            collapsed += 1  # the one space before this word
        in_space = False
        seen_word = True
        positions[index] = collapsed
        collapsed += 1
    positions[len(text)] = collapsed
    return positions


def token_ranges(
    text: str, offsets: Sequence[tuple[int, int]], spans: Sequence[tuple[int, int]]
) -> list[tuple[int, int] | None]:
    """For each span of `text` (character offsets), the tokens [first, last + 1) covering it in the encoding
    of embedding_text(text) whose character `offsets` are given; None when truncation cut any of it off."""
    positions = collapsed_positions(text)
    ends = np.array([end if end > start else -1 for start, end in offsets], dtype=np.int64)
    starts = np.array([start for start, _ in offsets], dtype=np.int64)
    real = np.flatnonzero(ends > 0)  # special tokens ([CLS], [SEP]) have empty offsets
    last_end = int(ends[real[-1]]) if len(real) else 0
    ranges: list[tuple[int, int] | None] = []
    for start, end in spans:
        begin, finish = int(positions[start]), int(positions[end])
        inside = real[(starts[real] < finish) & (ends[real] > begin)]
        ranges.append((int(inside[0]), int(inside[-1]) + 1) if len(inside) and finish <= last_end else None)
    return ranges


def pool_ranges(hidden: np.ndarray, ranges: Sequence[tuple[int, int] | None]) -> np.ndarray:
    """Unit vectors of the mean token vector over each range of one text's `hidden` (tokens, dim); zeros for None."""
    out = np.zeros((len(ranges), hidden.shape[-1]), dtype=np.float32)
    for row, token_range in enumerate(ranges):
        if token_range is not None:
            out[row] = hidden[token_range[0] : token_range[1]].astype(np.float32).mean(axis=0)
    return normalise(out)
