"""Torch-free query encoder: the sentence-transformers model exported once to ONNX, run by onnxruntime.

sentence-transformers stays the reference and builds the index. Whenever it has been loaded anyway (a
build), the model is exported to ONNX into the user cache, keyed by a SHA-256 of its weights and
tokenizer; later one-shot questions then encode with onnxruntime + tokenizers + numpy (mean pooling, L2
norm, truncation at the model's max_seq_length), without importing torch. The vectors match the
reference at cosine >= 0.999999 (tests/test_onnx_embed.py).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from qa.embed.reference import BATCH_SIZE, Progress, SentenceTransformerEmbedder, embedding_text

EXPORT_VERSION = 1
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
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
    # hashing 90 MB costs ~0.1 s: remember the digest per (path, size, mtime) so a cold start only stats
    stamp = "|".join(f"{f}:{f.stat().st_size}:{f.stat().st_mtime_ns}" for f in files)
    memo = cache_root() / "digests.json"
    try:
        digests = json.loads(memo.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        digests = {}
    digest = digests.get(stamp) if isinstance(digests, dict) else None
    if not isinstance(digest, str):
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
    return cache_root() / f"{digest[:24]}-v{EXPORT_VERSION}"


def export(model_path: Path) -> Path | None:
    """Export the model to ONNX (needs torch, transformers and onnx); returns the file, None if impossible."""
    target_dir = export_dir(model_path)
    if target_dir is None:
        return None
    target = target_dir / "model.onnx"
    if target.is_file():
        return target
    try:
        import torch
        from transformers import AutoModel
    except ImportError:
        return None

    class _LastHiddenState(torch.nn.Module):
        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):  # noqa: ANN001 - traced by torch
            return self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    model = AutoModel.from_pretrained(str(model_path), local_files_only=True).eval()
    example = tuple(torch.ones(1, 8, dtype=torch.long) for _ in _INPUTS)
    target_dir.mkdir(parents=True, exist_ok=True)
    partial = target_dir / f"model.{os.getpid()}.partial"
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer warnings about shapes: the axes are declared dynamic
            torch.onnx.export(
                _LastHiddenState(model),
                example,
                str(partial),
                input_names=list(_INPUTS),
                output_names=["last_hidden_state"],
                dynamic_axes={name: {0: "batch", 1: "tokens"} for name in (*_INPUTS, "last_hidden_state")},
                opset_version=17,
                dynamo=False,
            )
        os.replace(partial, target)  # atomic: a reader sees the whole file or none
    except Exception:  # noqa: BLE001 - no onnx package, an exporter error: the torch path stays
        return None
    finally:
        partial.unlink(missing_ok=True)  # also after Ctrl-C
    return target


class OnnxEmbedder:
    """The same vectors as SentenceTransformerEmbedder for the same model, from its ONNX export."""

    def __init__(self, onnx_file: Path, model_path: Path, name: str, dim: int) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        self.name = name
        self._dim = dim
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        # no busy-waiting between questions: spinning threads would steal the cores FAISS and BM25 search on
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.intra_op_num_threads = 1  # a question is a few tokens: one thread, no pool to wake (4.9 vs 8.6 ms)
        self._session = onnxruntime.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])
        self._tokenizer = Tokenizer.from_file(str(model_path / "tokenizer.json"))
        # the bundled tokenizer.json truncates and pads at 128; sentence-transformers uses max_seq_length
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(_max_seq_length(model_path))
        self._lock = threading.Lock()

    @property
    def dim(self) -> int:
        return self._dim

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        out = np.empty((len(texts), self._dim), dtype=np.float32)
        for begin in range(0, len(texts), BATCH_SIZE):
            batch = [embedding_text(t) for t in texts[begin : begin + BATCH_SIZE]]
            with self._lock:
                encodings = self._tokenizer.encode_batch(batch)
            width = max(len(e.ids) for e in encodings)
            arrays = {name: np.zeros((len(batch), width), dtype=np.int64) for name in _INPUTS}
            for row, encoding in enumerate(encodings):
                size = len(encoding.ids)
                arrays["input_ids"][row, :size] = encoding.ids
                arrays["attention_mask"][row, :size] = encoding.attention_mask
                arrays["token_type_ids"][row, :size] = encoding.type_ids
            hidden = self._session.run(None, arrays)[0]
            mask = arrays["attention_mask"][..., None].astype(np.float32)
            pooled = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            out[begin : begin + len(batch)] = pooled / np.maximum(norms, 1e-12)
            if progress:
                progress(begin + len(batch), len(texts))
        return out


def query_embedder(embedder: object) -> object:
    """The embedder to encode questions with: the ONNX export when it exists and onnxruntime is installed."""
    if not isinstance(embedder, SentenceTransformerEmbedder) or os.environ.get("QA_BACKEND") == "torch":
        return embedder
    try:
        folder = export_dir(embedder.path)
        if folder is None or not (folder / "model.onnx").is_file():
            return embedder
        return OnnxEmbedder(folder / "model.onnx", embedder.path, embedder.name, embedder.dim)
    except Exception:  # noqa: BLE001 - no onnxruntime, a damaged export: the reference path answers
        return embedder


def _max_seq_length(model_path: Path) -> int:
    try:
        return int(json.loads((model_path / "sentence_bert_config.json").read_text())["max_seq_length"])
    except (OSError, ValueError, KeyError):
        return 256
