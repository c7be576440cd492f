"""Keeping an index and its Milvus mirror in step, and saying what they hold, without asking anything."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from qa.embed import load_embedder
from qa.embed.runtimes.ray_embedder import RaySettings
from qa.errors import QAError, StoreDamagedError
from qa.indexing import ensure_index
from qa.records import ChunkSettings, Reporter
from qa.storage.generations import live_generation, read_index
from qa.storage.manifest import LastBuild
from qa.storage.milvus import MilvusStore, MilvusTarget, SyncReport
from qa.text.plural import counted


@dataclass(frozen=True)
class Updated:
    """What an update did: the index's documents and passages, whether a new generation was made and how
    (`last`), and what the mirror's sync did (None without a store)."""

    documents: int
    passages: int
    changed: bool
    last: LastBuild | None
    mirror: SyncReport | None


@dataclass(frozen=True)
class MirrorFlags:
    take_over: bool = False  # make this index the writer of a mirror another index keeps
    check_vectors: bool = False  # read every stored vector; write damaged ones again


def update_index(
    docs: Path,
    index_dir: Path,
    *,
    model: str | None = None,
    backend: str,
    rebuild: bool = False,
    reporter: Reporter | None = None,
    ray: RaySettings | None = None,
    store: str | None = None,
    flags: MirrorFlags = MirrorFlags(),  # noqa: B008 - frozen
) -> Updated:
    """Bring the index of `docs` in step with it, and the mirror at `store` with the index."""
    embedder = load_embedder(model)
    # a mirror is opened first: the build takes the vectors it holds for unchanged passages
    engine = MilvusStore.open(store, embedder.dim) if store is not None else None
    before = live_generation(index_dir)
    try:
        stored = ensure_index(
            docs,
            index_dir,
            embedder,
            ChunkSettings(),
            rebuild=rebuild,
            reporter=reporter,
            backend=backend,
            ray=ray,
            known=engine,
        )
        synced = engine.sync(stored, take_over=flags.take_over, check_vectors=flags.check_vectors) if engine else None
    finally:
        if engine is not None:
            engine.close()
    changed = stored.path.name != before
    last = stored.manifest.last_build if changed else None
    return Updated(len(stored.documents), stored.count, changed, last, synced)


def mirror_state(store: str, dim: int, index_dir: Path | None) -> dict[str, object]:
    """What the Milvus mirror at `store` holds, and whether it holds the live generation of `index_dir` as a
    sync would write it (`why` not); `error` says why it cannot be read or written. Builds and writes nothing:
    a Milvus Lite file not there yet is said so."""
    target = MilvusTarget.parse(store)
    state: dict[str, object] = {"target": str(target), "generation": None, "documents": 0, "passages": 0}
    state.update(in_step=False, error=None)
    if target.local and not Path(target.uri).exists():
        folder = Path(target.uri).parent
        state["error"] = None if folder.is_dir() else f"no folder {folder} to create it in"
        return state
    try:
        with MilvusStore.open(target, dim) as engine:
            known = engine.manifest or {}
            stored = read_index(index_dir) if index_dir is not None and known.get("generation") else None
            why = engine.out_of_step(stored) if stored is not None else None
            state.update(
                generation=known.get("generation"),
                documents=int(known.get("documents") or 0),
                passages=engine.count(),
                in_step=stored is not None and why is None,
                error=engine.foreign(stored) if stored is not None else None,
            )
            if why is not None:
                state["why"] = why
    except QAError as exc:  # another model's store, a server down: said, with the index's own status
        state["error"] = str(exc)
    return state


def verified_mirror(store: str, index_dir: Path) -> str:
    """What the mirror holds, checked against the index of `index_dir` and every stored vector, in words;
    StoreDamagedError when it holds damaged vectors."""
    stored = read_index(index_dir)
    if stored is None:
        raise QAError(f"no index in {index_dir} to check the mirror against")
    try:
        with MilvusStore.open(store, stored.manifest.model.dim) as engine:
            why, damaged = engine.out_of_step(stored), engine.damaged_vectors()
            held = engine.count()
    finally:
        stored.close()
    if damaged:
        raise StoreDamagedError(
            f"{store}: damaged vectors in {counted(len(damaged), 'document')} ({sum(damaged.values())} passages):"
            " `ask.py index update --store ... --check-vectors` writes them again"
        )
    if why is not None:
        return f"{store}: {held} passages, every vector sound; not in step with this index ({why})"
    return f"{store}: {held} passages, in step with this index, every vector sound"
