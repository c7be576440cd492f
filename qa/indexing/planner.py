"""The reading side of a build, on a thread of its own: read each corpus file, decide what each document
needs, extract and chunk what must be embedded, and hand the embedding side batches over a bounded queue.

Extraction is Python and the model runs in native threads that release the GIL, so reading the next batch
overlaps embedding this one; the queue holds at most `depth` batches, so memory stays bounded by a few
batches whatever the corpus size. The reader never touches the build's database: documents an earlier
index holds already are handed over as `Reuse` records, and warnings as messages, in their order.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from qa.indexing.batch import EmbedBatch, PendingDocument
from qa.indexing.documents import article_passages, document_version, shown_document, shown_warning
from qa.ingest.corpus import file_sha256, read_documents
from qa.records import CorpusFile, Document

if TYPE_CHECKING:  # build imports this module: the request's type only, for the checker
    from qa.indexing.build import BuildRequest

PUT_WAIT_S = 0.1  # how often a reader waiting on a full queue checks that the build still wants it


@dataclass(frozen=True)
class Reuse:
    """A document the interrupted build's fallback (the live index) holds at this version already."""

    key: str
    position: int
    version: str


@dataclass
class Planned:
    """One hand-over: documents to embed, documents to copy, the warnings met, and how many files are read."""

    batch: EmbedBatch
    reuse: list[Reuse]
    warnings: list[str]
    files_done: int


@dataclass
class Plan:
    """What the reader found over the whole corpus; complete once iteration has ended."""

    positions: dict[str, int] = field(default_factory=dict)  # document key -> place in the corpus
    files: dict[str, dict[str, Any]] = field(default_factory=dict)  # corpus file -> size, mtime_ns, sha256, documents
    reused: int = 0  # documents already stored at their version (in the database or the fallback)


class _Done:
    """The reader's last item: it finished, or `error` stopped it."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


class _Warnings:
    """A reporter for extraction that keeps its warnings, to be shown by the embedding side in order."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def info(self, message: str) -> None:
        self.messages.append(message)

    def warning(self, message: str) -> None:
        self.messages.append(message)

    def progress(self, done: int, total: int) -> None:
        pass


class Planner:
    """`with Planner(...) as planner: for planned in planner: ...`: the build's batches, read and chunked
    on a thread while the caller embeds them."""

    def __init__(
        self,
        request: BuildRequest,
        known: dict[str, str],
        fallback_versions: dict[str, str],
        batch_passages: int,
        depth: int = 2,
    ) -> None:
        self._request = request
        self._known = known
        self._fallback_versions = fallback_versions
        self._batch_passages = batch_passages
        self._queue: queue.Queue[Planned | _Done] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self.plan = Plan()
        self._reader = threading.Thread(target=self._read_all, name="newsqa-reader", daemon=True)

    def __enter__(self) -> Planner:
        self._reader.start()
        return self

    def __exit__(self, *exc: object) -> None:
        """The embedding side stopped (done, failed or interrupted): the reader stops too."""
        self._stop.set()
        self._reader.join(timeout=1.0)  # a reader deep in one huge file is a daemon: it never holds up an exit

    def __iter__(self) -> Iterator[Planned]:
        while True:
            item = self._queue.get()
            if isinstance(item, _Done):
                if item.error is not None:
                    raise item.error
                return
            yield item

    def _read_all(self) -> None:
        try:
            self._plan_corpus()
        except BaseException as exc:  # noqa: BLE001 - raised again on the embedding side
            self._put(_Done(exc))
        else:
            self._put(_Done())

    def _plan_corpus(self) -> None:
        request = self._request
        files = request.corpus.files
        warnings = _Warnings()
        for skipped in request.corpus.skipped:
            warnings.warning(shown_warning(skipped, request.shown_docs, request.corpus))
        batch, reuse = EmbedBatch(), []
        for done, file in enumerate(files, start=1):
            if self._stop.is_set():
                return
            for doc in self._read_file(file, warnings):
                if self._stop.is_set():
                    return
                planned = self._plan_document(doc, warnings)
                if isinstance(planned, Reuse):
                    reuse.append(planned)
                elif planned is not None:
                    batch.add(planned)
                if batch.passages >= self._batch_passages:  # per document: a .jsonl file may hold thousands
                    self._put(Planned(batch, reuse, warnings.messages, done))
                    batch, reuse, warnings = EmbedBatch(), [], _Warnings()
        self._put(Planned(batch, reuse, warnings.messages, len(files)))  # the last one, maybe empty: ends the bar

    def _read_file(self, file: CorpusFile, warnings: _Warnings) -> list[Document]:
        """The documents of one corpus file, its warnings kept and its state recorded for change detection."""
        request = self._request
        docs, found = read_documents(request.corpus, file)
        for warning in found:
            warnings.warning(shown_warning(warning, request.shown_docs, request.corpus))
        self.plan.files[file.relpath] = {
            "size": file.size,
            "mtime_ns": file.mtime_ns,
            "sha256": file_sha256(file.abspath),
            "documents": len(docs),
        }
        return docs

    def _plan_document(self, doc: Document, warnings: _Warnings) -> PendingDocument | Reuse | None:
        """None when the database holds this version; Reuse when the fallback does; else its passages."""
        position = self.plan.positions[doc.key] = len(self.plan.positions)
        version = document_version(doc)
        if self._known.get(doc.key) == version:
            self.plan.reused += 1
            return None
        if self._fallback_versions.get(doc.key) == version:
            self.plan.reused += 1
            return Reuse(doc.key, position, version)
        request = self._request
        shown = shown_document(doc, request.shown_docs, request.corpus)
        doc, passages = article_passages(doc, request.settings, warnings, shown)
        return PendingDocument(doc, position, version, passages)

    def _put(self, item: Planned | _Done) -> None:
        """Hand `item` over, waiting while the queue is full, unless the embedding side has stopped."""
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=PUT_WAIT_S)
                return
            except queue.Full:
                continue
