"""The converted model run by OpenVINO in bf16 or f16, several batches in flight at once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from qa.embed.pooling import max_seq_length, normalise
from qa.embed.runtimes.batched import MAX_BATCH, Batch, BatchedEmbedder, Sink
from qa.embed.runtimes.openvino_core import compiled_openvino, import_openvino
from qa.records import Progress


class OpenVinoEmbedder(BatchedEmbedder):
    """The exported model run by OpenVINO in bf16 (AMX / AVX-512 BF16) or f16, several batches in flight.

    Batches of texts truncated at (or padded up to) max_seq_length, the bulk of 200-word passages, run on
    a model compiled for exactly that shape; the shorter ones on the dynamic model.
    """

    static_from = 0.9  # pad a batch to max_seq_length when its longest text has this share of it

    def __init__(
        self,
        model_file: Path,
        model_path: Path,
        name: str,
        dim: int,
        precision: str = "bf16",
    ) -> None:
        super().__init__(model_path, name, dim)
        self.backend = f"openvino-{ {'bf16': 'bf16', 'f16': 'fp16', 'f32': 'fp32'}[precision] }"
        self._model_file = model_file
        self._precision = precision
        self._compiled = compiled_openvino(model_file, precision)
        # a model converted with pooling inside gives (batch, dim); the plain ONNX export (batch, tokens, dim)
        self._pooled = _gives_vectors(self._compiled)
        self._max_length = max_seq_length(model_path)

    def _full_shape(self) -> tuple[int, int]:
        return max(1, min(MAX_BATCH, self.tokens_per_batch // self._max_length)), self._max_length

    def _width(self, longest: int) -> int:
        # the fixed-shape model is ~12% faster at max_seq_length: padding up to it pays from ~88% of it
        return self._max_length if longest >= self.static_from * self._max_length else longest

    def _run(self, batches: Iterator[Batch], sink: Sink, total: int, progress: Progress | None) -> None:
        if sink.needs_tokens and self._pooled:
            raise ValueError("this model pools inside: it gives no token vectors to pool sentences from")
        model_file = self._model_file
        collect = _Collector(sink, self._pooled)
        full = self._full_shape()
        queue: Any = None
        static: Any = None
        try:
            for rows, arrays in batches:  # longest first: the full-length batches, then the dynamic ones
                if arrays["input_ids"].shape == full and static is None and queue is None:
                    static = queue = _queue(compiled_openvino(model_file, self._precision, full), collect)
                elif arrays["input_ids"].shape != full and (queue is None or queue is static):
                    if queue is not None:
                        queue.wait_all()
                    queue = _queue(compiled_openvino(model_file, self._precision), collect)
                queue.start_async(arrays, (rows, arrays["attention_mask"]))
                if collect.errors:
                    break
                if progress:
                    progress(collect.done, total)
        finally:
            if queue is not None:
                queue.wait_all()
        if collect.errors:
            raise collect.errors[0]
        if progress:
            progress(total, total)


class _Collector:
    """Stores each finished request's vectors in their rows; OpenVINO calls it from its own threads."""

    def __init__(self, sink: Sink, pooled: bool) -> None:
        self.sink = sink
        self.pooled = pooled
        self.done = 0
        self.errors: list[BaseException] = []  # re-raised in the caller's thread

    def __call__(self, request: Any, userdata: tuple[np.ndarray, np.ndarray]) -> None:
        rows, mask = userdata
        try:
            data = request.get_output_tensor(0).data
            if self.pooled:
                self.sink.pooled(rows, normalise(data))
            else:
                self.sink.tokens(rows, data, mask)
            self.done += len(rows)
        except BaseException as exc:  # noqa: BLE001 - raised again by _run
            self.errors.append(exc)


def _gives_vectors(compiled: Any) -> bool:
    """Whether a compiled model's output is pooled vectors (batch, dim) rather than token vectors."""
    return bool(compiled.output(0).get_partial_shape().rank.get_length() == 2)


def _queue(compiled: Any, collect: _Collector) -> Any:
    """An async queue of as many requests as OpenVINO finds best (at least 2), reporting to `collect`."""
    requests = max(2, int(compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS")))
    queue = import_openvino().AsyncInferQueue(compiled, requests)
    queue.set_callback(collect)
    return queue
