"""`--backend auto` by measurement: time the backends that can run here once per CPU and keep the fastest accurate.

The first build on a new CPU (or with a new model or new runtimes) embeds a fixed sample of news-like
passages with each available backend, as a build does (passage vectors and pooled sentence vectors), and
compares the passage vectors with the reference model's (sentence-transformers, fp32). A backend passes
when every cosine is at least GATE_COSINE; the fastest that passes is chosen, never one slower than the
torch fp32 runtime (the reference's own arithmetic). The choice and the timings are kept in
`calibration.json` beside the model's exports, under a key naming the CPU model, its flags, the model and
the runtimes' versions, so later builds read it instead of measuring (a few seconds, once).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import platform
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from qa.records import Embedder

CALIBRATION_VERSION = 1
CALIBRATION_FILE = "calibration.json"
GATE_COSINE = 0.999  # every sample passage within this cosine of the reference model's vector
BASELINE = "torch-fp32"  # never choose a backend slower than this one (the reference's arithmetic)

_SENTENCES = (
    "The central bank raised interest rates by a quarter of a percentage point on Thursday.",
    "Officials said the decision was taken to curb inflation, which reached its highest level in a decade.",
    "Shares in the company fell sharply after it warned that profits would be lower than expected.",
    "The minister told parliament that the new law would come into force next year.",
    "Thousands of people gathered in the capital to protest against the rise in fuel prices.",
    "Police said several people had been detained and an investigation had been opened.",
    "The team's coach praised his players after a hard-fought victory in the final minutes.",
    "Critics said the film, which cost about $40m to make, was the director's most ambitious yet.",
    "The firm plans to cut 1,200 jobs as part of a restructuring programme announced in January.",
    "Analysts expect demand for mobile phones to keep growing in Asia and Latin America.",
)
SAMPLE_PASSAGES = 96


def sample() -> tuple[list[str], list[list[tuple[int, int]]]]:
    """The calibration passages (about 100 words each, news-like) and their sentence spans."""
    texts, spans = [], []
    for number in range(SAMPLE_PASSAGES):
        chosen = [_SENTENCES[(number + step * 3) % len(_SENTENCES)] for step in range(5)]
        text = " ".join(chosen)
        found, start = [], 0
        for sentence in chosen:
            found.append((start, start + len(sentence)))
            start += len(sentence) + 1
        texts.append(text)
        spans.append(found)
    return texts, spans


def calibrated_backend(
    reference: Embedder,
    candidates: Sequence[str],
    build: Callable[[str], Embedder],
    folder: Path | None,
) -> str:
    """The fastest accurate backend among `candidates` (fastest-first by the static order), measured once.

    `build(name)` makes a runtime; `folder` keeps the choice (None: measured every time). With one
    candidate, or when the reference cannot encode here, the first candidate is returned unmeasured.
    """
    if len(candidates) <= 1:
        return candidates[0]
    key = calibration_key(candidates)
    known = read_choice(folder, key)
    if known is not None and known in candidates:
        return known
    try:
        texts, spans = sample()
        expected = np.asarray(reference.embed(texts), dtype=np.float32)
    except Exception:  # noqa: BLE001 - no torch for the reference: keep the static order
        return candidates[0]
    timings = {name: _measure(build, name, texts, spans, expected) for name in candidates}
    choice = choose(timings)
    write_choice(folder, key, {"choice": choice, "cpu": cpu_name(), "timings": timings})
    return choice


def choose(timings: dict[str, dict[str, float]]) -> str:
    """The fastest backend whose cosine passes the gate and that is no slower than BASELINE (when measured)."""
    accurate = {name: t for name, t in timings.items() if t["cosine"] >= GATE_COSINE and t["seconds"] > 0}
    if not accurate:
        return BASELINE if BASELINE in timings else next(iter(timings))
    fastest = min(accurate, key=lambda name: accurate[name]["seconds"])
    baseline = accurate.get(BASELINE)
    if baseline is not None and accurate[fastest]["seconds"] > baseline["seconds"]:
        return BASELINE
    return fastest


def _measure(
    build: Callable[[str], Embedder], name: str, texts: list[str], spans: list[list[tuple[int, int]]], expected: Any
) -> dict[str, float]:
    """Seconds to embed the sample as a build does (after one warm-up batch), and the lowest cosine."""
    try:
        runtime: Any = build(name)
        embed = getattr(runtime, "embed_with_spans", None)
        if embed is None:
            return {"seconds": -1.0, "cosine": -1.0}
        embed(texts[:16], spans[:16])  # compiles, allocates: not what a long build pays per passage
        began = time.perf_counter()
        vectors, _ = embed(texts, spans)
        seconds = time.perf_counter() - began
    except Exception:  # noqa: BLE001 - a backend that fails here is not chosen
        return {"seconds": -1.0, "cosine": -1.0}
    cosine = float(np.min(np.sum(np.asarray(vectors, dtype=np.float32) * expected, axis=1)))
    return {"seconds": round(seconds, 4), "cosine": round(cosine, 6)}


def calibration_key(candidates: Sequence[str]) -> str:
    """What a measurement depends on: the CPU (model name and flags), the runtimes' versions, the candidates."""
    versions = {name: _version(name) for name in ("openvino", "onnxruntime", "torch", "numpy")}
    parts = [CALIBRATION_VERSION, cpu_name(), _flags_digest(), os.cpu_count(), versions, list(candidates)]
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:24]


def read_choice(folder: Path | None, key: str) -> str | None:
    if folder is None:
        return None
    try:
        data = json.loads((folder / CALIBRATION_FILE).read_text(encoding="utf-8"))
        entry = data.get(key) if isinstance(data, dict) else None
        return str(entry["choice"]) if isinstance(entry, dict) and "choice" in entry else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_choice(folder: Path | None, key: str, entry: dict[str, Any]) -> None:
    """Add `entry` under `key` to the calibration file, atomically; a cache that cannot be written is skipped."""
    if folder is None:
        return
    path = folder / CALIBRATION_FILE
    try:
        folder.mkdir(parents=True, exist_ok=True)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        data = data if isinstance(data, dict) else {}
        data[key] = entry
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(partial, path)
    except OSError:
        pass


def cpu_name() -> str:
    """The CPU's model name (/proc/cpuinfo), else what the platform says."""
    return _cpuinfo("model name") or platform.processor() or platform.machine() or "unknown"


def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags from /proc/cpuinfo (empty elsewhere than Linux)."""
    return frozenset(_cpuinfo("flags").split())


def _cpuinfo(field: str) -> str:
    """The first value of `field` in /proc/cpuinfo ("" when there is none)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith(field):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def _flags_digest() -> str:
    return hashlib.sha256(" ".join(sorted(cpu_flags())).encode()).hexdigest()[:16]


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None
