"""Article extraction: find the story inside a scraped page as spans of the raw text, plus its metadata.

Each non-blank line is a block. Blocks are labelled from what tells prose from page furniture (sentence
shape, jusText's stopword-density classifier, boilerplate phrases, photo credits, datelines, bullets of
menu items, lines repeated on the page), weighted (+words for prose, negative for furniture) and the body
is the run of blocks with the largest total weight (the maximum-subarray rule of Finn et al.'s Body Text
Extraction). Inside that run, prose and unclear short lines are kept and furniture is dropped; outside
it, everything is dropped. Every decision carries a reason, so `ask.py --explain FILE` can show it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from qa.extract.patterns import (
    AGENCY_NAMES,
    BULLET,
    BYLINE,
    CAPTION,
    CHROME,
    CONSENT_WORD,
    COOKIE_WORD,
    COPYRIGHT,
    COPYRIGHT_HOLDER,
    DATE_FILLER,
    DATE_TOKEN,
    DATELINE_AGENCY,
    ELLIPSIS_END,
    END_MARKERS,
    FULL_DATE,
    HAS_MONTH_AND_YEAR,
    IMPRINT,
    LOGO,
    MENU_WORDS,
    POSITION,
    SENTENCE_END,
    SLUGS,
    W_CHROME,
    W_END_MARKER,
    W_FURNITURE,
    W_INLINE,
    W_SHORT,
    WORD,
)
from qa.extract.version import EXTRACTOR_ID, EXTRACTOR_VERSION
from qa.records import Block, Document, Extraction
from qa.text.dates import normalise_date
from qa.text.sentences import line_spans
from qa.text.words import justext_stoplist

__all__ = ["EXTRACTOR_ID", "EXTRACTOR_VERSION", "explain_file", "extract", "extract_document", "with_metadata"]


# what a block is; KEEP_KINDS are indexed when they lie inside the body
HEADLINE, PROSE, SHORT, TRUNCATED = "headline", "prose", "short", "truncated"
KEEP_KINDS = frozenset({HEADLINE, PROSE, SHORT, TRUNCATED})


@dataclass
class _Draft:
    start: int
    end: int
    line: int
    text: str
    words: int
    kind: str = SHORT
    reason: str = ""
    weight: float = W_SHORT
    bulleted: bool = False
    original: int | None = None  # for a repeat: the index of the first copy


def extract(text: str) -> Extraction:
    """Find the article in `text` (a whole page as decoded from disk). Never raises on odd input."""
    drafts = _blocks(text)
    if not drafts:
        return Extraction(blocks=(), body=())
    _label(drafts)
    first, last = _best_run(drafts)
    headline = _headline(drafts, first, last)
    listed = _short_lists(drafts)
    lead = _lead(drafts, headline, first)
    keep = [False] * len(drafts)
    for i, draft in enumerate(drafts):
        if first <= i <= last:
            keep[i] = draft.kind in KEEP_KINDS or draft.kind == "caption" or i in listed
        elif i in lead:
            keep[i] = draft.kind == "caption"
    for i, draft in enumerate(drafts):
        # a photo caption is indexed with the paragraph it sits against, never as a passage of its own
        if draft.kind == "caption" and keep[i]:
            keep[i] = any(0 <= j < len(drafts) and keep[j] and drafts[j].kind != "caption" for j in (i - 1, i + 1))
    if headline is not None:
        # the headline is every passage's title; it is indexed only where it runs into the text below it
        keep[headline] = headline + 1 < len(drafts) and keep[headline + 1]
    blocks = []
    for i, draft in enumerate(drafts):
        inside = first <= i <= last
        kind = HEADLINE if i == headline else draft.kind
        if i == headline:
            reason = "headline" if keep[i] else "headline, shown as title only"
        elif keep[i]:
            reason = "photo caption" if draft.kind == "caption" else "article text"
        elif draft.kind == "caption" and (inside or i in lead):
            reason = "photo caption, not indexed alone"
        elif inside or draft.kind not in KEEP_KINDS:
            reason = draft.reason
        elif draft.kind == TRUNCATED:
            reason = "teaser cut short, outside the story"
        else:
            reason = f"{'prose' if draft.kind == PROSE else 'short line'} outside the story"
        blocks.append(Block(draft.start, draft.end, draft.line, kind, keep[i], reason))
    body = _merge(text, blocks)
    kept = sum(b.end - b.start for b in blocks if b.keep or b.kind == HEADLINE)
    dropped = sum(b.end - b.start for b in blocks) - kept
    return Extraction(
        blocks=tuple(blocks),
        body=body,
        title=drafts[headline].text.lstrip("#").strip() or None if headline is not None else None,
        publisher=_publisher(drafts),
        published=_published(drafts, headline, first, last),
        byline=_byline(drafts, first, last),
        kept_chars=kept,
        dropped_chars=dropped,
    )


def extract_document(document: Document) -> Extraction:
    """The extraction the indexer uses: HTML pages already come as article text and are kept whole."""
    found = extract(document.text)
    if not document.article_text:
        return found
    blocks = tuple(
        Block(b.start, b.end, b.line, PROSE if b.kind != HEADLINE else HEADLINE, True, "article text (from the HTML)")
        for b in found.blocks
    )
    whole = sum(b.end - b.start for b in blocks)
    return Extraction(
        blocks=blocks,
        body=((0, len(document.text)),) if blocks else (),
        # the page's own metadata (read by trafilatura) first, then what the text itself says
        title=document.title or found.title,
        publisher=document.publisher or found.publisher,
        published=document.published or found.published,
        byline=document.byline or found.byline,
        kept_chars=whole,
        dropped_chars=0,
    )


def _lead(drafts: Sequence[_Draft], headline: int | None, first: int) -> set[int]:
    """Blocks between the headline and the body's first paragraph (photos, datelines, bylines)."""
    top = first
    while top > 0 and drafts[top - 1].kind in ("caption", "dateline", "byline", "repeat", "chrome"):
        top -= 1
    if headline is not None and headline < first:
        top = max(top, headline + 1)
    return set(range(top, first))


_MENU_RUN = 5  # this many bulleted entries in a row make a menu even inside the article


def _short_lists(drafts: Sequence[_Draft]) -> set[int]:
    """Bulleted short items in runs shorter than a menu: a list in the story ("- Have random drug tests")."""
    listed: set[int] = set()
    run: list[int] = []
    for i, d in enumerate([*drafts, None]):
        if d is not None and d.kind == "menu" and d.reason == "menu item":
            run.append(i)
            continue
        if run and len(run) < _MENU_RUN:
            listed.update(run)
        run = []
    return listed


def _blocks(text: str) -> list[_Draft]:
    drafts = []
    line = 1
    pos = 0
    for start, end in line_spans(text):
        line += text.count("\n", pos, start)
        pos = start
        bullet = BULLET.match(text[start:end])
        bulleted = bullet is not None and start + bullet.end() < end
        if bullet is not None and bulleted:
            start += bullet.end()
        content = text[start:end]
        draft = _Draft(start, end, line, content, len(WORD.findall(content)))
        draft.bulleted = bulleted
        drafts.append(draft)
    return drafts


def _label(drafts: list[_Draft]) -> None:
    """Give each block a kind, a reason and a weight, from its own text and its neighbours."""
    jt_classes = _jusText_classes([d.text for d in drafts])
    seen: dict[str, int] = {}
    for i, d in enumerate(drafts):
        text = d.text
        norm = " ".join(text.lower().split())
        if norm in seen and d.words >= 2:
            original = drafts[seen[norm]]
            d.original = seen[norm]
            _set(d, "repeat", f"repeats line {original.line}", W_FURNITURE)
            if not (original.kind == PROSE and original.words >= 12):
                # a title or caption printed twice is furniture; a long paragraph quoted again is not
                original.weight = min(original.weight, W_SHORT)
            continue
        seen.setdefault(norm, i)
        # the cheap word counts first: the patterns describe short lines and never see a long one
        if d.words <= 12 and END_MARKERS.match(text):
            _set(d, "end-marker", "page furniture after the story", W_END_MARKER)
        elif CHROME.match(text) or (d.words <= 60 and _is_cookie_banner(text)):
            _set(d, "chrome", "page furniture", W_CHROME)
        elif d.words <= 20 and COPYRIGHT.search(text):
            _set(d, "chrome", "copyright line", W_CHROME)
        elif d.words <= 12 and BYLINE.match(text) and not SENTENCE_END.search(text):
            _set(d, "byline", "byline", W_INLINE)
        elif _is_dateline(text):
            _set(d, "dateline", "dateline", W_INLINE)
        elif CAPTION.search(text) or POSITION.search(text) or _credit_follows(drafts, i):
            _set(d, "caption", "photo caption", W_INLINE)
        elif d.bulleted and d.words <= MENU_WORDS and not SENTENCE_END.search(text):
            _set(d, "menu", "menu item", W_FURNITURE)
        elif d.words >= 2 and SLUGS.match(text):
            _set(d, "menu", "tag list", W_FURNITURE)
        elif ELLIPSIS_END.search(text) and d.words >= 8:
            # a teaser cut short ("... have been registered throughout..."): it cancels its own weight
            # kept if the story goes on after it: never drop story text on this alone
            _set(d, TRUNCATED, "truncated teaser", 0.0)
        elif _is_prose(text, d.words, jt_classes[i]) and _follows_card_title(drafts, i):
            _set(d, "teaser", "teaser under a repeated headline", -float(d.words))
        elif _is_prose(text, d.words, jt_classes[i]):
            _set(d, PROSE, "article text", float(d.words))
        else:
            _set(d, SHORT, "short line", W_SHORT)


def _set(d: _Draft, kind: str, reason: str, weight: float) -> None:
    d.kind, d.reason, d.weight = kind, reason, weight


def _is_cookie_banner(text: str) -> bool:
    return COOKIE_WORD.search(text) is not None and CONSENT_WORD.search(text) is not None


def _is_prose(text: str, words: int, jt_class: str) -> bool:
    if words >= 3 and SENTENCE_END.search(text):
        return True
    return words >= 12 and jt_class in ("good", "neargood")


def _is_dateline(text: str) -> bool:
    if len(text) > 80 or not HAS_MONTH_AND_YEAR.search(text):
        return False
    rest = DATE_FILLER.sub(" ", DATE_TOKEN.sub(" ", text))
    leftover = [w for w in rest.split() if not w.isupper()]  # a place in capitals: "ALMATY"
    return len(leftover) <= 1 and normalise_date(text) is not None


def _follows_card_title(drafts: list[_Draft], i: int) -> bool:
    """Teaser cards print a headline twice (link and image alt text), then one summary paragraph."""
    j = i - 1
    while j >= 0 and drafts[j].kind == "dateline":
        j -= 1
    first = drafts[j].original if j >= 0 and drafts[j].kind == "repeat" else None
    if first is None:
        return False
    original = drafts[first]
    return original.kind == SHORT and original.words <= 15 and not SENTENCE_END.search(original.text)


def _credit_follows(drafts: list[_Draft], i: int) -> bool:
    """A line directly followed by "IMAGE SOURCE: TASS" or "Photo: ..." is that photo's caption."""
    if i + 1 >= len(drafts) or drafts[i + 1].line != drafts[i].line + 1:
        return False
    return (
        re.match(r"^(?:image|photo|picture) (?:source|credit)s?\s*:|^(?:photo|credit)\s*:", drafts[i + 1].text, re.I)
        is not None
    )


def _best_run(drafts: Sequence[_Draft]) -> tuple[int, int]:
    """First and last index of the contiguous run of blocks with the largest total weight.

    A run never crosses an end marker ("Related articles", "Leave a Reply"): what follows one is
    other content, however much it reads like prose.
    """
    best, best_span = float("-inf"), (0, -1)
    total, start = 0.0, 0
    for i, d in enumerate(drafts):
        if d.kind == "end-marker":
            total, start = 0.0, i + 1
            continue
        if total <= 0:
            total, start = 0.0, i
        total += d.weight
        if total > best:
            best, best_span = total, (start, i)
    if best <= 0:
        return 0, -1  # nothing reads like an article
    first, last = best_span
    # the run may start or end on weak lines that only ride along: trim them
    while first <= last and drafts[first].kind not in (PROSE,):
        first += 1
    while last >= first and drafts[last].kind not in (PROSE,):
        last -= 1
    # a page with no furniture at all above (or below) the run is a clean article: its opening lines
    # (a fixture, a venue) and closing lists (team sheets, results) are story too
    if all(d.kind in KEEP_KINDS for d in drafts[:first]):
        first = 0
    if all(d.kind in KEEP_KINDS for d in drafts[last + 1 :]):
        last = len(drafts) - 1
    return first, last


_HEADLINE_LOOKBACK = 12


def _headline(drafts: Sequence[_Draft], first: int, last: int) -> int | None:
    """The title: the nearest title-shaped block above the body, else the body's first block if title-shaped."""
    if last < first:
        return None
    for i in range(first - 1, max(-1, first - 1 - _HEADLINE_LOOKBACK), -1):
        d = drafts[i]
        if d.kind in ("caption", "dateline", "byline", "repeat", "chrome", "menu", "teaser"):
            continue
        if d.kind == "end-marker":
            break
        if _title_shaped(d):
            return i
    if _title_shaped(drafts[first]) and first < last:
        return first
    return None


def _title_shaped(d: _Draft) -> bool:
    return 3 <= d.words <= 30 and not d.text.endswith((".", ":", ";", ",")) and d.kind in (SHORT, PROSE)


def _merge(text: str, blocks: Sequence[Block]) -> tuple[tuple[int, int], ...]:
    """Join kept blocks separated only by whitespace into runs; a dropped block always breaks a run."""
    runs: list[tuple[int, int]] = []
    for block in blocks:
        if not block.keep:
            runs.append((-1, -1))
            continue
        if runs and runs[-1][0] >= 0:
            runs[-1] = (runs[-1][0], block.end)
        else:
            runs.append((block.start, block.end))
    return tuple(run for run in runs if run[0] >= 0)


def _publisher(drafts: Sequence[_Draft]) -> str | None:
    for pattern in (IMPRINT, LOGO):
        for d in drafts:
            match = pattern.match(d.text)
            if match:
                return match.group("publisher").strip()
    for d in drafts:
        match = COPYRIGHT_HOLDER.search(d.text) if d.words <= 12 else None
        if match:
            return match.group("holder").strip(" .,-")
    return None


def _published(drafts: Sequence[_Draft], headline: int | None, first: int, last: int) -> str | None:
    """The dateline nearest the headline (above the body or at its head), else the imprint after the body,
    else the date in a wire photo's caption near the headline ("Almaty, January 13, 2022")."""
    if last < first:
        return None
    top = first if headline is None else min(first, headline)
    near = sorted(range(max(0, top - _HEADLINE_LOOKBACK), min(len(drafts), first + 6)), key=lambda i: abs(i - top))
    for i in near:
        if drafts[i].kind == "dateline":
            return normalise_date(_strip_place(drafts[i].text))
    for d in drafts[last + 1 : last + 6]:
        match = IMPRINT.match(d.text)
        if match and match.group("date"):
            return normalise_date(match.group("date"))
    for i in near:
        found = FULL_DATE.search(drafts[i].text) if drafts[i].kind == "caption" else None
        if found:
            return normalise_date(found.group(0))
    return None


def _strip_place(text: str) -> str:
    """'ALMATY Jan 13, 2022 - 1:52 pm GMT+3' -> 'Jan 13, 2022' for the date parser."""
    match = FULL_DATE.search(text)
    return match.group(0) if match else text


def _byline(drafts: Sequence[_Draft], first: int, last: int) -> str | None:
    """'by reuters' near the top -> 'Reuters'; else an agency dateline 'MOSCOW (Reuters) -' in the body."""
    if last < first:
        return None
    for d in drafts[max(0, first - _HEADLINE_LOOKBACK) : first + 3]:
        match = BYLINE.match(d.text) if d.kind == "byline" else None
        if match:
            name = match.group(1).strip()
            return AGENCY_NAMES.get(name.lower(), name if not name.islower() else name.title())
    for d in drafts[first : first + 3]:
        match = DATELINE_AGENCY.match(d.text)
        if match:
            return AGENCY_NAMES.get(match.group(1).lower(), match.group(1))
    return None


def _jusText_classes(texts: list[str]) -> list[str]:
    """jusText's context-free class (good / neargood / short / bad) of each block, from its stopword density."""
    from justext.core import classify_paragraphs  # lazy: lxml is only needed while building

    paragraphs = [_block_type()(text) for text in texts]
    classify_paragraphs(paragraphs, justext_stoplist(), no_headings=True)
    return [p.cf_class for p in paragraphs]


@functools.cache
def _block_type() -> type:
    """jusText's Paragraph holding one block's text, normalised once: jusText's own `text` property
    normalises the whitespace again on every read, which was half the extraction's time (measured)."""
    from justext.paragraph import Paragraph
    from justext.utils import normalize_whitespace

    class Block(Paragraph):  # type: ignore[misc]
        def __init__(self, text: str) -> None:
            super().__init__(_PlainPath)
            # jusText's normalize_whitespace then strip; on a line (no line break) that is a plain split/join
            normalised = normalize_whitespace(text) if "\n" in text or "\r" in text else " ".join(text.split())
            self.text_nodes = [normalised]
            self._normalised = normalised.strip()

        @property
        def text(self) -> str:
            return self._normalised

    return Block


class _PlainPath:
    """jusText reads a block's DOM path; plain-text blocks all sit in one anonymous paragraph."""

    dom = "html.body.p"
    xpath = "/html/body/p"


def explain_file(path: str | Path) -> tuple[Document, Extraction]:
    """Read one article file as the indexer does and return it with the extraction decisions.

    Raises DocsNotFoundError for a missing file and BadInputError for a folder, a .jsonl corpus, or a
    file that cannot be read as text.
    """
    from qa.errors import BadInputError, DocsNotFoundError
    from qa.ingest.corpus import read_documents, scan

    path = Path(path)
    if not path.exists():
        raise DocsNotFoundError(str(path), expected="one article file: .txt, .md or .html")
    corpus = scan(path)
    if corpus.kind != "file":
        what = "a folder" if corpus.kind == "folder" else "a .jsonl corpus"
        raise BadInputError(f"{path} is {what}, not one article file (.txt, .md, .html)")
    documents, warnings = read_documents(corpus, corpus.files[0])
    if not documents:
        reason = warnings[-1].message if warnings else "nothing to read"
        raise BadInputError(f"cannot explain {path}: {reason}")
    return documents[0], extract_document(documents[0])


def with_metadata(doc: Document, extraction: Extraction) -> Document:
    """Fill the fields a .jsonl record left empty from what the page says of itself; given fields win."""
    return replace(
        doc,
        title=doc.title or extraction.title,
        publisher=doc.publisher or extraction.publisher,
        published=doc.published or extraction.published,
        byline=doc.byline or extraction.byline,
    )
