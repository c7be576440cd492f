"""The two collections' schemas, pymilvus imported on first use, and Milvus's errors in words."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from qa.errors import MissingExtraError, StoreMismatchError, one_line
from qa.storage.milvus.target import MilvusTarget

FORMAT = "newsqa-milvus"

FORMAT_VERSION = 1

MAX_VARCHAR = 65535  # Milvus's longest VARCHAR, in bytes

TEXT_FIELDS = (
    "passage_id",
    "doc_key",
    "doc_sha",
    "path",
    "source_id",
    "title",
    "publisher",
    "byline",
    "published",
    "haystack_lc",
    "text",
    "sentence_spans",
    "sentence_vectors",
)

INT_FIELDS = ("start", "end", "line_start", "line_end")


def passage_schema(pymilvus: Any, client: Any, dim: int, local: bool) -> tuple[Any, Any]:
    """The passage collection: its fields, the BM25 function, and the vector and sparse indexes."""
    DataType = pymilvus.DataType  # noqa: N806 - pymilvus's enum
    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("row", DataType.INT64, is_primary=True)
    for field in TEXT_FIELDS:
        schema.add_field(field, DataType.VARCHAR, max_length=MAX_VARCHAR)
    for field in INT_FIELDS:
        schema.add_field(field, DataType.INT64)
    analyzer = {"tokenizer": "standard"} if local else {"tokenizer": "whitespace"}
    schema.add_field("terms", DataType.VARCHAR, max_length=MAX_VARCHAR, enable_analyzer=True, analyzer_params=analyzer)
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
    schema.add_function(
        pymilvus.Function(
            name="terms_bm25",
            function_type=pymilvus.FunctionType.BM25,
            input_field_names=["terms"],
            output_field_names=["sparse"],
        )
    )
    indexes = client.prepare_index_params()
    if local:
        indexes.add_index("vector", index_type="FLAT", metric_type="IP")
    else:
        indexes.add_index("vector", index_type="HNSW", metric_type="IP", params={"M": 16, "efConstruction": 200})
    indexes.add_index(
        "sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25", params={"bm25_k1": 1.5, "bm25_b": 0.75}
    )
    return schema, indexes


def meta_schema(pymilvus: Any, client: Any) -> tuple[Any, Any]:
    """The `<name>_meta` collection: a key, a JSON value, and the vector field every collection needs."""
    DataType = pymilvus.DataType  # noqa: N806 - pymilvus's enum
    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("key", DataType.VARCHAR, is_primary=True, max_length=MAX_VARCHAR)
    schema.add_field("value", DataType.VARCHAR, max_length=MAX_VARCHAR)
    schema.add_field("placeholder", DataType.FLOAT_VECTOR, dim=2)
    indexes = client.prepare_index_params()
    indexes.add_index("placeholder", index_type="FLAT", metric_type="IP")
    return schema, indexes


def checked(value: str, what: str) -> str:
    if len(value.encode("utf-8")) > MAX_VARCHAR:
        raise StoreMismatchError(f"{what} is longer than Milvus stores ({MAX_VARCHAR} bytes)")
    return value


def import_pymilvus() -> Any:
    """pymilvus, imported on first use (and its loggers, which print a traceback per failed call, quieted)."""
    try:
        import pymilvus
    except ImportError as exc:
        raise MissingExtraError("the Milvus store", "milvus", "pymilvus") from exc
    for name in ("pymilvus", "milvus_lite"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    return pymilvus


def error_types(pymilvus: Any) -> tuple[type[BaseException], ...]:
    """What a failed or timed-out call raises: Milvus's errors, gRPC's (a deadline passed), the network's."""
    import grpc

    return (pymilvus.exceptions.MilvusException, grpc.RpcError, OSError)


def unavailable(target: MilvusTarget, exc: BaseException) -> str:
    if target.local:
        path = Path(target.uri)
        if path.exists() and not path.is_dir():
            return f"{target.uri} is not a Milvus Lite store (it is a file; Milvus Lite keeps a folder)"
        return (
            f"cannot open the Milvus Lite store {target.uri}: another process may hold it (one process per .db;"
            f" run `milvus-lite server` for several), or it cannot be written here ({first_line(exc)})"
        )
    return f"cannot reach the Milvus server at {target.uri} ({first_line(exc)})"


def first_line(exc: BaseException) -> str:
    """The error's own words: a grpc.RpcError's details, a MilvusException's message, else its first line."""
    details = getattr(exc, "details", None)
    message = getattr(exc, "message", None)
    text = details() if callable(details) else message if isinstance(message, str) and message else str(exc)
    return one_line(text or type(exc).__name__, limit=200)


def vector_dim(description: dict[str, Any]) -> int:
    for field in description.get("fields", []):
        if field.get("name") == "vector":
            return int(field.get("params", {}).get("dim", -1))
    return -1
