"""A whole answer as Markdown for a reporter's notes; each passage's citation is `Hit.citation()` (records/hits.py)."""

from __future__ import annotations

import re

from qa.records import Hit, SearchResult, cite, one_line

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")  # what formats inline text
_MARKDOWN_LEAD = re.compile(r"^(\d+)([.)])|^([#+\-=])")  # what makes a line a list, heading or rule


# what every front says before the passages of an abstention
NOT_ANSWERED = "The articles don't seem to answer this. Closest passages:"


def no_passages(result: SearchResult) -> str:
    """What every front says of an answer without passages, with the reason when the library gives one."""
    return f"No passages found: {result.empty_reason}." if result.empty_reason else "No passages found."


def markdown(result: SearchResult, asked: str | None = None) -> str:
    """The whole answer as Markdown for a reporter's notes: the question, what the sources say, each passage
    quoted (its highlighted sentence in bold) with its citation. Article text is escaped, never rewritten.

    `asked` is the question as the reader typed it, when a follow-up was searched as something longer
    (`result.question`): it heads the notes, and what was searched follows in italics."""
    heading = one_line(asked) if asked else one_line(result.question)
    out = [f"## {_escape(heading)}", ""]
    if asked and one_line(asked) != one_line(result.question):
        out += [f"*searched for: {_escape(one_line(result.question))}*", ""]
    if not result.hits:
        out += [_escape(no_passages(result)), ""]
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
