"""Export trained reader weights to the shipped ONNX file (int8), and write its hash into the card.

    python -m qa.read.export build/reader/reader.pt [--out qa/read/weights/reader.onnx] [--fp32]

Needs torch, transformers, onnx and onnxruntime (a development step). The int8 file is what ships:
dynamic quantization of the matrix weights (onnxruntime.quantization), about 23 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import warnings
from pathlib import Path

from qa.read.files import CARD, INPUTS, OUTPUTS, WEIGHTS_DIR, sha256_of


def export(weights: Path, target: Path, *, model_dir: str | None = None, quantize: bool = True) -> str:
    """Write the ONNX reader to `target` (atomically); returns its sha256."""
    import torch

    from qa.read.network import load_network
    from qa.read.train import _bundled_model

    network = load_network(model_dir or _bundled_model())
    network.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
    network.eval()
    example = tuple(torch.ones(1, 16, dtype=torch.long) for _ in INPUTS)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / "reader-fp32.onnx"
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                network,
                example,
                str(plain),
                input_names=list(INPUTS),
                output_names=list(OUTPUTS),
                dynamic_axes={
                    **{name: {0: "batch", 1: "tokens"} for name in (*INPUTS, *OUTPUTS[:3])},
                    OUTPUTS[3]: {0: "batch"},
                },
                opset_version=17,
                dynamo=False,
            )
        partial = Path(tmp) / "reader.onnx"
        if quantize:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            quantize_dynamic(str(plain), str(partial), weight_type=QuantType.QInt8)
        else:
            partial = plain
        staged = target.with_name(target.name + f".{os.getpid()}.partial")
        staged.write_bytes(partial.read_bytes())
        os.replace(staged, target)
    return sha256_of(target)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m qa.read.export", description=__doc__.split("\n")[0])
    p.add_argument("weights", type=Path)
    p.add_argument("--out", type=Path, default=WEIGHTS_DIR / "reader.onnx")
    p.add_argument("--fp32", action="store_true", help="skip int8 quantization")
    p.add_argument("--no-card", action="store_true", help="do not record the hash in qa/read/weights/reader.json")
    args = p.parse_args(argv)
    digest = export(args.weights, args.out, quantize=not args.fp32)
    print(f"{args.out}: {args.out.stat().st_size / 1e6:.1f} MB, sha256 {digest}")
    if not args.no_card:
        card = json.loads(CARD.read_text()) if CARD.exists() else {}
        card.update({"file": args.out.name, "sha256": digest, "bytes": args.out.stat().st_size})
        CARD.write_text(json.dumps(card, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
