"""OpenVINO imported without telemetry, with its CPU core, capabilities and compiled models kept per process."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from qa.embed.pooling import MODEL_INPUTS

_lock = threading.Lock()
_core: Any = None
_compiled: dict[tuple[str, str, tuple[int, int] | None], Any] = {}


@contextlib.contextmanager
def telemetry_off() -> Iterator[None]:
    """`import openvino` and `convert_model` send usage events to Google Analytics unless opted out or in
    CI (openvino_telemetry checks CI=true): a local, offline tool must not phone home, so look like CI."""
    saved = os.environ.get("CI")
    os.environ["CI"] = "true"
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("CI", None)
        else:
            os.environ["CI"] = saved


def import_openvino() -> Any:
    with telemetry_off():
        import openvino
    return openvino


def openvino_core() -> Any:
    global _core
    with _lock:
        if _core is None:
            _core = import_openvino().Core()
        return _core


def openvino_capabilities() -> tuple[str, ...]:
    """What OpenVINO's CPU plugin does natively here ("BF16", "FP16", ...); empty when it cannot run."""
    try:
        return tuple(openvino_core().get_property("CPU", "OPTIMIZATION_CAPABILITIES"))
    except Exception:  # noqa: BLE001 - a broken install, no CPU plugin: not available
        return ()


def compiled_openvino(model_file: Path, precision: str, shape: tuple[int, int] | None = None) -> Any:
    """The model compiled for this CPU, once per process (a dynamic model ~1 s, a fixed shape ~0.2 s).

    THROUGHPUT: one stream per core, each running its own batch; inference precision bf16 or f16.
    A fixed `shape` (batch, tokens) runs about 8% faster than the dynamic model at that shape.
    """
    core = openvino_core()
    key = (str(model_file), precision, shape)
    with _lock:
        if key not in _compiled:
            model = core.read_model(str(model_file))
            if shape is not None:
                model.reshape({name: list(shape) for name in MODEL_INPUTS})
            config = {"INFERENCE_PRECISION_HINT": precision, "PERFORMANCE_HINT": "THROUGHPUT"}
            _compiled[key] = core.compile_model(model, "CPU", config)
        return _compiled[key]
