"""Milvus filter expressions: the ``source`` and date filters, and quoted literals (user input never reaches an
expression unquoted)."""

from __future__ import annotations

from collections.abc import Sequence

from qa.inputs import check_date
from qa.records import DocumentMeta


def haystack(meta: DocumentMeta) -> str:
    """What the ``source`` filter searches: the casefolded fields qa/search/filters.py matches, one a line."""
    fields = (meta.publisher, meta.byline, meta.title, meta.path, meta.source_id)
    return "\n".join(field.casefold() for field in fields if field)


def filter_expression(
    source: str | None, since: str | None, until: str | None, rows: Sequence[int] | None = None
) -> str:
    """The Milvus expression keeping the passages of documents whose publisher, byline, title, path or record
    id contains `source` (case-insensitive) and dated `since`..`until` (YYYY-MM-DD, inclusive; documents
    without a date left out when either is given), and, when `rows` is given, only those rows (the reader
    worked out which passages `source` keeps: its paths are shown with the corpus folder in front, which the
    mirror does not store); "" when there are no filters."""
    parts = [f"row in [{','.join(str(int(row)) for row in rows)}]"] if rows is not None else []
    if source is not None:
        needle = source.casefold().strip()
        parts.append(f"haystack_lc like {_literal('%' + _like_pattern(needle) + '%')}")
    since, until = check_date(since, "since"), check_date(until, "until")  # the library's one date rule
    if since is not None:
        parts.append(f'published >= "{since}"')  # "" (no date) sorts before every date
    if until is not None:
        parts.append(f'published != "" and published <= "{until}"')
    return " and ".join(parts)


def _like_pattern(needle: str) -> str:
    """`needle` matched literally by ``like``; a backslash matches any one character (see the docstring)."""
    out = []
    for char in needle:
        if char in "%_":
            out.append("\\" + char)
        elif char == "\\":
            out.append("_")
        else:
            out.append(char)
    return "".join(out)


def _literal(text: str) -> str:
    """A double-quoted Milvus string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def quoted_list(values: list[str]) -> str:
    return "[" + ", ".join(_literal(value) for value in values) + "]"
