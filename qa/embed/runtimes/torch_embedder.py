"""The transformer run by torch, in bf16 or fp32, and transformers' AutoModel loaded offline and quietly."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from qa.embed.pooling import MODEL_INPUTS
from qa.embed.runtimes.batched import BatchedEmbedder


def transformers_auto_model() -> Any:
    """transformers' AutoModel, offline and quiet (no weight-loading bar or config chatter on stderr)."""
    for key, value in (("HF_HUB_OFFLINE", "1"), ("TRANSFORMERS_OFFLINE", "1"), ("TRANSFORMERS_VERBOSITY", "error")):
        os.environ.setdefault(key, value)
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    hf_logging.set_verbosity_error()  # type: ignore[no-untyped-call]
    return AutoModel


class TorchEmbedder(BatchedEmbedder):
    """The transformer in torch, in bf16 (the weights themselves, no autocast) or fp32."""

    tokens_per_batch = 32 * 256

    def __init__(self, model_path: Path, name: str, dim: int, bf16: bool = True) -> None:
        super().__init__(model_path, name, dim)
        import torch

        self.backend = "torch-bf16" if bf16 else "torch-fp32"
        self._torch = torch
        model = transformers_auto_model().from_pretrained(str(model_path), local_files_only=True).eval()
        self._model = model.to(torch.bfloat16) if bf16 else model

    def _infer(self, arrays: dict[str, np.ndarray]) -> np.ndarray:
        torch = self._torch
        with torch.inference_mode():
            hidden = self._model(**{name: torch.from_numpy(arrays[name]) for name in MODEL_INPUTS}).last_hidden_state
            vectors: np.ndarray = hidden.float().numpy()
            return vectors
