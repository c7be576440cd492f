"""Presentation: search results as readable terminal text or as the stable JSON contract."""

from __future__ import annotations

import json
import re
import textwrap

from rich.console import Console
from rich.table import Table
from rich.text import Text

from qa.app import NOT_ANSWERED, no_passages, terminal_safe, terminal_safe_offsets
from qa.records import Answer, Document, Extraction, Hit, Passage, Report, SearchResult, Source, ValueSource

_BLANK_RUNS = re.compile(r"\n[ \t\r]*(?:\n[ \t\r]*)+")
# what JSON leaves raw but a terminal acts on (C1 controls, DEL) or reorders by (bidi controls)
_RAW_IN_JSON = re.compile(r"[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def result_json(result: SearchResult, question_id: object = None, *, with_id: bool = False) -> str:
    """One line of JSON; `id` first when echoing a --questions record."""
    payload = result.to_dict()
    if with_id:
        payload = {"id": question_id, **payload}
    return _json_line(payload)


def passage_json(passage: Passage, source: Source) -> str:
    """One line of `--passages`: the passage's fields with its path and record id after the id."""
    fields = passage.to_dict()
    passage_id, text = fields.pop("id"), fields.pop("text")
    return _json_line({"id": passage_id, "path": source.path, "source_id": source.id, **fields, "text": text})


def _json_line(payload: object) -> str:
    """`payload` as one line of JSON, UTF-8 text kept readable; the characters JSON would leave raw and a terminal
    would act on are written as `\\u009b` escapes, which decode to the same string."""
    line = json.dumps(payload, ensure_ascii=False)
    return _RAW_IN_JSON.sub(lambda match: f"\\u{ord(match.group()):04x}", line)


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


def render_result(console: Console, result: SearchResult, *, show_question: bool = False, cite: bool = False) -> None:
    """The answer for a reader; every text from an article, a file name or a question passes terminal_safe().
    With `cite`, each passage is its one-line citation (`[1] Dawn, 14 January 2022: “…” (…)`) instead."""
    if show_question:
        console.print(Text(terminal_safe(result.question), style="bold"), soft_wrap=True)
    if not result.hits:
        console.print(Text(terminal_safe(no_passages(result)), style="yellow"), soft_wrap=True)
        return
    if not result.answered:
        console.print(Text(NOT_ANSWERED, style="bold yellow"), soft_wrap=True)
        console.print()
    else:
        _values_panel(console, result)
    plain = console.color_system is None  # piped, or NO_COLOR: styles would be lost, so say it in words
    if plain and result.answered and result.answer is not None:
        console.print(Text(f"Answer: {terminal_safe(result.answer.text)} [1]"), soft_wrap=True)
        console.print()
    if cite:
        _citations(console, result)
        return
    width = max(40, min(console.width, 100) - _INDENT_WIDTH)
    for hit in result.hits:
        header = Text()
        header.append(f"[{hit.rank}] ", style="bold cyan")
        header.append(f"score {hit.score:.3f}{_parts(hit)}", style="dim")
        label = source_label(hit.source)
        if label:
            header.append("  " + terminal_safe(label), style="bold")
        console.print(header, soft_wrap=True)
        where = terminal_safe(location(hit.source, hit.line_start, hit.line_end))
        console.print(Text(_INDENT + where, style="cyan"), soft_wrap=True)
        # an abstention marks no sentence: nothing may look like an answer
        answer = result.answer if hit is result.hits[0] else None
        if plain:
            console.print(_plain_passage_text(hit, width, marked=result.answered), soft_wrap=True)
        else:
            console.print(_passage_text(hit, width, marked=result.answered, answer=answer), soft_wrap=True)
        also = also_in_line(hit)
        if also:
            console.print(Text(_INDENT + terminal_safe(also), style="magenta"), soft_wrap=True)  # paths stay whole
        console.print()


def _citations(console: Console, result: SearchResult) -> None:
    """`[rank] ` and the passage's citation line, for each passage: what a reporter pastes."""
    for hit in result.hits:
        line = Text(f"[{hit.rank}] ", style="bold cyan")
        line.append(terminal_safe(hit.citation().text))
        console.print(line, soft_wrap=True)
    console.print()


def _values_panel(console: Console, result: SearchResult) -> None:
    """The figures or dates the sources give: when they differ, or when two or more documents give one."""
    if result.disagree:
        title = Text("The sources disagree:", style="bold magenta")
    elif any(len({(s.path, s.source_id) for s in value.sources}) > 1 for value in result.values):
        title = Text("The sources agree:", style="bold")
    else:
        return
    console.print(title, soft_wrap=True)
    for value in result.values:
        line = Text(_INDENT + "• ")
        line.append(terminal_safe(value.value), style="bold")
        line.append(terminal_safe(": " + "; ".join(_value_source(source) for source in value.sources)))
        console.print(line, soft_wrap=True)
    console.print()


def _value_source(source: ValueSource) -> str:
    name = source.publisher or source.title
    if name and len(name) > 60:
        name = name[:59] + "…"
    elif not name:
        name = source.path if len(source.path) <= 60 else "…" + source.path[-59:]
    return f"{name} [{source.rank}{', also in' if source.copy else ''}]"


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


HIGHLIGHT_STYLE = "bold yellow"
ANSWER_STYLE = "underline"  # the exact answer, inside the highlighted sentence: bold yellow and underlined


def _passage_text(hit: Hit, width: int, *, marked: bool = True, answer: Answer | None = None) -> Text:
    """The passage wrapped for reading, its highlighted sentence in HIGHLIGHT_STYLE (when `marked`) and the
    exact answer inside it, if any, also in ANSWER_STYLE."""
    wrapped = _wrap(hit.text, width)
    # spans are found on the raw wrapped text, then moved to where its characters land once made safe
    shown, landing = terminal_safe_offsets(wrapped)
    text = Text(shown)
    if hit.highlight is None or not marked:
        return text
    # wrapping only changes whitespace: count non-space characters to find the sentence again
    solid = [i for i, char in enumerate(wrapped) if not char.isspace()]
    _stylize(text, solid, landing, hit, hit.highlight.start, hit.highlight.end, HIGHLIGHT_STYLE)
    if answer is not None and hit.highlight.start <= answer.start < answer.end <= hit.highlight.end:
        _stylize(text, solid, landing, hit, answer.start, answer.end, ANSWER_STYLE)
    return text


HIGHLIGHT_MARKS = ("»", "«")  # around the highlighted sentence where styles cannot show (piped, NO_COLOR)


def _plain_passage_text(hit: Hit, width: int, *, marked: bool) -> Text:
    """The passage wrapped for reading, its highlighted sentence between HIGHLIGHT_MARKS: the words a
    terminal shows in bold yellow, for a reader of piped output (--json stays the exact text)."""
    text = hit.text
    if marked and hit.highlight is not None:
        a, b = hit.highlight.start - hit.start, hit.highlight.end - hit.start
        text = text[:a] + HIGHLIGHT_MARKS[0] + text[a:b] + HIGHLIGHT_MARKS[1] + text[b:]
    return Text(terminal_safe(_wrap(text, width)))


def _stylize(text: Text, solid: list[int], landing: list[int], hit: Hit, start: int, end: int, style: str) -> None:
    """Style the raw-file span start:end of `hit` in its wrapped, terminal-safe `text` (`solid`: the non-space
    positions of the raw wrapped text; `landing`: where each of those positions lies in `text`)."""
    before = _solid(hit.text[: start - hit.start])
    inside = _solid(hit.text[start - hit.start : end - hit.start])
    if not inside or before + inside > len(solid):
        return
    for run in _runs(solid[before : before + inside]):  # style the words, not the indent of wrapped lines
        text.stylize(style, landing[run[0]], landing[run[1]])


def _solid(text: str) -> int:
    return sum(not char.isspace() for char in text)


def _runs(positions: list[int]) -> list[tuple[int, int]]:
    """[3, 4, 5, 9, 10] -> [(3, 6), (9, 11)]: spans of consecutive positions (words and the gaps within a line)."""
    runs: list[tuple[int, int]] = []
    for position in positions:
        if runs and position - runs[-1][1] <= 1:
            runs[-1] = (runs[-1][0], position + 1)
        else:
            runs.append((position, position + 1))
    return runs


def _wrap(text: str, width: int) -> str:
    """Indent and wrap each line for reading; the terminal also folds runs of blank lines."""
    lines: list[str] = []
    for line in _BLANK_RUNS.sub("\n\n", text).split("\n"):
        wrapped = textwrap.wrap(line, width=width, break_long_words=False, break_on_hyphens=False)
        if wrapped:
            lines.extend(_INDENT + part for part in wrapped)
        else:
            lines.append("")
    return "\n".join(lines)


def explain_json(path: str, document: Document, extraction: Extraction) -> str:
    """What extraction kept and dropped from one file, block by block, as one JSON object."""
    return _json_line(
        {
            "path": path,
            "title": extraction.title,
            "publisher": extraction.publisher,
            "published": extraction.published,
            "byline": extraction.byline,
            "kept_chars": extraction.kept_chars,
            "dropped_chars": extraction.dropped_chars,
            "body": [{"start": start, "end": end} for start, end in extraction.body],
            "blocks": [
                {
                    "line": block.line,
                    "start": block.start,
                    "end": block.end,
                    "keep": block.keep,
                    "kind": block.kind,
                    "reason": block.reason,
                    "text": document.text[block.start : block.end],
                }
                for block in extraction.blocks
            ],
        }
    )


def render_explain(console: Console, path: str, document: Document, extraction: Extraction) -> None:
    """A line per block: kept or dropped, and why, so any decision can be checked against the file."""
    console.print(Text(terminal_safe(path), style="bold"), soft_wrap=True)
    fields = [
        ("title", extraction.title),
        ("publisher", extraction.publisher),
        ("published", extraction.published),
        ("byline", extraction.byline),
    ]
    for name, value in fields:
        console.print(
            Text(f"  {name:<10} ") + Text(terminal_safe(value or "(not found)"), style="" if value else "dim")
        )
    total = extraction.kept_chars + extraction.dropped_chars
    share = 100.0 * extraction.kept_chars / total if total else 0.0
    dropped_lines = sum(not b.keep and b.kind != "headline" for b in extraction.blocks)
    console.print(
        f"  {'indexed':<10} {extraction.kept_chars:,} of {total:,} characters ({share:.0f}%) in "
        f"{len(extraction.body)} stretch{'es' if len(extraction.body) != 1 else ''}; "
        f"{dropped_lines} of {len(extraction.blocks)} lines dropped",
        highlight=False,
    )
    console.print()
    width = max(20, min(console.width, 160) - 48)
    for block in extraction.blocks:
        text = " ".join(document.text[block.start : block.end].split())
        if len(text) > width:
            text = text[: width - 1] + "…"
        decision = "keep" if block.keep else ("title" if block.kind == "headline" else "drop")
        style = {"keep": "green", "title": "bold", "drop": "dim"}[decision]
        line = Text(f"{block.line:>5}  ")
        line.append(f"{decision:<5} ", style=style)
        line.append(f"{block.reason[:34]:<35}", style="dim" if decision == "drop" else "")
        line.append(terminal_safe(text), style="dim" if decision == "drop" else "")
        console.print(line, soft_wrap=True, no_wrap=True, overflow="ellipsis")


def render_report(console: Console, report: Report) -> None:
    """The --eval table: one row per question, then the summary."""
    table = Table(box=None, pad_edge=False, show_edge=False)
    for name, justify in (("id", "left"), ("rank", "right"), ("highlight", "center"), ("answered", "center")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    table.add_column("question", overflow="fold")
    for q in report.questions:
        if q.answerable:
            rank = str(q.rank) if q.rank else "-"
            marks = ("yes" if q.in_highlight else "no", "yes" if q.answered else "NO (abstained)")
        else:
            rank = "n/a"
            marks = ("n/a", "yes (should abstain)" if q.answered else "no (abstained)")
        asked = str(q.id if q.id is not None else "")
        # as Text, not str: a question is never read as rich markup
        table.add_row(Text(terminal_safe(asked)), rank, *marks, Text(terminal_safe(q.question)))
    console.print(table)
    console.print()
    summary = report.summary()
    lines = Table(box=None, show_header=False, pad_edge=False)
    lines.add_column(justify="left")
    lines.add_column(justify="right")
    for key, value in summary.items():
        lines.add_row(key, "-" if value is None else str(value))
    console.print(lines)
