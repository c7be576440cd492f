"""The model's ONNX export run by onnxruntime in fp32 (no torch once exported)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from qa.embed.runtimes.batched import BatchedEmbedder


class OnnxRuntimeEmbedder(BatchedEmbedder):
    """The ONNX export run by onnxruntime in fp32, one large batch at a time."""

    backend = "onnxruntime-fp32"
    tokens_per_batch = 32 * 256

    def __init__(self, onnx_file: Path, model_path: Path, name: str, dim: int) -> None:
        super().__init__(model_path, name, dim)
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        self._session = onnxruntime.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])

    def _infer(self, arrays: dict[str, np.ndarray]) -> np.ndarray:
        hidden: np.ndarray = self._session.run(None, arrays)[0]
        return hidden
