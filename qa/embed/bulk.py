"""Fast bulk embedding for index builds: which runtime encodes the reference model's vectors here.

`bulk_embedder(reference, "auto")` picks the fastest accurate backend measured on this CPU, once
(qa/embed/calibrate.py: every available backend embeds a small sample; the choice is cached per CPU, model
and runtime versions). Every runtime (qa/embed/runtimes/) tokenizes with `tokenizers` (truncation at the
model's max_seq_length), sorts the texts by token length so a batch carries little padding, mean-pools
and L2-normalises: the vectors stay within cosine 0.999 of the reference (tests/embed/test_backends.py) and
keep the reference's `name`, so an index mixes them freely. OpenVINO runs the model converted once from
torch to its own IR, cached beside the ONNX export. Nothing here imports torch or OpenVINO until a
backend is chosen.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from qa.embed.calibrate import calibrated_backend, calibration_key, cpu_flags, read_choice
from qa.embed.onnx_export import export, export_dir
from qa.embed.reference import SentenceTransformerEmbedder
from qa.embed.runtimes.onnxruntime_embedder import OnnxRuntimeEmbedder
from qa.embed.runtimes.openvino_core import openvino_capabilities
from qa.embed.runtimes.openvino_embedder import OpenVinoEmbedder
from qa.embed.runtimes.openvino_model import openvino_export, openvino_export_ready
from qa.embed.runtimes.torch_embedder import TorchEmbedder
from qa.errors import BackendError
from qa.inputs import AUTO_BACKEND, BACKENDS
from qa.records import Embedder

__all__ = ["auto_backend", "available_backends", "bulk_embedder", "needs_preparation"]

_INSTALL = {
    "openvino": "pip install -c constraints.txt openvino",
    "torch": "pip install -c constraints.txt torch",
    "onnxruntime": "pip install -c constraints.txt onnxruntime onnx",
}
_BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})
_FP16_FLAGS = frozenset({"avx512_fp16", "amx_fp16"})


def available_backends() -> tuple[str, ...]:
    """The backends that can be built here, fastest first (cheap: may import openvino, never torch)."""
    return tuple(name for name in BACKENDS if _unavailable(name) is None)


def bulk_embedder(reference: Embedder, backend: str = AUTO_BACKEND) -> Embedder:
    """The fastest accurate encoder for `reference`'s model; anything but a sentence-transformers model unchanged.

    `backend` is "auto" or one of BACKENDS; a forced backend that cannot run here raises BackendError.
    The result's `backend` names what encodes ("hash"/"reference" for an embedder returned as it is).
    """
    if backend != AUTO_BACKEND and backend not in BACKENDS:
        raise BackendError(
            f"unknown embedding backend {backend!r} (choose from {', '.join((AUTO_BACKEND, *BACKENDS))})"
        )
    if not isinstance(reference, SentenceTransformerEmbedder):
        return reference
    if backend == AUTO_BACKEND:
        backend = measured_backend(reference)
    else:
        reason = _unavailable(backend)
        if reason:
            raise BackendError(f"embedding backend {backend} is not available here: {reason}")
    return _build(backend, reference)


def measured_backend(reference: SentenceTransformerEmbedder) -> str:
    """What "auto" uses: the fastest accurate backend measured on this CPU (qa/embed/calibrate.py), once."""
    candidates = auto_candidates(reference.path)
    return calibrated_backend(reference, candidates, lambda name: _build(name, reference), export_dir(reference.path))


def auto_candidates(model_path: Path) -> list[str]:
    """The backends "auto" measures: every one available here, in the static order (fastest first elsewhere)."""
    return list(available_backends()) or [auto_backend(model_path)]


def needs_preparation(reference: Embedder, backend: str = AUTO_BACKEND) -> bool:
    """Whether `bulk_embedder(reference, backend)` first converts the model for this CPU (once, ~10-60 s)."""
    if not isinstance(reference, SentenceTransformerEmbedder):
        return False
    if backend == AUTO_BACKEND:
        candidates = auto_candidates(reference.path)
        known = read_choice(export_dir(reference.path), calibration_key(candidates)) if len(candidates) > 1 else None
        if len(candidates) > 1 and known is None:
            return True  # the backends are measured first
        backend = known or candidates[0]
    if backend.startswith("openvino-"):
        return not openvino_export_ready(reference.path, pooled=False)
    if backend == "onnxruntime-fp32":
        return not _has_onnx_export(reference.path)
    return False


def auto_backend(model_path: Path) -> str:
    """The static order's pick here (by CPU flags and what is installed): what "auto" chose before measuring."""
    if _unavailable("openvino-bf16") is None:
        return "openvino-bf16"
    if _unavailable("torch-bf16") is None:
        return "torch-bf16"
    if _unavailable("onnxruntime-fp32") is None and _has_onnx_export(model_path):
        return "onnxruntime-fp32"
    return "torch-fp32"


def _has_onnx_export(model_path: Path) -> bool:
    """Whether the model's ONNX export exists already (auto uses onnxruntime only then)."""
    folder = export_dir(model_path)
    return folder is not None and (folder / "model.onnx").is_file()


def _build(backend: str, reference: SentenceTransformerEmbedder) -> Embedder:
    if backend in ("torch-bf16", "torch-fp32"):
        return TorchEmbedder(reference.path, reference.name, reference.dim, bf16=backend == "torch-bf16")
    if backend.startswith("openvino-"):
        # token vectors out: a build pools each sentence from them (late chunking); loads torch the first time
        model_file = openvino_export(reference.path, pooled=False) or export(reference.path)
        if model_file is None:
            raise BackendError(f"embedding backend {backend} needs an export of the model, which failed")
        precision = {"openvino-bf16": "bf16", "openvino-fp16": "f16", "openvino-fp32": "f32"}[backend]
        return OpenVinoEmbedder(model_file, reference.path, reference.name, reference.dim, precision)
    onnx_file = export(reference.path)
    if onnx_file is None:
        raise BackendError(f"embedding backend {backend} needs an ONNX export of the model, which failed")
    return OnnxRuntimeEmbedder(onnx_file, reference.path, reference.name, reference.dim)


def _unavailable(backend: str) -> str | None:
    """Why `backend` cannot run here, or None when it can."""
    if backend in ("openvino-bf16", "openvino-fp16", "openvino-fp32"):
        return _openvino_unavailable(backend)
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


def _openvino_unavailable(backend: str) -> str | None:
    if not _installed("openvino"):
        return f"openvino is not installed ({_INSTALL['openvino']})"
    if backend == "openvino-bf16" and "BF16" not in openvino_capabilities():
        return "the CPU has no native bf16 (OpenVINO does not report BF16)"
    if backend == "openvino-fp16" and not ("FP16" in openvino_capabilities() and _cpu_flags() & _FP16_FLAGS):
        return "the CPU has no native fp16 (no avx512_fp16 or amx_fp16)"
    return None if _installed("torch") else f"converting the model needs torch ({_INSTALL['torch']})"


def _exportable() -> str | None:
    if _installed("torch") and _installed("onnx"):
        return None
    return f"exporting the model to ONNX needs torch and onnx ({_INSTALL['onnxruntime']})"


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _cpu_flags() -> frozenset[str]:
    return cpu_flags()
