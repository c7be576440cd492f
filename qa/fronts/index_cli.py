"""`ask.py index status|verify|update|add|remove`: look at and maintain an index without asking anything."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from qa.app import (
    AUTO_BACKEND,
    CORPUS_SUFFIXES,
    RESTORED_BACKEND,
    MirrorFlags,
    RaySettings,
    check_backend,
    counted,
    default_docs,
    default_index_dir,
    escape_path,
    index_status,
    load_embedder,
    mirror_state,
    read_excluded,
    scan_corpus,
    terminal_safe,
    update_index,
    verified_mirror,
    verify_index,
    write_excluded,
)
from qa.errors import BadInputError, DocsNotFoundError
from qa.fronts.console import ConsoleReporter
from qa.fronts.options import (
    BackendOption,
    DocsOption,
    IndexOption,
    ModelOption,
    QuietOption,
    StoreOption,
    Words,
    docs_error,
)
from qa.records import ChunkSettings

index_app = typer.Typer(
    add_completion=False,
    pretty_exceptions_enable=False,
    no_args_is_help=True,
    help="Look at and maintain the index of a corpus without asking anything (questions update it on their own).",
    context_settings={"help_option_names": ["-h", "--help"]},
)

_Ray = Annotated[
    bool,
    typer.Option(
        "--ray",
        help="Embed new passages on Ray actors, one model each: a local Ray with this machine's cores, or the"
        " cluster at --ray-address (needs pip install -e '.\\[ray]'). Pays off on a cluster, not on one machine.",
    ),
]
_RayAddress = Annotated[
    str | None,
    typer.Option(
        metavar="HOST:PORT",
        help="A running Ray cluster to embed on (implies --ray): its head's HOST:PORT, or ray://HOST:PORT for"
        " Ray Client. Its nodes need this package and the model at the same path.",
        show_default=False,
    ),
]
_RayWorkers = Annotated[
    int | None,
    typer.Option(
        metavar="N",
        min=1,
        help="Ray actors, one CPU and one model each (implies --ray; default and most: one per CPU of the cluster).",
        show_default=False,
    ),
]


def _say(line: str) -> None:
    """A line of the report; paths and reasons carry file names: their control characters are shown, not run."""
    print(terminal_safe(line))


def _where(docs: Path | None, index: Path | None) -> tuple[Path, Path]:
    try:
        docs_path = docs if docs is not None else default_docs()
        if not docs_path.exists():
            raise DocsNotFoundError(str(docs_path))
    except DocsNotFoundError as exc:
        raise docs_error(exc) from None
    return docs_path, index if index is not None else default_index_dir(docs_path)


@index_app.command()
def status(
    docs: DocsOption = None,
    index: IndexOption = None,
    model: ModelOption = None,
    store: Annotated[
        str | None,
        typer.Option(
            metavar="milvus:PATH.db|milvus://HOST:PORT",
            help="Also say what this Milvus mirror holds and whether it is in step (nothing is created or written).",
            show_default=False,
        ),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show the index of the corpus and whether the corpus changed since it was built (builds nothing)."""
    docs_path, index_dir = _where(docs, index)
    embedder = load_embedder(model)
    state = index_status(docs_path, index_dir, embedder, ChunkSettings())
    mirror = mirror_state(store, embedder.dim, index_dir if state.generation else None) if store is not None else None
    if json_output:
        record = asdict(state)
        record["changes"] = {k: list(v) for k, v in record["changes"].items()}
        if mirror is not None:
            record["store"] = mirror
        print(json.dumps(record, ensure_ascii=False))
        return
    _say(f"index:      {state.index_dir}")
    if state.generation is None and state.pending == "first build":
        _say("state:      not built yet (the first question builds it)")
    elif state.generation is None:
        _say(f"state:      {state.pending} (on the next question or `ask.py index update`)")
    else:
        _say(f"built:      {state.created_at} ({state.generation})")
        _say(f"holds:      {state.documents} documents, {state.passages} passages")
        speed = f", {state.passages_per_second:.0f} passages/s in the last build" if state.passages_per_second else ""
        on = f" on {counted(state.ray_workers, 'Ray worker')}" if state.ray_workers else ""
        restored = state.backend == RESTORED_BACKEND
        made = "vectors taken from a Milvus mirror" if restored else f"embedded with {state.backend}"
        _say(f"model:      {state.model} ({made}{on}{speed})")
        _say(f"vectors:    {state.vector_index}")
        _say(f"up to date: {'yes' if state.pending is None else 'no: ' + state.pending}")
    if state.excluded:
        _say(f"removed:    {len(state.excluded)} file(s) left out: {', '.join(state.excluded[:5])}")
    if state.checkpoint_documents:
        held = state.checkpoint_documents
        _say(f"checkpoint: an interrupted build holds {held} documents; the next build resumes it")
    if mirror is not None:
        _say(f"milvus:     {_mirror_line(mirror)}")


def _mirror_line(mirror: dict[str, object]) -> str:
    if mirror["error"] is not None:
        error = str(mirror["error"])
        return error if error.startswith(str(mirror["target"])) else f"{mirror['target']}: {error}"
    if mirror["generation"] is None:
        return f"{mirror['target']}: empty (`ask.py index update --store ...` fills it)"
    held = f"{mirror['target']}: {mirror['documents']} documents, {mirror['passages']} passages"
    if mirror["in_step"]:
        return f"{held}, in step with this index"
    why = f" ({mirror['why']})" if mirror.get("why") else ""
    return f"{held}, not in step with this index{why}: `ask.py index update --store ...` brings it in step"


@index_app.command()
def verify(
    docs: DocsOption = None,
    index: IndexOption = None,
    store: StoreOption = None,
) -> None:
    """Check every byte of the index against its build's checksums (a damaged index is rebuilt on next use),
    and, with --store, that the Milvus mirror holds it with sound vectors."""
    index_dir = index if index is not None else _where(docs, None)[1]  # the index alone: its corpus may be gone
    found = verify_index(index_dir)
    state = found.status
    _say(f"index:      {state.index_dir}")
    if found.checksummed:
        _say(f"verified:   {state.generation}: every file matches its build, the database is intact")
    else:
        _say(
            f"verified:   {state.generation}: sizes and the database only: built before checksums were recorded"
            " (`ask.py index update --rebuild` records them)"
        )
    _say(f"holds:      {state.documents} documents, {state.passages} passages")
    if store is not None:
        _say(f"milvus:     {verified_mirror(store, index_dir)}")


@index_app.command()
def update(
    docs: DocsOption = None,
    index: IndexOption = None,
    model: ModelOption = None,
    backend: BackendOption = AUTO_BACKEND,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Rebuild from scratch.")] = False,
    ray: _Ray = False,
    ray_address: _RayAddress = None,
    ray_workers: _RayWorkers = None,
    store: StoreOption = None,
    take_over: Annotated[
        bool,
        typer.Option(
            "--take-over", help="Make this index the writer of the --store mirror another index keeps (one writer)."
        ),
    ] = False,
    check_vectors: Annotated[
        bool,
        typer.Option("--check-vectors", help="Read every vector of the --store mirror; write damaged ones again."),
    ] = False,
    quiet: QuietOption = False,
) -> None:
    """Bring the index in step with the corpus now (questions do this on their own when needed)."""
    check_backend(backend, "--backend")
    for given, name in ((take_over, "--take-over"), (check_vectors, "--check-vectors")):
        if given and store is None:
            raise BadInputError(f"{name} needs --store: the Milvus mirror to work on")
    docs_path, index_dir = _where(docs, index)
    on_ray = _ray_settings(ray, ray_address, ray_workers)
    _update(docs_path, index_dir, model, backend, rebuild, quiet, on_ray, store, MirrorFlags(take_over, check_vectors))


@index_app.command()
def add(
    files: Annotated[
        list[Path],
        typer.Argument(
            click_type=Words(), metavar="FILE...", help="Article files (.txt, .md, .html) to add.", show_default=False
        ),
    ],
    docs: DocsOption = None,
    index: IndexOption = None,
    model: ModelOption = None,
    backend: BackendOption = AUTO_BACKEND,
    ray: _Ray = False,
    ray_address: _RayAddress = None,
    ray_workers: _RayWorkers = None,
    store: StoreOption = None,
    quiet: QuietOption = False,
) -> None:
    """Add articles: files outside the corpus folder are copied into it; removed ones are taken back."""
    check_backend(backend, "--backend")
    docs_path, index_dir = _where(docs, index)
    on_ray = _ray_settings(ray, ray_address, ray_workers)
    root = _folder(docs_path)
    excluded = read_excluded(index_dir)
    plan = _copies(files, root, excluded)
    for source, target in plan:  # checked everything first: a bad file in the list copies nothing
        if not target.exists():  # copied aside, then renamed: an interrupted copy is never an article
            partial = root / f".{target.name}.partial"
            shutil.copy2(source, partial)
            os.replace(partial, target)
    write_excluded(index_dir, excluded)
    _update(docs_path, index_dir, model, backend, False, quiet, on_ray, store)


@index_app.command()
def remove(
    files: Annotated[
        list[Path],
        typer.Argument(
            click_type=Words(), metavar="FILE...", help="Article files of the corpus to leave out.", show_default=False
        ),
    ],
    docs: DocsOption = None,
    index: IndexOption = None,
    model: ModelOption = None,
    store: StoreOption = None,
    quiet: QuietOption = False,
) -> None:
    """Leave articles out of the index. The files stay where they are; `index add FILE` takes them back."""
    docs_path, index_dir = _where(docs, index)
    root = _folder(docs_path)
    known = {f.relpath for f in scan_corpus(docs_path, index_dir).files}
    excluded = read_excluded(index_dir)
    for file in files:
        relpath = _relative(file, root) if file.is_absolute() or file.exists() else None
        if relpath is None and not file.is_absolute():  # not a file here inside the corpus: a name in it
            relpath = file.as_posix()
        if relpath is None or relpath not in known | excluded:
            raise BadInputError(f"{file} is not an article of {docs_path}")
        excluded.add(relpath)
    if not known - excluded:
        raise BadInputError("that would leave no article in the index; remove fewer files")
    before = read_excluded(index_dir)
    write_excluded(index_dir, excluded)
    try:
        _update(docs_path, index_dir, model, AUTO_BACKEND, False, quiet, None, store)
    except BaseException:
        write_excluded(index_dir, before)  # the index did not change: neither does the list
        raise


def _copies(files: list[Path], root: Path, excluded: set[str]) -> list[tuple[Path, Path]]:
    """(file, where it goes in the corpus) for each file from outside it; files inside leave `excluded`."""
    plan: list[tuple[Path, Path]] = []
    for file in files:
        if not file.exists():
            raise BadInputError(f"no such file: {file}")
        if not file.is_file():
            raise BadInputError(f"{file} is not a file (add the articles in it one by one, or use --docs)")
        if not file.name.lower().endswith(CORPUS_SUFFIXES):
            raise BadInputError(f"{file}: not an article file ({', '.join(CORPUS_SUFFIXES)})")
        inside = _relative(file, root)
        if inside is not None:
            excluded.discard(inside)
            continue
        target = root / file.name
        if any(t == target for _, t in plan):
            raise BadInputError(f"two of the files are named {file.name}; rename one first")
        if target.exists() and (not target.is_file() or target.read_bytes() != file.read_bytes()):
            raise BadInputError(f"{target} already exists with other content; rename {file} first")
        plan.append((file, target))
        excluded.discard(file.name)
    return plan


def _ray_settings(ray: bool, address: str | None, workers: int | None) -> RaySettings | None:
    if not (ray or address is not None or workers is not None):
        return None
    if address is not None and not address.strip():
        raise BadInputError("--ray-address is empty: give the cluster's HOST:PORT, or leave it out for a local Ray")
    return RaySettings(address=address, workers=workers)


def _update(
    docs: Path,
    index_dir: Path,
    model: str | None,
    backend: str,
    rebuild: bool,
    quiet: bool,
    ray: RaySettings | None = None,
    store: str | None = None,
    flags: MirrorFlags = MirrorFlags(),  # noqa: B008 - frozen
) -> None:
    reporter = ConsoleReporter(quiet)
    try:
        done = update_index(
            docs,
            index_dir,
            model=model,
            backend=backend,
            rebuild=rebuild,
            reporter=reporter,
            ray=ray,
            store=store,
            flags=flags,
        )
    finally:
        reporter.close()
    held = f"{counted(done.documents, 'document')}, {counted(done.passages, 'passage')}"
    if done.last is None:
        _say(f"Up to date: {held}")
    else:
        last = done.last
        on = f" on {counted(last.ray_workers, 'Ray worker')}" if last.ray_workers else ""
        restored = f", took {last.restored_passages} passages' vectors from Milvus" if last.restored_passages else ""
        _say(
            f"Updated: {held}; embedded {last.embedded_passages} passages and sentences{on}{restored},"
            f" kept {counted(last.reused_documents, 'document')} as they were"
        )
    if done.mirror is not None:
        _say(f"Milvus ({store}): {done.mirror.summary()}")


def _folder(docs: Path) -> Path:
    if not docs.is_dir():
        raise BadInputError(f"{docs} is not a folder: index add/remove work on folder corpora")
    return docs.resolve()


def _relative(file: Path, root: Path) -> str | None:
    try:
        return escape_path(file.resolve().relative_to(root).as_posix())  # as the index stores such a name
    except ValueError:
        return None
