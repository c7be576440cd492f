"""What every embedder shares: the text a model sees, and the backend name of the model encoding by itself."""

from __future__ import annotations

REFERENCE_BACKEND = "reference"  # the manifest's model.backend when the model itself encodes


def embedding_text(text: str) -> str:
    """What the model sees: whitespace collapsed. The stored passage text is never changed."""
    return " ".join(text.split())
