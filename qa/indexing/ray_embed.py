"""Embedding passages with Ray Data (issue 17): the same bulk encoder as a single-process build, one per actor.

`embed_with_ray(texts, EncoderSpec.load())` returns the vectors a single-process build's bulk encoder
(`qa.embed.bulk.bulk_embedder`) would give, in the input order: each Ray actor builds that encoder once from
the `EncoderSpec` (a model folder or the hash test model, and a concrete backend), and `map_batches` sends it
batches of (row id, text); the rows come back in any order and are put in place by their ids.

A local Ray (the default) costs ~3-4 s to start and ~1-2 GB of memory with two actors, and brings no speed-up
on 2 cores (bench/ray_embed.py); it pays off on a cluster with more cores than this machine. Ray writes only
under a fresh temporary folder (its session: logs, sockets), which is removed after `ray.shutdown()`.
Nothing is printed on stdout; Ray's own warnings go to stderr.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from qa.embed.model_names import HASH_MODEL
from qa.embed.reference import HashEmbedder, SentenceTransformerEmbedder, load_embedder
from qa.errors import BackendError, MissingExtraError, QAError
from qa.inputs import AUTO_BACKEND
from qa.records import Embedder

__all__ = ["CONNECT_TIMEOUT_S", "EncoderSpec", "RayUnavailableError", "embed_with_ray"]

CONNECT_TIMEOUT_S = 10.0  # the longest wait for a cluster's address to answer before ray.init is tried
# Ray's session folder holds AF_UNIX sockets (<=107 bytes): `<temp>/session_<date>_<pid>/sockets/plasma_store`
# adds ~60 characters, so a longer temporary folder falls back to the system's (then /tmp)
_MAX_TEMP_DIR = 45
# for a Ray started here: no usage report (nothing leaves the machine anyway). Its token authentication stays
# Ray's default: the token in ~/.ray/auth_token (made on first use), as for any local Ray
_LOCAL_ENV = {"RAY_USAGE_STATS_ENABLED": "0"}


class RayUnavailableError(QAError):
    """The Ray cluster at the address given cannot be reached or joined (or a local Ray could not start)."""

    exit_code = 2


@dataclass(frozen=True)
class EncoderSpec:
    """How a worker builds the bulk encoder a single-process build would use, without pickling a model.

    `model`: "hash" (the hash test model) or a sentence-transformers model folder (absolute, present at the
    same path on every node); `name`: the model name an index records; `backend`: "auto" or one of
    qa.inputs.BACKENDS; `dim`: the hash model's dimension (None for a real model).
    """

    model: str
    name: str
    backend: str = AUTO_BACKEND
    dim: int | None = None

    @classmethod
    def load(cls, model: str | None = None, backend: str = AUTO_BACKEND) -> EncoderSpec:
        """The spec for --model / $QA_MODEL / the bundled model, as `load_embedder(model)` resolves it."""
        return cls.from_embedder(load_embedder(model), backend)

    @classmethod
    def from_embedder(cls, embedder: Embedder, backend: str = AUTO_BACKEND) -> EncoderSpec:
        """The spec of a loaded reference embedder (a sentence-transformers model or the hash model)."""
        if isinstance(embedder, SentenceTransformerEmbedder):
            return cls(str(embedder.path), embedder.name, backend)
        if isinstance(embedder, HashEmbedder) and embedder.name == HASH_MODEL:
            return cls(HASH_MODEL, HASH_MODEL, backend, embedder.dim)
        raise BackendError(
            f"embedding with Ray needs a sentence-transformers model folder or the hash model, not {embedder!r}"
        )

    def reference(self) -> Embedder:
        """The reference embedder (nothing loaded yet)."""
        if self.model == HASH_MODEL:
            return HashEmbedder(self.dim or HashEmbedder().dim)
        return SentenceTransformerEmbedder(Path(self.model), self.name)

    def build(self) -> Embedder:
        """The bulk encoder, as a single-process build makes it (qa.embed.bulk.bulk_embedder)."""
        from qa.embed.bulk import bulk_embedder

        return bulk_embedder(self.reference(), self.backend)

    def resolved(self) -> EncoderSpec:
        """This spec with "auto" replaced by the backend measured here, and the model converted for it if
        needed, once in this process: every worker then builds the same encoder without converting."""
        reference = self.reference()
        if not isinstance(reference, SentenceTransformerEmbedder):
            return self
        from qa.embed.bulk import bulk_embedder, measured_backend, needs_preparation

        backend = measured_backend(reference) if self.backend == AUTO_BACKEND else self.backend
        if needs_preparation(reference, backend):
            bulk_embedder(reference, backend)  # exports/converts into the user cache, then is dropped
        return replace(self, backend=backend)


class _EncodeBatches:
    """A Ray Data actor: builds the encoder once, then embeds each batch of {"id", "text"} rows."""

    def __init__(self, spec: EncoderSpec) -> None:
        self._encoder = spec.build()

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        texts = [str(text) for text in batch["text"]]
        vectors = np.asarray(self._encoder.embed(texts), dtype=np.float32)
        return {"id": np.asarray(batch["id"], dtype=np.int64), "vector": vectors}


def embed_with_ray(
    texts: Sequence[str],
    encoder: EncoderSpec,
    *,
    address: str | None = None,
    workers: int | None = None,
    batch_size: int = 64,
    scratch: Path | None = None,
    connect_timeout: float = CONNECT_TIMEOUT_S,
) -> np.ndarray:
    """The texts' float32 vectors (n, dim), in the input order, embedded by `workers` Ray actors.

    `address` None starts a local Ray with this machine's cores (its session folder under `scratch` when that
    path is short enough for Ray's sockets, else under the system's temporary folder) and shuts it down after.
    Otherwise it joins a running cluster: "HOST:PORT" of the head's GCS (`ray start --head`, port 6379 by
    default; the driver must reach every node) or "ray://HOST:PORT" for Ray Client (port 10001 by default);
    the cluster's nodes need this package and the model folder at the same path. An address that does not
    answer within `connect_timeout` seconds raises RayUnavailableError. `workers`: actors (default: one per
    CPU of the cluster); `batch_size`: texts per map_batches call. "auto" is resolved here, once. A Ray this
    process already initialized is used as it is (`address` ignored) and left running.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, not {batch_size}")
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}")
    ray = _import_ray()
    if not len(texts):
        return np.zeros((0, encoder.reference().dim), dtype=np.float32)
    spec = encoder.resolved()
    if address is not None:
        _check_reachable(address, connect_timeout)
    with _ray_session(ray, address, scratch, max(os.cpu_count() or 1, workers or 0)):
        return _embed(ray, list(texts), spec, workers, batch_size)


def _import_ray() -> Any:
    try:
        import ray
        import ray.data  # noqa: F401 - the [data] extra: pandas, pyarrow
    except ImportError:
        raise MissingExtraError("embedding with Ray", "ray", "ray") from None
    return ray


def _embed(ray: Any, texts: list[str], spec: EncoderSpec, workers: int | None, batch_size: int) -> np.ndarray:
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    if workers is None:
        workers = max(1, int(ray.cluster_resources().get("CPU", 1)))
    rows = [{"id": row, "text": text} for row, text in enumerate(texts)]
    blocks = max(1, min(len(rows), workers * 4, -(-len(rows) // batch_size)))
    dataset = ray.data.from_items(rows, override_num_blocks=blocks).map_batches(
        _EncodeBatches,
        fn_constructor_args=(spec,),
        batch_size=batch_size,
        batch_format="numpy",
        num_cpus=1,
        compute=ray.data.ActorPoolStrategy(size=workers),
    )
    out: np.ndarray | None = None
    seen = np.zeros(len(texts), dtype=bool)
    for batch in dataset.iter_batches(batch_size=None, batch_format="numpy"):
        ids = np.asarray(batch["id"], dtype=np.int64)
        vectors = np.asarray(batch["vector"], dtype=np.float32)
        if out is None:
            out = np.zeros((len(texts), vectors.shape[1]), dtype=np.float32)
        out[ids] = vectors
        seen[ids] = True
    if out is None or not seen.all():
        raise BackendError(f"Ray returned vectors for {int(seen.sum())} of {len(texts)} texts")
    return out


@contextlib.contextmanager
def _ray_session(ray: Any, address: str | None, scratch: Path | None, cpus: int) -> Iterator[None]:
    """ray.init ... ray.shutdown; a local Ray (with `cpus` logical CPUs: one per actor at least, or the actor
    pool waits for CPUs forever) has its session folder removed after."""
    if ray.is_initialized():  # a caller's own Ray: use it, leave it running
        yield
        return
    temp = None if address is not None else Path(tempfile.mkdtemp(prefix="qa-ray-", dir=_temp_parent(scratch)))
    try:
        try:
            if temp is None:
                ray.init(address=address, log_to_driver=False, configure_logging=False)
            else:
                with _environment(_LOCAL_ENV):
                    ray.init(
                        num_cpus=cpus,
                        include_dashboard=False,
                        _temp_dir=str(temp),
                        log_to_driver=False,
                        configure_logging=False,
                    )
        except (ConnectionError, TimeoutError, RuntimeError, OSError, ValueError) as exc:
            where = f"the Ray cluster at {address}" if address else "a local Ray"
            raise RayUnavailableError(f"cannot start or join {where}: {_one_line(exc)}") from None
        try:
            yield
        finally:
            ray.shutdown()
    finally:
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)


def _temp_parent(scratch: Path | None) -> str:
    """Where the session folder goes: `scratch` if its path is short enough, else the system's temporary folder."""
    for candidate in (scratch, Path(tempfile.gettempdir()), Path("/tmp")):
        if candidate is not None and len(str(candidate.resolve())) <= _MAX_TEMP_DIR:
            candidate.mkdir(parents=True, exist_ok=True)
            return str(candidate.resolve())
    raise RayUnavailableError("no temporary folder with a path short enough for Ray's sockets (set TMPDIR=/tmp)")


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables the Ray processes started inside inherit (a caller's own values win)."""
    added = [name for name in values if name not in os.environ]
    os.environ.update({name: values[name] for name in added})
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


def _check_reachable(address: str, timeout: float) -> None:
    """Fail fast, within `timeout` seconds, when `address` does not answer as a gRPC server (both Ray's GCS and
    its client server are): ray.init itself retries for minutes on a port that accepts but never answers."""
    target = address.removeprefix("ray://")
    host, sep, port_text = target.rpartition(":")
    if not sep or not host or not port_text.isdigit():
        raise RayUnavailableError(f"not a Ray address: {address!r} (expected HOST:PORT or ray://HOST:PORT)")
    host = host.strip("[]")
    deadline = time.monotonic() + timeout
    try:
        with socket.create_connection((host, int(port_text)), timeout=timeout):
            pass
    except OSError as exc:
        reason = "timed out" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
        raise RayUnavailableError(f"cannot reach the Ray cluster at {address}: {reason}") from None
    import grpc  # a dependency of ray

    channel = grpc.insecure_channel(f"{host}:{port_text}" if ":" not in host else f"[{host}]:{port_text}")
    try:
        grpc.channel_ready_future(channel).result(timeout=max(0.1, deadline - time.monotonic()))
    except grpc.FutureTimeoutError:
        raise RayUnavailableError(
            f"the Ray cluster at {address} does not answer (no gRPC server there after {timeout:g} s)"
        ) from None
    finally:
        channel.close()


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."
