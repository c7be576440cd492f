"""Presentation: search results as readable terminal text or as the stable JSON contract."""

from __future__ import annotations

import json
import re
import textwrap
from typing import Any

from rich.console import Console
from rich.text import Text

from .records import Hit, Passage, SearchResult, Source

_BLANK_RUNS = re.compile(r"\n[ \t\r]*(?:\n[ \t\r]*)+")


def result_json(result: SearchResult, question_id: Any = None, *, with_id: bool = False) -> str:
    """One line of JSON; `id` first when echoing a --questions record."""
    payload = result.to_dict()
    if with_id:
        payload = {"id": question_id, **payload}
    return json.dumps(payload, ensure_ascii=False)


def passage_json(passage: Passage, source: Source) -> str:
    return json.dumps(
        {
            "id": passage.id,
            "path": source.path,
            "source_id": source.id,
            "start": passage.start,
            "end": passage.end,
            "line_start": passage.line_start,
            "line_end": passage.line_end,
            "text": passage.text,
        },
        ensure_ascii=False,
    )


def source_label(source: Source) -> str:
    """'Title · Publisher · 2022-01-14 · Reuters', whichever parts are known."""
    return " · ".join(part for part in (source.title, source.publisher, source.published, source.byline) if part)


def also_in_line(hit: Hit) -> str | None:
    """'also in: Daily Sabah, seeds/001.txt:116-118; ...' for the other documents carrying this text."""
    if not hit.also_in:
        return None
    parts = []
    for other in hit.also_in:
        name = other.source.publisher or other.source.title
        where = location(other.source, other.line_start, other.line_end)
        parts.append(f"{name}, {where}" if name else where)
    return "also in: " + "; ".join(parts)


def location(source: Source, line_start: int, line_end: int) -> str:
    where = source.path + (f"#{source.id}" if source.id else "")
    lines = f"{line_start}" if line_start == line_end else f"{line_start}-{line_end}"
    return f"{where}:{lines}"


def render_result(console: Console, result: SearchResult, *, show_question: bool = False) -> None:
    if show_question:
        console.print(Text(result.question, style="bold"), soft_wrap=True)
    if not result.hits:
        console.print(Text("No passages found.", style="yellow"))
        return
    width = max(40, min(console.width, 100) - _INDENT_WIDTH)
    for hit in result.hits:
        header = Text()
        header.append(f"[{hit.rank}] ", style="bold cyan")
        header.append(f"score {hit.score:.3f}{_parts(hit)}", style="dim")
        label = source_label(hit.source)
        if label:
            header.append("  " + label, style="bold")
        console.print(header, soft_wrap=True)
        console.print(Text(_INDENT + location(hit.source, hit.line_start, hit.line_end), style="cyan"), soft_wrap=True)
        console.print(Text(_wrap(hit.text, width)), soft_wrap=True)
        also = also_in_line(hit)
        if also:
            console.print(Text(_wrap(also, width), style="magenta"), soft_wrap=True)
        console.print()


def _parts(hit: Hit) -> str:
    """The cosine and BM25 behind a fused score, so a reader can judge the match."""
    parts = []
    if hit.dense_score is not None and hit.dense_score != hit.score:
        parts.append(f"cosine {hit.dense_score:.2f}")
    if hit.bm25_score is not None and hit.bm25_score != hit.score:
        parts.append(f"bm25 {hit.bm25_score:.1f}")
    return f" ({', '.join(parts)})" if parts else ""


_INDENT = "    "
_INDENT_WIDTH = len(_INDENT)


def _wrap(text: str, width: int) -> str:
    """Indent and wrap each line for reading; the terminal also folds runs of blank lines."""
    lines = []
    for line in _BLANK_RUNS.sub("\n\n", text).split("\n"):
        wrapped = textwrap.wrap(line, width=width, break_long_words=False, break_on_hyphens=False)
        if wrapped:
            lines.extend(_INDENT + part for part in wrapped)
        else:
            lines.append("")
    return "\n".join(lines)
