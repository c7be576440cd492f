"""Retrieval: a question -> ranked passages with their sources. The one library call the fronts use."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path, PurePath

import numpy as np

import qa.storage.vectors as ann
from qa.chunk import ChunkSettings
from qa.embed.onnx import export, query_embedder
from qa.embed.reference import Embedder, SentenceTransformerEmbedder, load_embedder
from qa.errors import BadInputError, EmptyQuestionError
from qa.indexing.build import ensure_index
from qa.paths import default_docs, default_index_dir
from qa.records import AlsoIn, Evidence, Hit, IndexedDocument, Passage, Reporter, SearchResult, Source
from qa.search.abstain import answered, confidence
from qa.search.copies import Copy, DuplicateFinder, stack
from qa.search.highlight import Question, best_sentence, overlap, question_of
from qa.search.values import values_of
from qa.storage.generations import StoredIndex
from qa.text.dates import normalise_date

MAX_K = 1000
MODES = ("hybrid", "dense", "bm25")
DEFAULT_MODE = "hybrid"
# hybrid = DENSE_WEIGHT * cosine + (1 - DENSE_WEIGHT) * BM25, each min-max normalised over its own top
# candidates (a convex combination, Bruch et al. 2023). Measured (bench/retrieval.py, README): it beats
# reciprocal-rank fusion by 4 points of recall@1 on SQuAD, where RRF fell below BM25 alone.
DENSE_WEIGHT = 0.6
EVIDENCE_HITS = 3  # abstention weighs the top 3 hits: qa/abstain.py was fitted on results of k=3
_MIN_DEPTH = 100  # candidates taken from each retriever before fusion
_LEXICAL_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="bm25")


class Retriever:
    """Answers questions from one corpus with verbatim passages. Thread-safe once opened."""

    def __init__(self, index: StoredIndex, embedder: Embedder, shown_docs: str) -> None:
        self._index = index
        self._embedder = embedder
        self._shown_docs = shown_docs
        self._kind = index.manifest.get("corpus", {}).get("kind", "folder")
        self._sources = _OnDemand(self._source)  # built per document when first shown: cold starts stay short
        self._doc_order = _OnDemand(lambda _: {key: i for i, key in enumerate(index.documents)})
        self._duplicates = DuplicateFinder(index)
        self._vector_cache: dict[str, np.ndarray] = {}  # question -> vector, the last few questions
        self._cache_lock = threading.Lock()

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
    ) -> Retriever:
        """Open (building or updating if needed) the index of `docs` (folder or .jsonl; default seeds/).

        `index` is the index folder (default: one per corpus under index/); `model` a local
        sentence-transformers folder (default: the bundled all-MiniLM-L6-v2); `backend` the encoder a build
        uses for new passages ("auto": the fastest accurate one, see qa/bulk.py).
        """
        docs_path = Path(docs) if docs is not None else default_docs()
        index_dir = Path(index) if index is not None else default_index_dir(docs_path)
        embedder = embedder or load_embedder(model)
        stored = ensure_index(
            docs_path,
            index_dir,
            embedder,
            chunking or ChunkSettings(),
            rebuild=rebuild,
            reporter=reporter,
            shown_docs=str(docs_path),
            backend=backend,
        )
        if isinstance(embedder, SentenceTransformerEmbedder) and (embedder.loaded or "torch" in sys.modules):
            # torch is in memory anyway (a build, whatever its encoder): make the torch-free query path ready
            export(embedder.path)
        return cls(stored, query_embedder(embedder), str(docs_path))

    @property
    def index_path(self) -> Path:
        return self._index.path

    def __len__(self) -> int:
        return self._index.count

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
    ) -> SearchResult:
        """The `k` passages that best answer `question`, best first (ties broken by corpus order).

        `mode` is "hybrid" (BM25 and dense ranks fused, the default), "dense" or "bm25". `source` keeps
        documents whose publisher, byline, title or path contains it (case-insensitive); `since` and
        `until` (YYYY-MM-DD, inclusive) keep documents published in that range, so documents without a
        date are left out when either is given. With `group_copies`, a passage that another document
        carries too (wire copy) is shown once, with the others in `Hit.also_in`.
        """
        if not isinstance(question, str) or not question.strip():
            raise EmptyQuestionError()
        if not 1 <= k <= MAX_K:
            raise BadInputError(f"k must be between 1 and {MAX_K}, got {k}")
        if mode not in MODES:
            raise BadInputError(f"unknown mode {mode!r}; choose one of: {', '.join(MODES)}")
        allowed = self._allowed_rows(source, _date_bound(since, "since"), _date_bound(until, "until"))
        total = self._index.count if allowed is None else len(allowed)
        if total == 0:
            return SearchResult(question=question, hits=[], answered=False)
        depth = min(total, max(_MIN_DEPTH, 10 * k))
        # BM25 runs beside the question's encoding and the vector search (both release the GIL)
        pending = _LEXICAL_POOL.submit(self._lexical, question, depth, allowed) if mode != "dense" else None
        vector = self._question_vector(question)
        dense = self._dense(vector, depth, allowed) if mode != "bm25" else {}
        lexical = pending.result() if pending is not None else {}
        if mode == "dense":
            fused = {row: score for row, (_, score) in dense.items()}
        elif mode == "bm25":
            fused = {row: score for row, (_, score) in lexical.items()}
        else:
            fused = _convex(_min_max(dense), _min_max(lexical), DENSE_WEIGHT)
        ranked = self._in_corpus_order(sorted(fused.items(), key=lambda pair: (-pair[1], pair[0])), 4 * k + 8)
        hits: list[Hit] = []
        hit_rows: list[int] = []
        covered: list[tuple[str, int, int]] = []  # stretches already shown, as hits or as their copies
        fetched: dict[int, Passage] = {}
        near: tuple[np.ndarray, np.ndarray] | None = None
        for position, (row, score) in enumerate(ranked):
            if row not in fetched:  # passages come from disk, a few at a time
                fetched.update(self._index.passages(r for r, _ in ranked[position : position + 4 * k + 8]))
            passage = fetched[row]
            if _overlaps(covered, passage.doc_key, passage.start, passage.end):
                continue
            if group_copies and near is None:
                near = stack(self._index.vectors_of(fused))  # once per question: candidates for wire copies
            copies = self._duplicates.copies(row, near) if group_copies else []
            earlier = next((h for h in hits for c in copies if _same_stretch(h.passage, c)), None)
            if earlier is not None:
                # a copy of a passage already shown: list it under that one instead of showing it again
                similarity = max(c.similarity for c in copies if _same_stretch(earlier.passage, c))
                also = AlsoIn(
                    self._sources[passage.doc_key],
                    passage.id,
                    passage.start,
                    passage.end,
                    passage.line_start,
                    passage.line_end,
                    similarity,
                    passage.text,
                )
                hits[earlier.rank - 1] = replace(earlier, also_in=(*earlier.also_in, also))
                covered.append((passage.doc_key, passage.start, passage.end))
                continue
            covered.append((passage.doc_key, passage.start, passage.end))
            covered.extend((c.doc_key, c.start, c.end) for c in copies)
            hit_rows.append(row)
            hits.append(
                Hit(
                    rank=len(hits) + 1,
                    score=float(score),
                    passage=passage,
                    source=self._sources[passage.doc_key],
                    dense_score=dense[row][1] if row in dense else None,
                    bm25_score=lexical[row][1] if row in lexical else None,
                    also_in=tuple(self._also_in(c) for c in copies),
                )
            )
            if len(hits) == max(k, EVIDENCE_HITS):
                break
        if not hits:
            return SearchResult(question=question, hits=[], answered=False)
        asked = question_of(question)
        # the evidence always looks at the top EVIDENCE_HITS (what abstention was fitted on), whatever k is
        hits, evidence = self._highlighted(asked, vector, hits, hit_rows)
        hits = hits[:k]
        return SearchResult(
            question=question,
            hits=hits,
            answered=answered(evidence),
            confidence=confidence(evidence),
            evidence=evidence,
            values=values_of(asked, hits),
        )

    def _in_corpus_order(self, ranked: list[tuple[int, float]], window: int) -> list[tuple[int, float]]:
        """Equal scores among the first `window` ordered by document order and offset, not by row.

        Rows follow the history of updates (a re-indexed document gets new ones); the corpus order does not,
        so the same corpus gives the same answer however it was indexed.
        """
        head = ranked[:window]
        begin = 0
        while begin < len(head):
            end = begin
            while end + 1 < len(head) and head[end + 1][1] == head[begin][1]:
                end += 1
            if end > begin:
                group = head[begin : end + 1]
                found = self._index.passages(row for row, _ in group)
                order = self._doc_order[None]
                group.sort(key=lambda pair: (order[found[pair[0]].doc_key], found[pair[0]].start))
                head[begin : end + 1] = group
            begin = end + 1
        return head + ranked[window:]

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
        for position in range(0, len(questions), batch):
            chunk = list(questions[position : position + batch])
            for question in chunk:
                if not isinstance(question, str) or not question.strip():
                    raise EmptyQuestionError()
            vectors = self._embedder.embed([q.strip() for q in chunk])
            for question, vector in zip(chunk, vectors, strict=True):
                self._remember(question, vector)
                yield self.search(question, k, mode, source=source, since=since, until=until, group_copies=group_copies)

    def _highlighted(
        self, asked: Question, vector: np.ndarray, hits: list[Hit], rows: list[int]
    ) -> tuple[list[Hit], Evidence]:
        """Each hit with its best sentence marked, and the evidence the hits give together."""
        marked = []
        passage_cosine = sentence_cosine = coverage = 0.0
        for hit, row in zip(hits, rows, strict=True):
            scored = best_sentence(asked, vector, hit.passage, self._index.sentences_of(row))
            marked.append(replace(hit, highlight=scored.highlight if scored else None))
            cosine = hit.dense_score if hit.dense_score is not None else self._cosine(vector, row)
            passage_cosine = max(passage_cosine, cosine)
            sentence_cosine = max(sentence_cosine, scored.cosine if scored else 0.0)
            coverage = max(coverage, overlap(asked, hit.passage.text))
        return marked, Evidence(passage_cosine, sentence_cosine, coverage)

    def _cosine(self, vector: np.ndarray, row: int) -> float:
        return float(self._index.vectors_of([row])[row] @ vector)

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

    def _also_in(self, copy: Copy) -> AlsoIn:
        return AlsoIn(
            source=self._sources[copy.doc_key],
            passage_id=self._index.passage(copy.row).id,
            start=copy.start,
            end=copy.end,
            line_start=copy.line_start,
            line_end=copy.line_end,
            similarity=copy.similarity,
            text=self._stretch_text(copy),
        )

    def _stretch_text(self, copy: Copy) -> str:
        parts = []
        row = copy.row
        while True:
            try:
                p = self._index.passage(row)
            except KeyError:
                break
            if p.doc_key != copy.doc_key or p.start >= copy.end:
                break
            parts.append(p.text[max(copy.start, p.start) - p.start : min(copy.end, p.end) - p.start])
            row += 1  # a document's passages have consecutive rows, in text order
        return " ".join(parts)

    def _allowed_rows(self, source: str | None, since: str | None, until: str | None) -> np.ndarray | None:
        """Rows of the passages whose documents pass the filters; None when there are no filters."""
        if source is None and since is None and until is None:
            return None
        needle = source.casefold().strip() if source is not None else None
        keys = set()
        for key, meta in self._index.documents.items():
            shown = self._sources[key]
            if needle is not None:
                fields = (meta.publisher, meta.byline, meta.title, shown.path, meta.source_id)
                if not any(needle in field.casefold() for field in fields if field):
                    continue
            if since is not None and (meta.published is None or meta.published < since):
                continue
            if until is not None and (meta.published is None or meta.published > until):
                continue
            keys.add(key)
        return self._index.rows_of_documents(keys)

    def _dense(self, vector: np.ndarray, depth: int, allowed: np.ndarray | None) -> dict[int, tuple[int, float]]:
        """row -> (1-based rank, cosine similarity) of the `depth` nearest passages (among `allowed`)."""
        scores, rows = ann.search(self._index.vectors, vector, depth, allowed)
        if self._index.ann.kind != "flat":  # 8-bit codes rank the candidates; their exact cosines score them
            exact = self._index.vectors_of(int(r) for r in rows[0] if r >= 0)
            scores = np.array([[float(exact[int(r)] @ vector) if r >= 0 else -1.0 for r in rows[0]]])
        pairs = sorted(
            ((int(r), float(s)) for r, s in zip(rows[0], scores[0], strict=True) if r >= 0),
            key=lambda pair: (-pair[1], pair[0]),
        )
        return {row: (rank, score) for rank, (row, score) in enumerate(pairs, start=1)}

    def _lexical(self, question: str, depth: int, allowed: np.ndarray | None) -> dict[int, tuple[int, float]]:
        """row -> (1-based rank, BM25 score) of the best `depth` passages sharing a word with the question."""
        rows, scores = self._index.lexical.search(question, depth, allowed)
        pairs = sorted(
            ((int(r), float(s)) for r, s in zip(rows, scores, strict=True)), key=lambda pair: (-pair[1], pair[0])
        )
        return {row: (rank, score) for rank, (row, score) in enumerate(pairs, start=1)}

    @property
    def document_count(self) -> int:
        """How many documents the index holds."""
        return len(self._index.documents)

    def documents(self) -> list[IndexedDocument]:
        """Every indexed document in corpus order, with its source and passage count (no passage is read)."""
        counts = self._index.passage_counts()
        return [IndexedDocument(key, self._sources[key], counts.get(key, 0)) for key in self._index.documents]

    def source(self, doc_key: str) -> Source:
        """How a document is shown: path, record id, headline, publisher, date, byline."""
        return self._sources[doc_key]

    def document_passages(self, doc_key: str) -> list[Passage]:
        """One document's passages in text order ([] for an unknown key)."""
        return [passage for _, passage in self._index.document_passages(doc_key)]

    def passage(self, passage_id: str) -> Passage | None:
        """The stored passage with this id (from a hit or an `also_in`), None when the index has none."""
        found = self._index.passage_with_id(passage_id)
        return found[1] if found is not None else None

    def passages(self) -> Iterator[tuple[Passage, Source]]:
        """Every indexed passage with its source, in index order."""
        for _, passage in self._index.iter_passages():
            yield passage, self._sources[passage.doc_key]

    def _source(self, key: str) -> Source:
        meta = self._index.documents[key]
        if self._kind == "folder":
            path = str(PurePath(self._shown_docs) / meta.path)
        else:
            path = self._shown_docs
        return Source(
            path=path,
            id=meta.source_id,
            title=meta.title,
            publisher=meta.publisher,
            published=meta.published,
            byline=meta.byline,
        )


class _OnDemand(dict):
    """A dict whose missing values are made by `make(key)` on first use and kept."""

    def __init__(self, make) -> None:  # noqa: ANN001
        super().__init__()
        self._make = make

    def __missing__(self, key):  # noqa: ANN001, ANN204
        value = self[key] = self._make(key)
        return value


def _min_max(ranking: dict[int, tuple[int, float]]) -> dict[int, float]:
    """Scores scaled to [0, 1] over one retriever's candidates (all 1.0 when they tie)."""
    if not ranking:
        return {}
    scores = [score for _, score in ranking.values()]
    low, high = min(scores), max(scores)
    if high <= low:
        return {row: 1.0 for row in ranking}
    return {row: (score - low) / (high - low) for row, (_, score) in ranking.items()}


def _convex(dense: dict[int, float], lexical: dict[int, float], weight: float) -> dict[int, float]:
    """weight * dense + (1 - weight) * lexical; a passage one retriever did not return gets 0 from it."""
    return {
        row: weight * dense.get(row, 0.0) + (1 - weight) * lexical.get(row, 0.0)
        for row in dense.keys() | lexical.keys()
    }


def _overlaps(stretches: list[tuple[str, int, int]], doc_key: str, start: int, end: int) -> bool:
    return any(key == doc_key and start < s_end and s_start < end for key, s_start, s_end in stretches)


def _same_stretch(passage: Passage, copy: Copy) -> bool:
    return copy.doc_key == passage.doc_key and copy.start < passage.end and passage.start < copy.end


def _date_bound(value: str | None, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value.strip()) != 10 or normalise_date(value) != value.strip():
        raise BadInputError(f"{name} must be a date as YYYY-MM-DD, got {value!r}")
    return value.strip()
