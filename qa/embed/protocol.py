"""What every embedder is: the Embedder protocol, its progress callback, and the text a model sees."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

Progress = Callable[[int, int], None]  # (texts done, texts in all)
REFERENCE_BACKEND = "reference"  # the manifest's model.backend when the model itself encodes


class Embedder(Protocol):
    """What the index needs from a model: a stable name, a dimension, the runtime, and normalised vectors."""

    name: str

    @property
    def dim(self) -> int: ...

    @property
    def backend(self) -> str:
        """The runtime that encodes, as a build records it in the manifest (model.backend)."""
        ...

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray: ...


def embedding_text(text: str) -> str:
    """What the model sees: whitespace collapsed. The stored passage text is never changed."""
    return " ".join(text.split())
