"""The sentence-transformers model exported once to ONNX, into the user cache, keyed by its weights' SHA-256."""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from pathlib import Path
from typing import Any

EXPORT_VERSION = 1
_WEIGHTS = ("model.safetensors", "pytorch_model.bin")


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "newsqa" / "onnx"


def export_dir(model_path: Path) -> Path | None:
    """Where the export of this model lives: a folder named by the SHA-256 of its weights (None: no weights)."""
    files = [
        model_path / name for name in (*_WEIGHTS, "tokenizer.json", "config.json") if (model_path / name).is_file()
    ]
    if not any(f.name in _WEIGHTS for f in files):
        return None
    return cache_root() / f"{_digest(files)[:24]}-v{EXPORT_VERSION}"


def _digest(files: list[Path]) -> str:
    """The SHA-256 of the files, remembered per (path, size, mtime) in the cache so a cold start only stats."""
    # hashing 90 MB costs ~0.1 s
    stamp = "|".join(f"{f}:{f.stat().st_size}:{f.stat().st_mtime_ns}" for f in files)
    memo = cache_root() / "digests.json"
    try:
        digests = json.loads(memo.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        digests = {}
    digest = digests.get(stamp) if isinstance(digests, dict) else None
    if isinstance(digest, str):
        return digest
    sha = hashlib.sha256()
    for f in files:
        with f.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                sha.update(block)
    digest = sha.hexdigest()
    try:
        memo.parent.mkdir(parents=True, exist_ok=True)
        digests = digests if isinstance(digests, dict) else {}
        digests[stamp] = digest
        tmp = memo.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(digests), encoding="utf-8")
        os.replace(tmp, memo)
    except OSError:
        pass
    return digest


def export(model_path: Path) -> Path | None:
    """Export the model to ONNX (needs torch, transformers and onnx); returns the file, None if impossible."""
    target_dir = export_dir(model_path)
    if target_dir is None:
        return None
    target = target_dir / "model.onnx"
    if target.is_file():
        return target
    from qa.embed.pooling import MODEL_INPUTS

    try:
        import torch
        from transformers import AutoModel
    except ImportError:
        return None
    model = AutoModel.from_pretrained(str(model_path), local_files_only=True).eval()
    example = tuple(torch.ones(1, 8, dtype=torch.long) for _ in MODEL_INPUTS)
    target_dir.mkdir(parents=True, exist_ok=True)
    partial = target_dir / f"model.{os.getpid()}.partial"
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer warnings about shapes: the axes are declared dynamic
            torch.onnx.export(
                transformer_module(model, pooled=False),
                example,
                str(partial),
                input_names=list(MODEL_INPUTS),
                output_names=["last_hidden_state"],
                dynamic_axes={name: {0: "batch", 1: "tokens"} for name in (*MODEL_INPUTS, "last_hidden_state")},
                opset_version=17,
                dynamo=False,
            )
        os.replace(partial, target)  # atomic: a reader sees the whole file or none
    except Exception:  # noqa: BLE001 - no onnx package, an exporter error: the torch path stays
        return None
    finally:
        partial.unlink(missing_ok=True)  # also after Ctrl-C
    return target


def transformer_module(model: Any, *, pooled: bool) -> Any:
    """The transformer as a torch module of the three model inputs, as exported: its token vectors, or with
    `pooled` unit sentence vectors (mean pooling over the real tokens and L2 norm inside the graph)."""
    import torch

    class _Transformer(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(
            self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
        ) -> torch.Tensor:
            hidden: torch.Tensor = self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            if not pooled:
                return hidden
            weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
            sentence = (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)
            return torch.nn.functional.normalize(sentence, dim=-1)

    return _Transformer()
