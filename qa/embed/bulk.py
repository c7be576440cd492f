"""Fast bulk embedding for index builds: the reference model's vectors from a quicker runtime.

`bulk_embedder(reference, "auto")` picks OpenVINO in bf16 when the CPU does bf16 natively, else torch
in bf16, else onnxruntime when the model's ONNX export exists, else torch fp32 (`openvino-fp16` only
when asked for). Every backend tokenizes with `tokenizers` (truncation at the model's max_seq_length),
sorts the texts by token length so a batch carries little padding, mean-pools and L2-normalises: the
vectors stay within cosine 0.999 of the reference (tests/test_backends.py) and keep the reference's
`name`, so an index mixes them freely. OpenVINO runs the model converted once from torch to its own IR,
cached beside the ONNX export. Nothing here imports torch or OpenVINO until a backend is chosen.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import threading
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from qa.embed.onnx import _max_seq_length  # light: numpy only
from qa.embed.reference import HASH_MODEL, Progress, SentenceTransformerEmbedder, embedding_text
from qa.errors import BackendError

BACKENDS = ("openvino-bf16", "openvino-fp16", "torch-bf16", "onnxruntime-fp32", "torch-fp32")
AUTO = "auto"
# Tokens per batch, padding included (measured on 2 cores): OpenVINO runs a few small batches at once (4
# passages of 256 tokens each), torch and onnxruntime one large batch at a time. Never more than MAX_BATCH texts.
TOKENS_PER_BATCH = 1024
MAX_BATCH = 64
OPENVINO_EXPORT_VERSION = 1
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_INSTALL = {
    "openvino": "pip install -c constraints.txt openvino",
    "torch": "pip install -c constraints.txt torch",
    "onnxruntime": "pip install -c constraints.txt onnxruntime onnx",
}


def available_backends() -> tuple[str, ...]:
    """The backends that can be built here, fastest first (cheap: may import openvino, never torch)."""
    return tuple(name for name in BACKENDS if _unavailable(name) is None)


def bulk_embedder(embedder: object, backend: str = AUTO) -> object:
    """The fastest accurate encoder for `embedder`'s model; anything but a sentence-transformers model unchanged.

    `backend` is "auto" or one of BACKENDS; a forced backend that cannot run here raises BackendError.
    The returned object has a `backend` attribute naming what encodes ("hash"/"reference" for an
    embedder returned as it is).
    """
    if backend != AUTO and backend not in BACKENDS:
        raise BackendError(f"unknown embedding backend {backend!r} (choose from {', '.join((AUTO, *BACKENDS))})")
    if not isinstance(embedder, SentenceTransformerEmbedder):
        if not hasattr(embedder, "backend"):
            try:
                embedder.backend = HASH_MODEL if getattr(embedder, "name", None) == HASH_MODEL else "reference"
            except AttributeError:  # slots or a read-only property: the caller's default applies
                pass
        return embedder
    if backend == AUTO:
        backend = _auto_choice(embedder.path)
    else:
        reason = _unavailable(backend)
        if reason:
            raise BackendError(f"embedding backend {backend} is not available here: {reason}")
    return _build(backend, embedder)


def _auto_choice(model_path: Path) -> str:
    if _unavailable("openvino-bf16") is None:
        return "openvino-bf16"
    if _unavailable("torch-bf16") is None:
        return "torch-bf16"
    if _unavailable("onnxruntime-fp32") is None and _has_onnx_export(model_path):
        return "onnxruntime-fp32"
    return "torch-fp32"


def _has_onnx_export(model_path: Path) -> bool:
    """Whether the model's ONNX export exists already (auto uses onnxruntime only then)."""
    from qa.embed.onnx import export_dir

    folder = export_dir(model_path)
    return folder is not None and (folder / "model.onnx").is_file()


def _build(backend: str, reference: SentenceTransformerEmbedder) -> _BulkEmbedder:
    if backend in ("torch-bf16", "torch-fp32"):
        return TorchEmbedder(reference.path, reference.name, reference.dim, bf16=backend == "torch-bf16")
    if backend.startswith("openvino-"):
        model_file = openvino_export(reference.path) or _onnx_export(reference.path)  # loads torch the first time
        if model_file is None:
            raise BackendError(f"embedding backend {backend} needs an export of the model, which failed")
        precision = "bf16" if backend == "openvino-bf16" else "f16"
        return OpenVinoEmbedder(model_file, reference.path, reference.name, reference.dim, precision)
    onnx_file = _onnx_export(reference.path)
    if onnx_file is None:
        raise BackendError(f"embedding backend {backend} needs an ONNX export of the model, which failed")
    return OnnxRuntimeEmbedder(onnx_file, reference.path, reference.name, reference.dim)


def _onnx_export(model_path: Path) -> Path | None:
    from qa.embed.onnx import export

    return export(model_path)


def openvino_export(model_path: Path) -> Path | None:
    """The model converted from torch to OpenVINO IR with mean pooling and L2 norm inside, made once and cached.

    Converting from torch (not from the ONNX export) lets OpenVINO fuse each attention block into one
    kernel, and pooling in the graph saves copying out every token's vector: about 15% faster than the
    ONNX file. None when torch or the conversion is missing (the caller falls back to the ONNX export).
    """
    from qa.embed.onnx import export_dir

    folder = export_dir(model_path)
    if folder is None or not _installed("openvino"):
        return None
    openvino = _import_openvino()

    target_dir = folder / f"openvino-pooled-v{OPENVINO_EXPORT_VERSION}-{openvino.__version__.split('-')[0]}"
    target = target_dir / "model.xml"
    if target.is_file() and target.with_suffix(".bin").is_file():
        return target
    try:
        import torch

        AutoModel = _transformers_auto_model()  # noqa: N806 - a class
    except ImportError:
        return None

    class _Pooled(torch.nn.Module):
        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):  # noqa: ANN001 - traced
            hidden = self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=-1)

    partial = folder / f"openvino.{os.getpid()}.partial"
    try:
        model = AutoModel.from_pretrained(str(model_path), local_files_only=True, attn_implementation="sdpa").eval()
        example = tuple(torch.ones(2, 16, dtype=torch.long) for _ in _INPUTS)
        with torch.no_grad(), warnings.catch_warnings(), _openvino_telemetry_off():
            warnings.simplefilter("ignore")  # tracer warnings: the shapes stay dynamic
            converted = openvino.convert_model(_Pooled(model), example_input=example)
        for port, name in zip(converted.inputs, _INPUTS, strict=True):
            port.get_tensor().set_names({name})
        partial.mkdir(parents=True, exist_ok=True)
        openvino.save_model(converted, str(partial / "model.xml"), compress_to_fp16=False)
        try:
            os.replace(partial, target_dir)  # atomic: a reader sees the whole folder or none
        except OSError:  # another process made it meanwhile
            if not target.is_file():
                raise
    except Exception:  # noqa: BLE001 - a conversion error: the ONNX export stays
        return None
    finally:
        shutil.rmtree(partial, ignore_errors=True)  # also after Ctrl-C
    return target if target.is_file() else None


def _unavailable(backend: str) -> str | None:
    """Why `backend` cannot run here, or None when it can."""
    if backend in ("openvino-bf16", "openvino-fp16"):
        if not _installed("openvino"):
            return f"openvino is not installed ({_INSTALL['openvino']})"
        if backend == "openvino-bf16" and "BF16" not in _openvino_capabilities():
            return "the CPU has no native bf16 (OpenVINO does not report BF16)"
        if backend == "openvino-fp16" and not ("FP16" in _openvino_capabilities() and _cpu_flags() & _FP16_FLAGS):
            return "the CPU has no native fp16 (no avx512_fp16 or amx_fp16)"
        return None if _installed("torch") else f"converting the model needs torch ({_INSTALL['torch']})"
    if backend == "torch-bf16":
        if not _installed("torch"):
            return f"torch is not installed ({_INSTALL['torch']})"
        if not _cpu_flags() & _BF16_FLAGS:
            return "the CPU has no native bf16 (no avx512_bf16 or amx_bf16 in /proc/cpuinfo)"
        return None
    if backend == "onnxruntime-fp32":
        if not _installed("onnxruntime"):
            return f"onnxruntime is not installed ({_INSTALL['onnxruntime']})"
        return _exportable()
    if backend == "torch-fp32":
        return None if _installed("torch") else f"torch is not installed ({_INSTALL['torch']})"
    return f"unknown backend {backend!r}"


def _exportable() -> str | None:
    if _installed("torch") and _installed("onnx"):
        return None
    return f"exporting the model to ONNX needs torch and onnx ({_INSTALL['onnxruntime']})"


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _transformers_auto_model():
    """transformers' AutoModel, offline and quiet (no weight-loading bar or config chatter on stderr)."""
    for key, value in (("HF_HUB_OFFLINE", "1"), ("TRANSFORMERS_OFFLINE", "1"), ("TRANSFORMERS_VERBOSITY", "error")):
        os.environ.setdefault(key, value)
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    return AutoModel


_BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})
_FP16_FLAGS = frozenset({"avx512_fp16", "amx_fp16"})


def _cpu_flags() -> frozenset[str]:
    """The CPU's feature flags from /proc/cpuinfo (empty elsewhere than Linux)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


_ov_lock = threading.Lock()
_ov_core = None
_ov_compiled: dict[tuple[str, str, tuple[int, int] | None], object] = {}  # per process


@contextlib.contextmanager
def _openvino_telemetry_off() -> Iterator[None]:
    """`import openvino` and `convert_model` send usage events to Google Analytics unless opted out or in
    CI (openvino_telemetry checks CI=true): a local, offline tool must not phone home, so look like CI."""
    saved = os.environ.get("CI")
    os.environ["CI"] = "true"
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("CI", None)
        else:
            os.environ["CI"] = saved


def _import_openvino():
    with _openvino_telemetry_off():
        import openvino
    return openvino


def _openvino_core():
    global _ov_core
    with _ov_lock:
        if _ov_core is None:
            _ov_core = _import_openvino().Core()
        return _ov_core


def _openvino_capabilities() -> tuple[str, ...]:
    try:
        return tuple(_openvino_core().get_property("CPU", "OPTIMIZATION_CAPABILITIES"))
    except Exception:  # noqa: BLE001 - a broken install, no CPU plugin: not available
        return ()


def _compiled_openvino(model_file: Path, precision: str, shape: tuple[int, int] | None = None):
    """The model compiled for this CPU, once per process (a dynamic model ~1 s, a fixed shape ~0.2 s).

    THROUGHPUT: one stream per core, each running its own batch; inference precision bf16 or f16.
    A fixed `shape` (batch, tokens) runs about 8% faster than the dynamic model at that shape.
    """
    core = _openvino_core()
    key = (str(model_file), precision, shape)
    with _ov_lock:
        if key not in _ov_compiled:
            model = core.read_model(str(model_file))
            if shape is not None:
                model.reshape({name: list(shape) for name in _INPUTS})
            config = {"INFERENCE_PRECISION_HINT": precision, "PERFORMANCE_HINT": "THROUGHPUT"}
            _ov_compiled[key] = core.compile_model(model, "CPU", config)
        return _ov_compiled[key]


class _BulkEmbedder:
    """Tokenize with `tokenizers`, batch by similar length, mean-pool and normalise; subclasses run the model."""

    backend = ""
    tokens_per_batch = TOKENS_PER_BATCH

    def __init__(self, model_path: Path, name: str, dim: int) -> None:
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # as the reference: no thread pool, no fork warning
        from tokenizers import Tokenizer

        self.name = name
        self.path = model_path
        self._dim = dim
        self._tokenizer = Tokenizer.from_file(str(model_path / "tokenizer.json"))
        # the bundled tokenizer.json truncates and pads at 128; sentence-transformers uses max_seq_length
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(_max_seq_length(model_path))
        self._lock = threading.Lock()  # one embed at a time: the tokenizer and the runtimes are not shared

    @property
    def dim(self) -> int:
        return self._dim

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, backend={self.backend!r})"

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        out = np.empty((len(texts), self._dim), dtype=np.float32)
        if not len(texts):
            return out
        with self._lock:
            self._run(self._batches(texts), out, len(texts), progress)
        return out

    def _batches(self, texts: Sequence[str]) -> Iterator[tuple[np.ndarray, dict[str, np.ndarray]]]:
        """(rows, model inputs) per batch, longest texts first, each batch about TOKENS_PER_BATCH tokens."""
        encodings = self._tokenizer.encode_batch([embedding_text(t) for t in texts])
        lengths = np.array([len(e.ids) for e in encodings])
        order = np.argsort(-lengths, kind="stable")
        begin = 0
        while begin < len(order):
            width = self._width(max(int(lengths[order[begin]]), 1))
            size = max(1, min(MAX_BATCH, self.tokens_per_batch // width))
            rows = order[begin : begin + size]
            arrays = {name: np.zeros((len(rows), width), dtype=np.int64) for name in _INPUTS}
            for row, index in enumerate(rows):
                encoding = encodings[index]
                n = len(encoding.ids)
                arrays["input_ids"][row, :n] = encoding.ids
                arrays["attention_mask"][row, :n] = encoding.attention_mask
                arrays["token_type_ids"][row, :n] = encoding.type_ids
            yield rows, arrays
            begin += size

    def _width(self, longest: int) -> int:
        """The padded width of a batch whose longest text has `longest` tokens."""
        return longest

    def _run(self, batches, out: np.ndarray, total: int, progress: Progress | None) -> None:
        done = 0
        for rows, arrays in batches:
            out[rows] = _pool(self._infer(arrays), arrays["attention_mask"])
            done += len(rows)
            if progress:
                progress(done, total)

    def _infer(self, arrays: dict[str, np.ndarray]) -> np.ndarray:
        raise NotImplementedError


def _pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean over the real tokens, in float32, then L2 norm (what sentence-transformers' pooling does)."""
    weights = mask[..., None].astype(np.float32)
    pooled = (hidden.astype(np.float32, copy=False) * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
    return _normalise(pooled)


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = vectors.astype(np.float32, copy=False)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


class OpenVinoEmbedder(_BulkEmbedder):
    """The exported model run by OpenVINO in bf16 (AMX / AVX-512 BF16) or f16, several batches in flight.

    Batches of texts truncated at (or padded up to) max_seq_length, the bulk of 200-word passages, run on
    a model compiled for exactly that shape; the shorter ones on the dynamic model.
    """

    static_from = 0.9  # pad a batch to max_seq_length when its longest text has this share of it

    def __init__(self, model_file: Path, model_path: Path, name: str, dim: int, precision: str = "bf16") -> None:
        super().__init__(model_path, name, dim)
        self.backend = "openvino-bf16" if precision == "bf16" else "openvino-fp16"
        self._model_file = model_file
        self._precision = precision
        self._compiled = _compiled_openvino(model_file, precision)
        self._pooled = self._compiled.output(0).get_partial_shape().rank.get_length() == 2
        self._max_length = _max_seq_length(model_path)

    def _full_shape(self) -> tuple[int, int]:
        return max(1, min(MAX_BATCH, self.tokens_per_batch // self._max_length)), self._max_length

    def _width(self, longest: int) -> int:
        # the fixed-shape model is ~12% faster at max_seq_length: padding up to it pays from ~88% of it
        return self._max_length if longest >= self.static_from * self._max_length else longest

    def _run(self, batches, out: np.ndarray, total: int, progress: Progress | None) -> None:
        openvino = _import_openvino()
        finished = [0]
        errors: list[BaseException] = []

        def collect(request, userdata) -> None:  # noqa: ANN001 - OpenVINO's callback signature
            rows, mask = userdata
            try:
                data = request.get_output_tensor(0).data
                out[rows] = _normalise(data) if self._pooled else _pool(data, mask)
                finished[0] += len(rows)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
                errors.append(exc)

        def queue_for(compiled):
            requests = max(2, int(compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS")))
            queue = openvino.AsyncInferQueue(compiled, requests)
            queue.set_callback(collect)
            return queue

        full = self._full_shape()
        queue = static = None
        try:
            for rows, arrays in batches:  # longest first: the full-length batches, then the dynamic ones
                if arrays["input_ids"].shape == full and static is None and queue is None:
                    static = queue = queue_for(_compiled_openvino(self._model_file, self._precision, full))
                elif arrays["input_ids"].shape != full and (queue is None or queue is static):
                    if queue is not None:
                        queue.wait_all()
                    queue = queue_for(self._compiled)
                queue.start_async(arrays, (rows, arrays["attention_mask"]))
                if errors:
                    break
                if progress:
                    progress(finished[0], total)
        finally:
            if queue is not None:
                queue.wait_all()
        if errors:
            raise errors[0]
        if progress:
            progress(total, total)


class TorchEmbedder(_BulkEmbedder):
    """The transformer in torch, in bf16 (the weights themselves, no autocast) or fp32."""

    tokens_per_batch = 32 * 256

    def __init__(self, model_path: Path, name: str, dim: int, bf16: bool = True) -> None:
        super().__init__(model_path, name, dim)
        import torch

        self.backend = "torch-bf16" if bf16 else "torch-fp32"
        self._torch = torch
        model = _transformers_auto_model().from_pretrained(str(model_path), local_files_only=True).eval()
        self._model = model.to(torch.bfloat16) if bf16 else model

    def _infer(self, arrays: dict[str, np.ndarray]) -> np.ndarray:
        torch = self._torch
        with torch.inference_mode():
            hidden = self._model(**{name: torch.from_numpy(arrays[name]) for name in _INPUTS}).last_hidden_state
            return hidden.float().numpy()


class OnnxRuntimeEmbedder(_BulkEmbedder):
    """The ONNX export run by onnxruntime in fp32 (no torch once exported)."""

    backend = "onnxruntime-fp32"
    tokens_per_batch = 32 * 256

    def __init__(self, onnx_file: Path, model_path: Path, name: str, dim: int) -> None:
        super().__init__(model_path, name, dim)
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        self._session = onnxruntime.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])

    def _infer(self, arrays: dict[str, np.ndarray]) -> np.ndarray:
        return self._session.run(None, arrays)[0]
