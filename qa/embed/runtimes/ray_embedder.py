"""Embedding with Ray (issue 17): the same bulk encoder as a single-process build, one per Ray actor.

`RayEncoders` starts (or joins) Ray, creates `workers` actors that each build the bulk encoder a single-process
build would use (`qa.embed.lazy.LazyEncoder` over the `EncoderSpec`: a model folder or the hash test model,
and a concrete backend), and hands them sub-batches in order; it lives for one build, so each actor loads its
model once however many checkpoints the build commits. `embed_with_ray(texts, spec)` is one such session for
one list of texts. Vectors equal the single-process ones (bit for bit on one machine).

Why actors and not Ray Data's `map_batches`: Ray Data creates its actor pool, a model per actor, for each
dataset it runs; a build embeds in checkpointed batches, so each batch paid ~4.7 s more for 256 passages on
2 cores (probe of 2026-11-29: 7.0 s a batch through map_batches, 2.3 s through the same actors kept alive).

A local Ray (the default) costs ~5 s to start and ~1-2 GB of memory with two actors, and brings no speed-up on
2 cores (bench/ray_embed.py); it pays off on a cluster with more cores than this machine. Ray writes only
under a fresh temporary folder (its session: logs, sockets), which is removed after `ray.shutdown()`, and its
token under ~/.ray. Nothing is printed on stdout; Ray's own warnings go to stderr.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
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
from qa.errors import BackendError, BadInputError, MissingExtraError, RayUnavailableError, one_line
from qa.inputs import AUTO_BACKEND
from qa.records import Embedder, Reporter
from qa.text.plural import counted

__all__ = ["CONNECT_TIMEOUT_S", "EncoderSpec", "RayEncoders", "RaySettings", "RayUnavailableError", "embed_with_ray"]

CONNECT_TIMEOUT_S = 10.0  # the longest wait for a cluster's address to answer before ray.init is tried
READY_TIMEOUT_S = 600.0  # the longest wait for every actor to load its model (a cluster short of CPUs never does)
SUB_BATCH = 64  # texts an actor embeds per call, at most
MIN_SUB_BATCH = 8  # ... and at least (a batch is split finer only to keep every actor busy)
# Ray's session folder holds AF_UNIX sockets (<=107 bytes): `<temp>/session_<date>_<pid>/sockets/plasma_store`
# adds ~60 characters, so a longer temporary folder falls back to the system's (then /tmp)
_MAX_TEMP_DIR = 45
# for a Ray started here: no usage report (nothing leaves the machine anyway). Its token authentication stays
# Ray's default: the token in ~/.ray/auth_token (made on first use), as for any local Ray; Ray's warning that it
# chose it (its logger below) is not shown
_LOCAL_ENV = {"RAY_USAGE_STATS_ENABLED": "0"}
_AUTH_LOGGER = "ray._private.authentication.authentication_token_setup"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_RAISED = re.compile(r"^[\w.]+(?:Error|Exception|Exit|Interrupt): (.+)$")


@dataclass(frozen=True)
class RaySettings:
    """Where to embed: `address` None starts a local Ray with this machine's cores (its session folder under
    `scratch` when that path is short enough for Ray's sockets, else under the system's temporary folder);
    otherwise "HOST:PORT" of a running cluster's head (`ray start --head`, port 6379 by default; the driver must
    reach every node) or "ray://HOST:PORT" for Ray Client (port 10001). `workers`: actors, one model each
    (default: one per CPU of the cluster). An address that does not answer within `connect_timeout` seconds
    raises RayUnavailableError."""

    address: str | None = None
    workers: int | None = None
    scratch: Path | None = None
    connect_timeout: float = CONNECT_TIMEOUT_S

    def __post_init__(self) -> None:
        if self.workers is not None and self.workers < 1:
            raise BadInputError(f"Ray workers must be at least 1, not {self.workers}")
        cpus = os.cpu_count() or 1
        if self.address is None and self.workers is not None and self.workers > cpus:
            # more actors than CPUs only load more models: a local Ray would start them all and run out of memory
            most = counted(cpus, "worker")
            raise BadInputError(f"a local Ray has {counted(cpus, 'CPU')} here: at most {most}, one model each")

    def check(self) -> None:
        """Fail now, before a build plans anything, when Ray is not installed or the cluster does not answer."""
        _import_ray()
        if self.address is not None:
            _check_reachable(self.address, self.connect_timeout)


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
        needed, once in this process: every worker then builds the same encoder without converting. (On a
        cluster whose nodes' CPUs differ from this one's, name the backend rather than "auto".)"""
        reference = self.reference()
        if not isinstance(reference, SentenceTransformerEmbedder):
            return self
        from qa.embed.bulk import bulk_embedder, measured_backend, needs_preparation

        backend = measured_backend(reference) if self.backend == AUTO_BACKEND else self.backend
        if needs_preparation(reference, backend):
            bulk_embedder(reference, backend)  # exports/converts into the user cache, then is dropped
        return replace(self, backend=backend)


class _Worker:
    """A Ray actor: the build's own encoder (qa.embed.lazy.LazyEncoder), created once."""

    def __init__(self, spec: EncoderSpec) -> None:
        from qa.embed.lazy import LazyEncoder

        self._encoder = LazyEncoder(spec.reference(), spec.backend)
        self._encoder.prepare()

    def backend(self) -> str:
        return self._encoder.name or ""

    def embed(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self._encoder.embed(texts), dtype=np.float32)

    def embed_with_spans(
        self, texts: list[str], spans: list[list[tuple[int, int]]]
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        return self._encoder.embed_with_spans(texts, spans)


class RayEncoders:
    """Ray actors with one bulk encoder each, for one build: started on first use, stopped by `close()`.

    Has the build encoder's interface (qa.indexing.batch.SpanEncoder): `embed`, `embed_with_spans`,
    `prepare`, `name` (the backend the actors run, once started) and `close`.
    """

    def __init__(self, spec: EncoderSpec, settings: RaySettings | None = None, reporter: Reporter | None = None):
        self._spec = spec
        self._settings = settings or RaySettings()
        self._reporter = reporter
        self._session: contextlib.ExitStack | None = None
        self._actors: list[Any] = []
        self.name: str | None = None  # the backend that embedded, once the actors are up
        self.workers = 0

    def __enter__(self) -> RayEncoders:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def prepare(self) -> None:
        """Start Ray and the actors now: resolve "auto" here, start or join Ray, load a model per actor."""
        if self._session is not None:
            return
        settings = self._settings
        ray = _import_ray()
        if self._reporter is not None:
            from qa.embed.bulk import needs_preparation

            if needs_preparation(self._spec.reference(), self._spec.backend):
                self._reporter.info("Preparing the model for this CPU (once; up to a minute) ...")
        spec = self._spec.resolved()
        if settings.address is not None:
            _check_reachable(settings.address, settings.connect_timeout)
        session = contextlib.ExitStack()
        try:
            session.enter_context(_ray_session(ray, settings.address, settings.scratch))
            cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
            if settings.workers is not None and settings.workers > cpus:
                where = f"the Ray cluster at {settings.address}" if settings.address else "this Ray"
                most = counted(cpus, "worker")
                raise BadInputError(f"{where} has {counted(cpus, 'CPU')}: at most {most}, one CPU each")
            workers = settings.workers or cpus
            actor = ray.remote(num_cpus=1)(_Worker)
            self._actors = [actor.remote(spec) for _ in range(workers)]
            backends = set(_ready(ray, [a.backend.remote() for a in self._actors]))
        except BaseException:
            self._actors = []
            session.close()
            raise
        self._session, self.workers, self.name = session, workers, spec.backend
        if len(backends) == 1:
            self.name = backends.pop()
        if self._reporter is not None:
            where = f"the Ray cluster at {settings.address}" if settings.address else "a local Ray"
            self._reporter.info(f"Embedding on {where}: {counted(workers, 'worker')}, {self.name} ...")

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """The texts' float32 vectors (n, dim), in the input order."""
        if not len(texts):
            return np.zeros((0, self._spec.reference().dim), dtype=np.float32)
        parts = self._map("embed", [(list(chunk),) for chunk in self._chunks(list(texts))])
        return np.vstack(parts)

    def embed_with_spans(
        self, texts: list[str], spans: list[list[tuple[int, int]]]
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """As LazyEncoder.embed_with_spans: each text's vector and a vector per span of it."""
        if not texts:
            return np.zeros((0, self._spec.reference().dim), dtype=np.float32), []
        chunks = self._chunks(list(range(len(texts))))
        parts = self._map("embed_with_spans", [([texts[i] for i in c], [spans[i] for i in c]) for c in chunks])
        return np.vstack([vectors for vectors, _ in parts]), [found for _, pooled in parts for found in pooled]

    def close(self) -> None:
        """Stop the actors, and a Ray this started (its session folder removed)."""
        session, self._session = self._session, None
        self._actors = []
        if session is not None:
            session.close()

    def _chunks(self, items: list[Any]) -> list[list[Any]]:
        """`items` in consecutive sub-batches: at most SUB_BATCH, smaller to give every actor two when there
        are few (but not below MIN_SUB_BATCH)."""
        self.prepare()
        size = max(MIN_SUB_BATCH, min(SUB_BATCH, -(-len(items) // (2 * max(1, self.workers)))))
        return [items[start : start + size] for start in range(0, len(items), size)]

    def _map(self, method: str, jobs: list[tuple[Any, ...]]) -> list[Any]:
        """Each job's result, in order; the actors take the next job as they finish one."""
        ray = _import_ray()
        from ray.util import ActorPool

        pool = ActorPool(self._actors)
        try:
            return list(pool.map(lambda actor, job: getattr(actor, method).remote(*job), jobs))
        except ray.exceptions.RayError as exc:
            raise BackendError(f"a Ray worker failed: {one_line(_cause(exc) or type(exc).__name__)}") from None


def embed_with_ray(
    texts: Sequence[str],
    encoder: EncoderSpec,
    *,
    address: str | None = None,
    workers: int | None = None,
    scratch: Path | None = None,
    connect_timeout: float = CONNECT_TIMEOUT_S,
) -> np.ndarray:
    """The texts' float32 vectors (n, dim), in the input order, embedded by `workers` Ray actors (RaySettings
    says what `address`, `workers`, `scratch` and `connect_timeout` mean). "auto" is resolved here, once. A Ray
    this process already initialized is used as it is (`address` ignored) and left running."""
    settings = RaySettings(address, workers, scratch, connect_timeout)
    settings.check()
    if not len(texts):
        return np.zeros((0, encoder.reference().dim), dtype=np.float32)
    with RayEncoders(encoder, settings) as encoders:
        return encoders.embed(texts)


def _import_ray() -> Any:
    try:
        import ray
        import ray.util  # noqa: F401 - ActorPool
    except ImportError:
        raise MissingExtraError("embedding with Ray", "ray", "ray") from None
    return ray


def _ready(ray: Any, refs: list[Any], timeout: float = READY_TIMEOUT_S) -> list[Any]:
    """Each actor's answer once all have started; one that failed (a model missing on a node, ...) or that
    has not started within `timeout` (the cluster lacks CPUs or memory for it) told in one line."""
    _, waiting = ray.wait(refs, num_returns=len(refs), timeout=timeout)
    if waiting:
        raise RayUnavailableError(
            f"{len(waiting)} of {len(refs)} Ray workers did not start within {timeout:g} s: the cluster may lack"
            " the CPUs or the memory for them (fewer --ray-workers)"
        )
    try:
        return list(ray.get(refs))
    except ray.exceptions.RayError as exc:
        raise BackendError(f"a Ray worker could not start: {one_line(_cause(exc) or type(exc).__name__)}") from None


def _cause(exc: BaseException) -> str:
    """The worker's own error inside Ray's wrapper: RayTaskError keeps it as `cause`; an actor that died in its
    constructor keeps only the worker's traceback as text, whose last line is "module.Error: message"."""
    cause = getattr(exc, "cause", None)
    if isinstance(cause, BaseException):
        return str(cause) or type(cause).__name__
    lines = [line.strip() for line in _ANSI.sub("", str(exc)).splitlines() if line.strip()]
    last = lines[-1] if lines else type(exc).__name__
    raised = _RAISED.match(last)
    return raised.group(1) if raised else last


@contextlib.contextmanager
def _ray_session(ray: Any, address: str | None, scratch: Path | None) -> Iterator[None]:
    """ray.init ... ray.shutdown; a local Ray (with this machine's logical CPUs) has its session folder removed
    after."""
    if ray.is_initialized():  # a caller's own Ray: use it, leave it running
        yield
        return
    temp = None if address is not None else Path(tempfile.mkdtemp(prefix="qa-ray-", dir=_temp_parent(scratch)))
    with _environment(_LOCAL_ENV if temp is not None else {}):
        try:
            try:
                if temp is None:
                    ray.init(address=address, log_to_driver=False, configure_logging=False)
                else:
                    with _quiet_logger(_AUTH_LOGGER):
                        ray.init(
                            num_cpus=os.cpu_count() or 1,
                            include_dashboard=False,
                            _temp_dir=str(temp),
                            log_to_driver=False,
                            configure_logging=False,
                        )
            except (ConnectionError, TimeoutError, RuntimeError, OSError, ValueError) as exc:
                raise RayUnavailableError(_not_started(address, exc)) from None
            try:
                yield
            finally:
                ray.shutdown()
        finally:
            if temp is not None:
                shutil.rmtree(temp, ignore_errors=True)


def _not_started(address: str | None, exc: BaseException) -> str:
    if address is None:
        return f"cannot start a local Ray: {one_line(exc)}"
    return (
        f"cannot join the Ray cluster at {address}: {one_line(exc)} (a cluster with token authentication needs"
        " its token here too: RAY_AUTH_TOKEN or ~/.ray/auth_token, as `ray start` made it)"
    )


def _temp_parent(scratch: Path | None) -> str:
    """Where the session folder goes: `scratch` if its path is short enough, else the system's temporary folder."""
    for candidate in (scratch, Path(tempfile.gettempdir()), Path("/tmp")):
        if candidate is not None and len(str(candidate.resolve())) <= _MAX_TEMP_DIR:
            candidate.mkdir(parents=True, exist_ok=True)
            return str(candidate.resolve())
    raise RayUnavailableError("no temporary folder with a path short enough for Ray's sockets (set TMPDIR=/tmp)")


@contextlib.contextmanager
def _quiet_logger(name: str) -> Iterator[None]:
    """Only errors from logger `name` while inside."""
    found = logging.getLogger(name)
    level = found.level
    found.setLevel(logging.ERROR)
    try:
        yield
    finally:
        found.setLevel(level)


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
    if not sep or not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
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
