"""A cold one-shot question against the floor, side by side in one run. Run by hand.

python bench/cold_start.py [--runs 5] [--docs seeds] [--question "When did the withdrawal finish?"]

The floor: a script that only imports onnxruntime, tokenizers and numpy, loads the exported ONNX model
(the one `ask.py` uses for questions) and encodes one question: no index, no search, no output.
The answer: `python ask.py QUESTION --docs DOCS --index DIR` on an index built beforehand (untimed), a
process of its own each time, as a user runs it. Both are timed as whole processes (start to exit), the
runs alternate, and the medians are compared. Each answer run also reports whether torch was imported.
Python's compiled modules are kept, as on a user's machine (PYTHONDONTWRITEBYTECODE is unset for the runs).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

FLOOR = """
import sys
import numpy as np
import onnxruntime
from tokenizers import Tokenizer
onnx_file, model_path, question = sys.argv[1:4]
options = onnxruntime.SessionOptions()
options.intra_op_num_threads = 1
session = onnxruntime.InferenceSession(onnx_file, options, providers=["CPUExecutionProvider"])
tokenizer = Tokenizer.from_file(model_path + "/tokenizer.json")
encoding = tokenizer.encode(question)
ids = np.array([encoding.ids], dtype=np.int64)
mask = np.array([encoding.attention_mask], dtype=np.int64)
inputs = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
hidden = session.run(None, {i.name: inputs[i.name] for i in session.get_inputs()})[0]
vector = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
vector /= np.linalg.norm(vector, axis=1, keepdims=True)
"""

# runs ask.py's main as `python ask.py ...` would, then says whether torch was imported (on stderr)
ANSWER = """
import runpy, sys
sys.argv = [sys.argv[1], *sys.argv[2:]]
try:
    runpy.run_path(sys.argv[0], run_name="__main__")
finally:
    print("TORCH_IMPORTED=" + str("torch" in sys.modules), file=sys.stderr)
"""


def timed(command: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    began = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - began
    if done.returncode != 0:
        sys.exit(f"failed ({done.returncode}): {' '.join(command)}\n{done.stderr}")
    return elapsed, done


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--docs", default=str(ROOT / "seeds"))
    parser.add_argument("--question", default="When did the withdrawal finish?")
    args = parser.parse_args()
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    # as on a user's machine, Python keeps the compiled modules (the untimed first run writes them); this
    # workplace sets PYTHONDONTWRITEBYTECODE, which would compile the whole package on every timed run
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    sys.path.insert(0, str(ROOT))
    from qa.embed.onnx import export_dir
    from qa.embed.reference import load_embedder

    model_path = load_embedder().path  # type: ignore[attr-defined]
    folder = export_dir(model_path)
    with tempfile.TemporaryDirectory() as tmp:
        index = Path(tmp) / "index"
        ask = [sys.executable, str(ROOT / "ask.py"), args.question, "--docs", args.docs, "--index", str(index)]
        timed(ask, env)  # the build (and the ONNX export, the first time), untimed
        onnx_file = folder / "model.onnx" if folder else None
        if onnx_file is None or not onnx_file.is_file():
            sys.exit("no ONNX export of the model: run ask.py once")
        floor_cmd = [sys.executable, "-c", FLOOR, str(onnx_file), str(model_path), args.question]
        answer_cmd = [sys.executable, "-c", ANSWER, *ask[1:]]
        floors, answers, torch_seen = [], [], []
        for _ in range(args.runs):
            floors.append(timed(floor_cmd, env)[0])
            seconds, done = timed(answer_cmd, env)
            answers.append(seconds)
            torch_seen.append("TORCH_IMPORTED=True" in done.stderr)
    floor, answer = statistics.median(floors), statistics.median(answers)
    print(f"CPU: {_cpu()}; {args.runs} runs each, alternating")
    print(f"floor (onnxruntime + tokenizers + numpy, one question): median {floor:.3f} s  {_runs(floors)}")
    print(f"ask.py one-shot question on a built index:              median {answer:.3f} s  {_runs(answers)}")
    print(f"ratio: {answer / floor:.2f}x the floor; torch imported in {sum(torch_seen)} of {len(torch_seen)} runs")
    print(json.dumps({"floor_s": floor, "answer_s": answer, "ratio": answer / floor, "torch": any(torch_seen)}))


def _runs(values: list[float]) -> str:
    return "(" + ", ".join(f"{v:.2f}" for v in values) + ")"


def _cpu() -> str:
    from qa.embed.calibrate import cpu_name

    return f"{cpu_name()} ({os.cpu_count()} vCPUs)"


if __name__ == "__main__":
    main()
