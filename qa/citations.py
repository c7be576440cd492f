"""Citations a reporter pastes: who said it, when, the quoted words, and where to check them.

A citation quotes the passage's highlighted sentence (the one most likely to answer), or the whole passage
when none is marked. The quote is the exact slice of the source; the one-line `text` only folds its
whitespace (line breaks, indents) into single spaces so that it pastes as one line. `url` is the article's
own address, when its record has one, with a text fragment (`#:~:text=start,end`) that makes a browser open
the page at the quoted words.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

if TYPE_CHECKING:
    from qa.records import Hit, SearchResult

_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"\S+")
_FRAGMENT_WORDS = 4  # words at each end of a long quote in a text fragment (start,end)
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")  # what formats inline text
_MARKDOWN_LEAD = re.compile(r"^(\d+)([.)])|^([#+\-=])")  # what makes a line a list, heading or rule


@dataclass(frozen=True)
class Citation:
    """One passage, cited."""

    text: str  # one line: 'Dawn, 14 January 2022: “…” (Headline; seeds/004.txt, lines 13–14) URL'
    quote: str  # the quoted words, exactly the source's text[start:end]
    start: int  # raw-file offsets of the quote
    end: int
    line_start: int
    line_end: int
    url: str | None  # the article's URL with a text fragment at the quote, when its record has a URL

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "quote": self.quote,
            "start": self.start,
            "end": self.end,
            "line_start": self.line_start,
            "line_end": self.line_end,
            "url": self.url,
        }


def cite(hit: Hit) -> Citation:
    """The citation of one hit: its highlighted sentence, or the whole passage when none is marked."""
    passage = hit.passage
    start, end = (hit.highlight.start, hit.highlight.end) if hit.highlight is not None else (passage.start, passage.end)
    words = passage.text[start - passage.start : end - passage.start]
    # trim the slice's outer whitespace: still an exact slice, of fewer characters
    lead = len(words) - len(words.lstrip())
    words = words.strip()
    start += lead
    end = start + len(words)
    line_start = passage.line_start + passage.text[: start - passage.start].count("\n")
    line_end = line_start + words.count("\n")
    source = hit.source
    url = with_text_fragment(source.url, words) if source.url else None
    head = ", ".join(part for part in (source.publisher or source.byline, long_date(source.published)) if part)
    quoted = f"“{one_line(words)}”"
    lines = f"line {line_start}" if line_start == line_end else f"lines {line_start}–{line_end}"
    where = source.path + (f"#{source.id}" if source.id else "")
    place = "; ".join(part for part in (source.title, f"{where}, {lines}") if part)
    text = f"{head}: {quoted} ({place})" if head else f"{quoted} ({place})"
    if url:
        text += f" {url}"
    return Citation(text, words, start, end, line_start, line_end, url)


def one_line(text: str) -> str:
    """`text` with every run of whitespace (line breaks included) as one space."""
    return _SPACE.sub(" ", text).strip()


def long_date(published: str | None) -> str | None:
    """'2022-01-14' -> '14 January 2022'; anything else as it is."""
    if not published:
        return None
    try:
        day = dt.date.fromisoformat(published)
    except ValueError:
        return published
    return f"{day.day} {day.strftime('%B')} {day.year}"


def with_text_fragment(url: str, words: str) -> str:
    """`url` opened at `words`: a text fragment of the whole quote, or of its first and last words when long."""
    tokens = _WORD.findall(words)
    if not tokens:
        return url
    if len(tokens) <= 2 * _FRAGMENT_WORDS:
        directive = _fragment_part(" ".join(tokens))
    else:
        first, last = " ".join(tokens[:_FRAGMENT_WORDS]), " ".join(tokens[-_FRAGMENT_WORDS:])
        directive = f"{_fragment_part(first)},{_fragment_part(last)}"
    return f"{url.split('#', 1)[0]}#:~:text={directive}"


def _fragment_part(text: str) -> str:
    # ",", "&" and "-" are the fragment's own syntax: percent-encoded like every reserved character
    return quote(text, safe="").replace("-", "%2D")


def markdown(result: SearchResult) -> str:
    """The whole answer as Markdown for a reporter's notes: the question, what the sources say, each passage
    quoted (its highlighted sentence in bold) with its citation. Article text is escaped, never rewritten."""
    from qa.fronts.present import NOT_ANSWERED  # one wording for every front

    out = [f"## {_escape(one_line(result.question))}", ""]
    if not result.hits:
        out += ["No passages found.", ""]
        return "\n".join(out)
    if not result.answered:
        out += [f"*{NOT_ANSWERED}*", ""]
    elif result.values and (result.disagree or _agreed(result)):
        out.append("**The sources disagree:**" if result.disagree else "**The sources agree:**")
        out.append("")
        for value in result.values:
            ranks = ", ".join(f"[{s.rank}{', also in' if s.copy else ''}]" for s in value.sources)
            out.append(f"- **{_escape(value.value)}**: {ranks}")
        out.append("")
    if result.answered and result.answer is not None:
        out += [f"**Answer:** {_escape(one_line(result.answer.text))} [1]", ""]
    for hit in result.hits:
        citation = cite(hit)
        out.append(f"{hit.rank}. > {_quoted_passage(hit, marked=result.answered)}")
        out.append("   >")
        out.append(f"   > — {_escape(citation.text)}")
        out.append("")
    for warning in result.warnings:
        out.append(f"*warning: {_escape(one_line(warning))}*")
    return "\n".join(out).rstrip() + "\n"


def _agreed(result: SearchResult) -> bool:
    return any(len({(s.path, s.source_id) for s in value.sources}) > 1 for value in result.values)


def _quoted_passage(hit: Hit, *, marked: bool) -> str:
    text = hit.text
    if hit.highlight is None or not marked:
        return _escape(one_line(text))
    a, b = hit.highlight.start - hit.start, hit.highlight.end - hit.start
    before, inside, after = one_line(text[:a]), one_line(text[a:b]), one_line(text[b:])
    parts = [_escape(before), f"**{_escape(inside)}**" if inside else "", _escape(after)]
    return " ".join(part for part in parts if part)


def _escape(text: str) -> str:
    """Markdown's special characters backslash-escaped: the rendered text is the source's, character for character."""
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", text)
    return _MARKDOWN_LEAD.sub(lambda m: f"{m.group(1)}\\{m.group(2)}" if m.group(1) else f"\\{m.group(3)}", escaped)
