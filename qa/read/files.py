"""Where the shipped reader lives and what its ONNX file takes and gives (no torch: question time reads this)."""

from __future__ import annotations

from pathlib import Path

from qa.storage.checksums import sha256_file as sha256_of

WEIGHTS_DIR = Path(__file__).parent / "weights"
CARD = WEIGHTS_DIR / "reader.json"
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
OUTPUTS = ("start_logits", "end_logits", "sentence_logits", "answer_logit")

__all__ = ["CARD", "INPUTS", "OUTPUTS", "WEIGHTS_DIR", "sha256_of"]
