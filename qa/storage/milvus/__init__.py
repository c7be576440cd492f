"""Milvus as a serving engine: a mirror of one built index generation, searched by Milvus (issue 17).

The package: target.py (where a store is), schema.py (its collections), entities.py (what a passage and a
document record are), expressions.py (filters), sync.py (mirroring a generation), store.py (MilvusStore).

The embedded store (qa/storage/generations.py: SQLite + FAISS + bm25s arrays) stays the reference: builds
write it, and `MilvusStore.sync(index)` copies a loaded generation into a Milvus collection, incrementally
(documents whose key, metadata and rows are already there are kept; gone or changed ones are deleted by
`doc_key in [...]`; new ones inserted a batch at a time). Nothing is ever built in Milvus first.

Targets (`MilvusTarget.parse`): ``milvus:PATH.db`` is Milvus Lite, embedded in this process (milvus-lite 3,
pure Python; one process per .db); ``milvus://HOST:PORT`` a Milvus server. A ``#name`` suffix picks the
collection (default ``newsqa``); the store also keeps ``<name>_meta`` (see below).

Collection ``<name>``, one entity per passage:

- ``row`` INT64 primary key: the generation's row (so hits map straight back to the embedded store).
- ``passage_id``, ``doc_key``, ``doc_sha``, ``path``, ``source_id``, ``title``, ``publisher``, ``byline``,
  ``published`` VARCHAR ("" for a missing value; ``published`` is YYYY-MM-DD, so range filters compare
  strings), and ``haystack_lc``: the casefolded publisher, byline, title, path and record id joined by
  newlines, the fields qa/search/filters.py matches ``source`` in (Milvus's ``like`` is case-sensitive and
  has no lower()).
- ``start``, ``end``, ``line_start``, ``line_end`` INT64; ``text`` VARCHAR, the passage verbatim.
- ``terms`` VARCHAR: the passage's BM25 words exactly as qa/storage/bm25.py tokenises them (lower-cased,
  bm25s's token pattern and stoplist, Snowball stems) joined by spaces, analysed by splitting only
  (``whitespace`` on a server; Lite has only ``standard``, which on these lower-case ``\\w+`` stems splits
  the same), feeding a BM25 Function into ``sparse`` (SPARSE_FLOAT_VECTOR, SPARSE_INVERTED_INDEX, k1 1.5,
  b 0.75 as ours). Milvus Lite has no stemmer or English stoplist, so the stemming is ours, on both sides.
- ``vector`` FLOAT_VECTOR(dim), metric IP on the L2-normalised vectors (= cosine). Index: FLAT in Lite
  (exact, as FAISS flat; Lite's HNSW costs 10-15 s to build per 20k rows on 2 cores for a few ms a query),
  HNSW (M 16, efConstruction 200, ef max(64, depth)) on a server, where a collection is large enough for
  exhaustive search to cost.
- ``sentence_spans`` VARCHAR (JSON ``[[start, end], ...]``) and ``sentence_vectors`` VARCHAR (base64 of the
  (k, dim) little-endian float16 matrix): the sentence evidence highlights need. Milvus has no
  variable-length binary or multi-vector field that Lite supports (FLOAT16_VECTOR is one vector per entity;
  one entity per sentence would triple the rows and need an index of its own), and a VARCHAR works in every
  Milvus. Measured on the BBC, realtimeqa and SQuAD indexes: at most 11 sentences (11 KiB base64 at dim
  384) and 781 bytes of text per passage, against a VARCHAR limit of 65,535 bytes, checked on every row.

Collection ``<name>_meta`` (VARCHAR key, JSON value, a 2-d placeholder vector Milvus requires): the row
``manifest`` (format, model name and dim, bm25s's stoplist, the generation last synced, counts), and one
``doc:<key>`` row per document (its DocumentMeta, rows and place in the corpus order), from which sync
decides what changed and `documents()` rebuilds the records, documents without passages included.

Known differences from the embedded store:

- BM25 IDF is per segment in Milvus (the Lite README says so; measured: the same text scored 7.09 in one
  flushed segment and 14.18 in another), and the corpus statistics are Milvus's, not bm25s's: lexical
  rankings agree with ours only approximately, and scores differ (Lite returns them negated; they are
  given back positive). There is no ceiling, so no absolute 0-1 BM25 share as in qa/search/ranking.py.
- `hybrid` fuses in Milvus with WeightedRanker(0.5, 0.5), arctan-normalised scores (the closer match to
  our convex combination of absolute scores; RRF, offered too, uses ranks only), and a passage that only
  one leg returned gets 0 from the other; ours reads every candidate's exact missing score.
- The ``source`` filter matches the document's path relative to the corpus, not the shown path with the
  corpus folder in front of it, and a backslash in the needle matches any one character (Lite's ``like``
  mishandles escaped backslashes).
- Equal scores come back in Milvus's order; the Retriever re-orders them by corpus position.
"""

from __future__ import annotations

from qa.errors import StoreMismatchError, StoreOutOfStepError, StoreUnavailableError
from qa.storage.milvus.entities import Found, vector_digest, writer_of
from qa.storage.milvus.expressions import filter_expression, haystack
from qa.storage.milvus.store import MilvusStore
from qa.storage.milvus.sync import SyncReport
from qa.storage.milvus.target import DEFAULT_COLLECTION, MilvusTarget

__all__ = [
    "DEFAULT_COLLECTION",
    "Found",
    "MilvusStore",
    "MilvusTarget",
    "StoreMismatchError",
    "StoreOutOfStepError",
    "StoreUnavailableError",
    "SyncReport",
    "filter_expression",
    "haystack",
    "vector_digest",
    "writer_of",
]
