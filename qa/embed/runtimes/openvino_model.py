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


def openvino_export(model_path: Path) -> Path | None:
    """The converted model's model.xml, converting it the first time (needs torch); None when that fails.

    Converting from torch (not from the ONNX export) lets OpenVINO fuse each attention block into one
    kernel, and pooling in the graph saves copying out every token's vector: about 15% faster than the
    ONNX file. None when torch or the conversion is missing (the caller falls back to the ONNX export).
    """
    folder = export_dir(model_path)
    if folder is None:
        return None
    try:
        openvino = import_openvino()
    except ImportError:
        return None
    target_dir = folder / f"openvino-pooled-v{OPENVINO_EXPORT_VERSION}-{openvino.__version__.split('-')[0]}"
    target = target_dir / "model.xml"
    if target.is_file() and target.with_suffix(".bin").is_file():
        return target
    partial = folder / f"openvino.{os.getpid()}.partial"
    try:
        _convert(openvino, model_path, partial)
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


def _convert(openvino: Any, model_path: Path, folder: Path) -> None:
    """Trace the pooled model in torch, convert it, and save it as model.xml and model.bin in `folder`."""
    import torch

    auto_model = transformers_auto_model()
    model = auto_model.from_pretrained(str(model_path), local_files_only=True, attn_implementation="sdpa").eval()
    example = tuple(torch.ones(2, 16, dtype=torch.long) for _ in MODEL_INPUTS)
    with torch.no_grad(), warnings.catch_warnings(), telemetry_off():
        warnings.simplefilter("ignore")  # tracer warnings: the shapes stay dynamic
        converted = openvino.convert_model(transformer_module(model, pooled=True), example_input=example)
    for port, name in zip(converted.inputs, MODEL_INPUTS, strict=True):
        port.get_tensor().set_names({name})
    folder.mkdir(parents=True, exist_ok=True)
    openvino.save_model(converted, str(folder / "model.xml"), compress_to_fp16=False)
