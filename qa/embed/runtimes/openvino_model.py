"""The model converted from torch to OpenVINO IR, with mean pooling and L2 norm inside, made once and cached."""

from __future__ import annotations

import os
import shutil
import warnings
from pathlib import Path
from typing import Any

from qa.embed.onnx_export import export_dir, transformer_module
from qa.embed.pooling import MODEL_INPUTS
from qa.embed.runtimes.openvino_core import import_openvino, telemetry_off
from qa.embed.runtimes.torch_embedder import transformers_auto_model

OPENVINO_EXPORT_VERSION = 1


def openvino_export(model_path: Path, *, pooled: bool = True) -> Path | None:
    """The converted model's model.xml, converting it the first time (needs torch); None when that fails.

    `pooled`: unit sentence vectors come out of the model; otherwise its token vectors (for late chunking).

    Converting from torch (not from the ONNX export) lets OpenVINO fuse each attention block into one
    kernel, and pooling in the graph saves copying out every token's vector: about 15% faster than the
    ONNX file. None when torch or the conversion is missing (the caller falls back to the ONNX export).
    """
    target = _target(model_path, pooled)
    if target is None:
        return None
    if target.is_file() and target.with_suffix(".bin").is_file():
        return target
    openvino, target_dir, folder = import_openvino(), target.parent, target.parent.parent
    partial = folder / f"openvino.{os.getpid()}.partial"
    try:
        _convert(openvino, model_path, partial, pooled)
        try:
            os.replace(partial, target_dir)  # atomic: a reader sees the whole folder or none
        except OSError:  # another process made it meanwhile
            if not target.is_file():
                raise
    except Exception:  # noqa: BLE001 - no torch, a conversion error: the ONNX export stays
        return None
    finally:
        shutil.rmtree(partial, ignore_errors=True)  # also after Ctrl-C
    return target if target.is_file() else None


def openvino_export_ready(model_path: Path, *, pooled: bool = True) -> bool:
    """Whether the converted model exists already (no conversion to wait for)."""
    target = _target(model_path, pooled)
    return target is not None and target.is_file() and target.with_suffix(".bin").is_file()


def _target(model_path: Path, pooled: bool) -> Path | None:
    """Where the converted model's model.xml lives (None: no weights to convert, or no OpenVINO)."""
    folder = export_dir(model_path)
    if folder is None:
        return None
    try:
        openvino = import_openvino()
    except ImportError:
        return None
    kind = "pooled" if pooled else "tokens"
    return folder / f"openvino-{kind}-v{OPENVINO_EXPORT_VERSION}-{openvino.__version__.split('-')[0]}" / "model.xml"


def _convert(openvino: Any, model_path: Path, folder: Path, pooled: bool) -> None:
    """Trace the model in torch, convert it, and save it as model.xml and model.bin in `folder`."""
    import torch

    auto_model = transformers_auto_model()
    model = auto_model.from_pretrained(str(model_path), local_files_only=True, attn_implementation="sdpa").eval()
    example = tuple(torch.ones(2, 16, dtype=torch.long) for _ in MODEL_INPUTS)
    with torch.no_grad(), warnings.catch_warnings(), telemetry_off():
        warnings.simplefilter("ignore")  # tracer warnings: the shapes stay dynamic
        converted = openvino.convert_model(transformer_module(model, pooled=pooled), example_input=example)
    for port, name in zip(converted.inputs, MODEL_INPUTS, strict=True):
        port.get_tensor().set_names({name})
    folder.mkdir(parents=True, exist_ok=True)
    openvino.save_model(converted, str(folder / "model.xml"), compress_to_fp16=False)
