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
