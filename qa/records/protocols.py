"""The protocols the stages talk through: an embedder, a reporter."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

Progress = Callable[[int, int], None]  # (texts done, texts in all)


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


class Reporter(Protocol):
    """Where the library sends what a user may want to see; the fronts decide how to show it."""

    def info(self, message: str) -> None: ...

    def warning(self, message: str) -> None: ...

    def progress(self, done: int, total: int) -> None: ...


class SilentReporter:
    def info(self, message: str) -> None:
        pass

    def warning(self, message: str) -> None:
        pass

    def progress(self, done: int, total: int) -> None:
        pass
