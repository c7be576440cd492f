"""Retrieval: a question -> ranked passages with their sources. The one library call the fronts use."""

from __future__ import annotations

import contextlib
import sqlite3
import sys
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from qa.embed import preload
from qa.embed.onnx import export, query_embedder
from qa.embed.reference import SentenceTransformerEmbedder, bundled_model_path, load_embedder
from qa.errors import IndexDamagedError
from qa.indexing.build import ensure_index
from qa.inputs import DEFAULT_MODE, check_date, check_k, check_mode, check_question, check_text
from qa.paths import default_docs, default_index_dir
from qa.read.reader import Reader, Reading, reader_fit, shipped_reader
from qa.records import (
    ChunkSettings,
    Embedder,
    Hit,
    IndexedDocument,
    Passage,
    Reporter,
    SearchResult,
    Source,
)
from qa.search.abstain import answered, confidence, evidence_of, passage_cosine
from qa.search.answer import answer_of
from qa.search.candidates import Candidates, Filters, depth_for, gather
from qa.search.context import PassageContext, around
from qa.search.filters import allowed_rows, why_empty
from qa.search.highlight import highlight_hits, overlap, question_of
from qa.search.live import Live
from qa.search.ranking import by_score, in_corpus_order, shown_window
from qa.search.reading import read_answer, reread
from qa.search.values import values_of
from qa.search.verify import CHANGED, DAMAGED, GONE, Mismatch
from qa.storage.generations import StoredIndex, damaged, live_generation, mark_damaged, read_index
from qa.storage.milvus import MilvusStore, StoreMismatchError, StoreOutOfStepError

__all__ = ["EVIDENCE_HITS", "Retriever"]

_LEFT_OUT = {
    CHANGED: "left out passages of {path}: the file changed since it was indexed (run `ask.py index update`)",
    GONE: "left out passages of {path}: the file can no longer be read",
    DAMAGED: "left out passages of {path}: the stored text is not the file's (the index is damaged; the next use"
    " rebuilds it)",
}

SHOWN_PASSAGES = 4096  # passages of recent answers remembered by id (Retriever.passage)
EVIDENCE_HITS = 3  # abstention weighs the top 3 hits: qa/search/abstain.py was fitted on results of k=3


class Retriever:
    """Answers questions from one corpus with verbatim passages. Thread-safe once opened."""

    def __init__(
        self,
        index: StoredIndex,
        embedder: Embedder,
        shown_docs: str,
        engine: MilvusStore | None = None,
        reader: Reader | None = None,
    ) -> None:
        self._reader = reader  # the extractive reader (qa/read/), None for --fast
        self._reader_fit = reader_fit() if reader is not None else None
        self._engine = engine  # a Milvus mirror of the generation that finds the candidates (--store), or None
        self._embedder = embedder
        self._shown_docs = shown_docs
        self._live = Live.of(index, shown_docs)
        self._switch_lock = threading.Lock()
        self._vector_cache: dict[str, np.ndarray] = {}  # question -> vector, the last few questions
        self._cache_lock = threading.Lock()
        # passages recently shown in answers, by id: the page's "read in the article" finds them without a scan
        self._shown: dict[str, Passage] = {}

    @classmethod
    def open(
        cls,
        docs: str | Path | None = None,
        index: str | Path | None = None,
        *,
        model: str | None = None,
        rebuild: bool = False,
        chunking: ChunkSettings | None = None,
        reporter: Reporter | None = None,
        embedder: Embedder | None = None,
        backend: str = "auto",
        store: str | None = None,
        reader: bool = True,
    ) -> Retriever:
        """Open (building or updating if needed) the index of `docs` (folder or .jsonl; default seeds/).

        `index` is the index folder (default: one per corpus under index/); `model` a local
        sentence-transformers folder (default: the bundled all-MiniLM-L6-v2); `backend` the encoder a build
        uses for new passages ("auto": the fastest accurate one, see qa/embed/bulk.py). `store`
        ("milvus:PATH.db" or "milvus://HOST:PORT") mirrors the index into Milvus, kept in step, and searches
        it there for the candidates (qa/storage/milvus/); the answers are worked out as with the default.
        `reader` (the default) reads the top candidates with the shipped reader (qa/read/): it orders them and
        picks the highlight, the exact answer, the values and whether to answer; False answers from retrieval
        alone (faster, and no reader is loaded).
        """
        docs_path = Path(docs) if docs is not None else default_docs()
        # a relative index is from the current directory now: the retriever keeps finding it after a chdir
        index_dir = Path(index).absolute() if index is not None else default_index_dir(docs_path)
        if embedder is None:
            preload.start(model)  # the question encoder loads (native code, GIL released) while the index is read
        embedder = embedder or load_embedder(model)
        # a mirror is opened first: a build takes the vectors it holds for unchanged passages (a new machine, a
        # lost index folder) rather than embedding them again
        engine = MilvusStore.open(store, embedder.dim) if store is not None else None
        try:
            stored = ensure_index(
                docs_path,
                index_dir,
                embedder,
                chunking or ChunkSettings(),
                rebuild=rebuild,
                reporter=reporter,
                shown_docs=str(docs_path),
                backend=backend,
                known=engine,
            )
            if engine is not None:
                _synced(engine, stored, reporter)
        except BaseException:
            if engine is not None:
                engine.close()
            raise
        if isinstance(embedder, SentenceTransformerEmbedder) and (embedder.loaded or "torch" in sys.modules):
            # torch is in memory anyway (a build, whatever its encoder): make the torch-free query path ready
            export(embedder.path)
        shipped = shipped_reader(str(bundled_model_path())) if reader else None
        return cls(stored, query_embedder(embedder), str(docs_path), engine, shipped)

    @property
    def index_path(self) -> Path:
        return self._current().index.path

    def __len__(self) -> int:
        return self._current().index.count

    @property
    def _index(self) -> StoredIndex:
        """The live generation's index, for benches and tests that look inside."""
        return self._current().index

    def _current(self) -> Live:
        """The generation to answer from: the live one of the index folder. A build or update since this
        retriever opened (another process's, e.g. `ask.py index update` beside `ask.py serve`) is switched
        to between questions; a question already under way finishes on the generation it started on."""
        live = self._live
        name = live_generation(live.index.path.parent)
        if name is None or name == live.index.path.name:
            return live
        with self._switch_lock:
            if self._live is live:
                self._live = self._next(live)
            return self._live

    def _next(self, live: Live) -> Live:
        """The new live generation when it loads and suits this retriever's encoder; else the one we have."""
        try:
            stored = read_index(live.index.path.parent)
        except IndexDamagedError:
            return live
        if stored is None or (stored.manifest.model.name, stored.manifest.model.dim) != (
            live.index.manifest.model.name,
            live.index.manifest.model.dim,
        ):
            return live
        if self._engine is not None:
            # the mirror follows the new generation before a question uses it; when it cannot (another index
            # writes it), questions are answered from the generation itself, with a warning (_candidates)
            with contextlib.suppress(StoreMismatchError):
                self._engine.sync(stored)
        return Live.of(stored, self._shown_docs)

    def search(
        self,
        question: str,
        k: int = 3,
        mode: str = DEFAULT_MODE,
        *,
        source: str | None = None,
        since: str | None = None,
        until: str | None = None,
        group_copies: bool = True,
        article: str | None = None,
    ) -> SearchResult:
        """The `k` passages that best answer `question`, best first (ties broken by corpus order).

        `mode` is "hybrid" (BM25 and dense ranks fused, the default), "dense" or "bm25". `source` keeps
        documents whose publisher, byline, title or path contains it (case-insensitive); `since` and
        `until` (YYYY-MM-DD, inclusive) keep documents published in that range, so documents without a
        date are left out when either is given. With `group_copies`, a passage that another document
        carries too (wire copy) is shown once, with the others in `Hit.also_in`. `article` (a document key:
        a follow-up's topic article, `Turn.article`) is read first: the reader reads its candidate passages
        before the others and prefers the answer it finds there.
        """
        question, k, mode = check_question(question), check_k(k), check_mode(mode)
        if source is not None:
            check_text(source, "source")
        live = self._current()  # one generation for the whole question
        index = live.index
        since, until = check_date(since, "since"), check_date(until, "until")
        allowed = allowed_rows(index, live.sources, source, since, until)
        total = index.count if allowed is None else len(allowed)
        if total == 0:
            self._confirmed(live)
            reason = why_empty(index, live.sources, source, since, until)
            return SearchResult(question=question, hits=[], answered=False, empty_reason=reason)
        with self._damage_guard(live):
            filters, depth = Filters.of(source, since, until, allowed), depth_for(k, total)
            vector, found, mirror_warning = self._candidates(index, question, mode, depth, allowed, filters)
            fused, readings, probabilities = self._reread(index, question, found.fused(mode), article)
            ranked = in_corpus_order(by_score(fused), shown_window(k), live.corpus_positions)
            # the evidence always looks at the top EVIDENCE_HITS (what abstention was fitted on), whatever k is
            folded = live.folder.fold(
                ranked, fused, found, wanted=max(k, EVIDENCE_HITS), batch=shown_window(k), group_copies=group_copies
            )
        copy_docs = {passage.id: passage.doc_key for passage in folded.copies}
        hits, rows, warnings = self._verified(live, folded.hits, folded.rows, copy_docs)
        if mirror_warning is not None:
            warnings.append(mirror_warning)
        if not hits:
            self._confirmed(live)
            reason = (
                "every passage found was left out (the warnings say why)"
                if warnings
                else "no passage holds any of the question's words"  # BM25 alone finds only passages with one
            )
            return SearchResult(question=question, hits=[], answered=False, warnings=warnings, empty_reason=reason)
        self._remember_shown(folded.copies)
        result = self._answer(live, question, vector, hits, rows, k, readings, probabilities)
        self._confirmed(live)  # the large files' background check ran meanwhile: no answer before its verdict
        return replace(result, warnings=warnings) if warnings else result

    def _reread(
        self, index: StoredIndex, question: str, fused: dict[int, float], article: str | None
    ) -> tuple[dict[int, float], dict[int, Reading], dict[int, float]]:
        """The scores to rank by, the reader's readings and its probabilities (the fused scores alone, and no
        readings, without a reader)."""
        if self._reader is None or self._reader_fit is None:
            return fused, {}, {}
        return reread(self._reader, self._reader_fit, index, question, fused, article)

    def _candidates(
        self, index: StoredIndex, question: str, mode: str, depth: int, allowed: np.ndarray | None, filters: Filters
    ) -> tuple[np.ndarray, Candidates, str | None]:
        """The question's vector and candidates, from the Milvus mirror when there is one; from the generation
        itself, with a warning, when the mirror's rows are no longer this generation's passages."""
        try:
            vector, found = gather(index, question, self._encode, mode, depth, allowed, self._engine, filters)
            return vector, found, None
        except StoreOutOfStepError as exc:
            assert self._engine is not None
            warning = (
                f"answered from the local index: the Milvus mirror ({self._engine.target}) is out of step ({exc};"
                " `ask.py index update --store` from the index that should own it brings it back)"
            )
            vector, found = gather(index, question, self._encode, mode, depth, allowed)
            return vector, found, warning

    def _confirmed(self, live: Live) -> None:
        """Raise IndexDamagedError (the generation marked, so that the next use rebuilds) when the background
        check of the index's large files found one that differs from its build."""
        try:
            live.index.confirm()
        except IndexDamagedError as exc:
            raise damaged(live.index.path, str(exc)) from None

    @contextlib.contextmanager
    def _damage_guard(self, live: Live) -> Iterator[None]:
        """Index files that passed their load checks yet hold what no build wrote (an index from before
        checksums, damage in an unsampled part of a large file) fail here with a low-level error: that
        becomes IndexDamagedError, and the generation is marked so that the next use rebuilds it."""
        try:
            yield
        except _EncoderError as exc:  # the question's encoder failed: not the index
            assert exc.__cause__ is not None
            raise exc.__cause__ from None
        except (KeyError, IndexError, ValueError, OverflowError, RuntimeError, sqlite3.DatabaseError) as exc:
            reason = f"{type(exc).__name__} while reading it: {str(exc).splitlines()[0][:100] if str(exc) else ''}"
            raise damaged(live.index.path, reason) from exc

    def _verified(
        self, live: Live, hits: list[Hit], rows: list[int], copy_docs: dict[str, str]
    ) -> tuple[list[Hit], list[int], list[str]]:
        """The hits whose passage is the exact slice of its file now (copies too: of unchanged documents),
        renumbered; and one line per file whose passages were left out, saying why."""
        kept: list[Hit] = []
        kept_rows: list[int] = []
        found: list[Mismatch] = []
        for hit, row in zip(hits, rows, strict=True):
            mismatch = live.check.mismatch(hit.passage)
            if mismatch is not None:
                found.append(mismatch)
                continue
            copies = [(a, live.check.document_changed(copy_docs.get(a.passage_id, ""))) for a in hit.also_in]
            found.extend(m for _, m in copies if m is not None)
            also_in = tuple(a for a, m in copies if m is None)
            kept.append(replace(hit, rank=len(kept) + 1, also_in=also_in))
            kept_rows.append(row)
        return kept, kept_rows, self._report(live, found)

    def _report(self, live: Live, found: list[Mismatch]) -> list[str]:
        """One line per file and cause; a damaged generation is marked so that the next use rebuilds it."""
        lines: dict[tuple[str, str], str] = {}
        for mismatch in found:
            shown = live.sources[mismatch.doc_key].path if mismatch.doc_key in live.index.documents else "?"
            lines.setdefault((mismatch.kind, shown), _LEFT_OUT[mismatch.kind].format(path=shown))
        damaged = [m for m in found if m.kind == DAMAGED]
        if damaged and not live.damaged:
            live.damaged = True
            reason = f"passage {damaged[0].passage_id} of {damaged[0].relpath or damaged[0].doc_key}"
            if not mark_damaged(live.index.path, reason):
                where = live.index.path.parent
                lines[(DAMAGED, "")] = f"the index in {where} is read-only, so it cannot be marked damaged: rebuild it"
        return list(lines.values())

    def _answer(
        self,
        live: Live,
        question: str,
        vector: np.ndarray,
        hits: list[Hit],
        rows: list[int],
        k: int,
        readings: dict[int, Reading],
        probabilities: dict[int, float],
    ) -> SearchResult:
        """The first `k` hits highlighted, the evidence of the first EVIDENCE_HITS, the values of the first `k`."""
        asked = question_of(question)
        marked, scored = highlight_hits(live.index, asked, vector, hits, rows)
        # the evidence is that of the top EVIDENCE_HITS, whatever k is: confidence must not move with --top
        top = slice(0, EVIDENCE_HITS)
        evidence = evidence_of(
            (passage_cosine(live.index, vector, hit, row) for hit, row in zip(hits[top], rows[top], strict=True)),
            (best.cosine if best else 0.0 for best in scored[top]),
            (overlap(asked, hit.passage.text) for hit in hits[top]),
        )
        if readings and self._reader_fit is not None:
            read = [(readings.get(row), probabilities.get(row)) for row in rows[:k]]
            result = read_answer(question, marked[:k], read, evidence, self._reader_fit)
            self._remember_shown(hit.passage for hit in result.hits)
            return result
        shown = marked[:k]
        self._remember_shown(hit.passage for hit in shown)
        values, said = values_of(asked, shown), answered(evidence)
        return SearchResult(
            question=question,
            hits=shown,
            answered=said,
            confidence=confidence(evidence),
            evidence=evidence,
            values=values,
            answer=answer_of(asked, shown, values, said),
        )

    def search_many(
        self,
        questions: Sequence[str],
        k: int = 3,
        mode: str = DEFAULT_MODE,
        *,
        source: str | None = None,
        since: str | None = None,
        until: str | None = None,
        group_copies: bool = True,
        batch: int = 64,
    ) -> Iterator[SearchResult]:
        """`search` for many questions, their vectors computed in batches (much faster on a CPU)."""
        check_k(k)
        check_mode(mode)
        for position in range(0, len(questions), batch):
            chunk = [check_question(question) for question in questions[position : position + batch]]
            vectors = self._embedder.embed([q.strip() for q in chunk])
            for question, vector in zip(chunk, vectors, strict=True):
                self._remember(question, vector)
                yield self.search(question, k, mode, source=source, since=since, until=until, group_copies=group_copies)

    def _encode(self, question: str) -> np.ndarray:
        """The question's vector; what fails in the encoder is told apart from a damaged index."""
        try:
            return self._question_vector(question)
        except Exception as exc:
            raise _EncoderError from exc

    def _question_vector(self, question: str) -> np.ndarray:
        """The question's vector (one row); the last questions are remembered, e.g. across modes."""
        vector = self._vector_cache.get(question.strip())
        if vector is None:
            vector = self._embedder.embed([question.strip()])[0]
            self._remember(question, vector)
        return vector

    def _remember(self, question: str, vector: np.ndarray) -> None:
        with self._cache_lock:  # the HTTP server shares one retriever between threads
            while len(self._vector_cache) >= 64:
                self._vector_cache.pop(next(iter(self._vector_cache)), None)
            self._vector_cache[question.strip()] = vector

    @property
    def document_count(self) -> int:
        """How many documents the index holds."""
        return len(self._current().index.documents)

    @property
    def corpus_name(self) -> str:
        """The corpus as a page names it: its folder's or .jsonl file's name (`seeds`, `news.jsonl`)."""
        root = self._current().index.manifest.corpus.root or self._shown_docs
        return Path(root).name or Path(self._shown_docs).resolve().name or "corpus"

    def documents(self) -> list[IndexedDocument]:
        """Every indexed document in corpus order, with its source and passage count (no passage is read)."""
        live = self._current()
        counts = live.index.passage_counts()
        return [IndexedDocument(key, live.sources[key], counts.get(key, 0)) for key in live.index.documents]

    def source(self, doc_key: str) -> Source:
        """How a document is shown: path, record id, headline, publisher, date, byline."""
        return self._current().sources[doc_key]

    def document_passages(self, doc_key: str) -> list[Passage]:
        """One document's passages in text order ([] for an unknown key, or a file that no longer holds them)."""
        live = self._current()
        self._confirmed(live)
        passages = [passage for _, passage in live.index.document_passages(doc_key)]
        if any(live.check.mismatch(passage) is not None for passage in passages):
            return []  # the file changed or the index is damaged: no passage of it is shown
        return passages

    def passage_context(self, passage_id: str, before: int | None = 2, after: int | None = 2) -> PassageContext | None:
        """The passage with this id among `before` and `after` passages of its article on each side (None: all
        of them), in text order; None when the index has no such passage or its file no longer holds it."""
        found = self.passage(passage_id)
        return None if found is None else self.context_of(found, before, after)

    def context_of(self, found: Passage, before: int | None = 2, after: int | None = 2) -> PassageContext | None:
        """`found` (already looked up) among its neighbours, as `passage_context` (None: no longer in its file)."""
        return around(found, self.document_passages(found.doc_key), self.source(found.doc_key), before, after)

    def passage(self, passage_id: str) -> Passage | None:
        """The stored passage with this id (from a hit or an `also_in`), None when the index has none or its
        file no longer holds it.

        Passages shown in recent answers are found at once; any other id costs a scan of the passage table
        (ids are not indexed in the format-4 database: ~27 ms per 100k passages when cached by the OS).
        """
        live = self._current()
        self._confirmed(live)
        with self._cache_lock:
            known = self._shown.get(passage_id)
        if known is None:
            found = live.index.passage_with_id(passage_id)
            known = found[1] if found is not None else None
        if known is None or known.doc_key not in live.index.documents or live.check.mismatch(known) is not None:
            return None
        return known

    def _remember_shown(self, passages: Iterable[Passage]) -> None:
        with self._cache_lock:
            for passage in passages:
                self._shown.pop(passage.id, None)
                self._shown[passage.id] = passage
            while len(self._shown) > SHOWN_PASSAGES:
                self._shown.pop(next(iter(self._shown)))

    def passages(self, warnings: list[str] | None = None) -> Iterator[tuple[Passage, Source]]:
        """Every indexed passage with its source, in index order: those that are their file's exact slice
        now; one line per file left out is added to `warnings` when given."""
        live = self._current()
        self._confirmed(live)
        left_out: list[Mismatch] = []
        for _, passage in live.index.iter_passages():
            mismatch = live.check.mismatch(passage)
            if mismatch is None:
                yield passage, live.sources[passage.doc_key]
            else:
                left_out.append(mismatch)
        if warnings is not None:
            warnings.extend(self._report(live, left_out))


class _EncoderError(Exception):
    """Carries an error of the question's encoder through the index's damage guard (as its cause)."""


def _synced(engine: MilvusStore, stored: StoredIndex, reporter: Reporter | None) -> None:
    """Bring the Milvus mirror in step with `stored` (a message when it changed)."""
    report = engine.sync(stored)
    if reporter is not None and report.changed:
        reporter.info(f"Milvus ({engine.target}): {report.summary()}")
