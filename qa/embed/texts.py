"""What every embedder shares: the text a model sees, and the backend name of the model encoding by itself."""

from __future__ import annotations

REFERENCE_BACKEND = "reference"  # the manifest's model.backend when the model itself encodes
# how a build makes sentence vectors (the manifest's model.sentences, part of the build key):
POOLED = "pooled"  # from the passage's own forward pass, its token vectors averaged over each sentence
ENCODED = "encoded"  # each sentence encoded on its own (any embedder that cannot give token vectors)


def sentence_method(embedder: object) -> str:
    """How a build with `embedder` makes sentence vectors: its `sentence_vectors` attribute, else ENCODED."""
    return str(getattr(embedder, "sentence_vectors", ENCODED))


def embedding_text(text: str) -> str:
    """What the model sees: whitespace collapsed. The stored passage text is never changed."""
    return " ".join(text.split())
