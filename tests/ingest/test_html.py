"""HTML pages go in through trafilatura: the article is indexed, the page around it is not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.ingest.html import html_text

STORY = (
    "Russian-led troops began leaving Kazakhstan on Thursday after a week-long deployment that helped the "
    "government quell unrest, the defence ministry said in a statement.",
    "The Collective Security Treaty Organisation sent about 2,500 troops &amp; equipment to the country "
    "at the request of President Kassym-Jomart Tokayev.",
    "The withdrawal is expected to take ten days, and the last planes should leave Almaty by January 19.",
)
# the page as a file: tests/extract/test_extraction_golden.py pins its extraction too
PAGE = (Path(__file__).resolve().parents[1] / "golden" / "pages" / "story.html").read_text(encoding="utf-8")


@pytest.fixture()
def pages(tmp_path):
    docs = tmp_path / "pages"
    docs.mkdir()
    (docs / "story.html").write_text(PAGE, encoding="utf-8")
    (docs / "notes.txt").write_text(
        "Fuel prices\n\nProtests started after a sharp rise in fuel prices in the west of the country.\n",
        encoding="utf-8",
    )
    return docs


def test_html_text_keeps_the_article_and_reads_the_page_metadata():
    page = html_text(PAGE)
    for paragraph in STORY:
        assert paragraph.replace("&amp;", "&") in page.text
    for chrome in ("Home", "Goose flies upside down", "Bridge collapses", "Cookie policy"):
        assert chrome not in page.text
    assert (page.title, page.publisher, page.published, page.byline) == (
        "Troops leave Kazakhstan",
        "Example News",
        "2022-01-13",
        "Jane Doe",
    )
    assert not page.whole_page


def test_html_pages_are_indexed_beside_text_files(pages, tmp_path, open_hashed):
    retriever = open_hashed(pages)
    indexed = list(retriever.passages())
    paths = {source.path for _, source in indexed}
    assert paths == {str(pages / "notes.txt"), str(pages / "story.html")}
    html_passages = [(p, s) for p, s in indexed if s.path.endswith("story.html")]
    text = " ".join(p.text for p, _ in html_passages)
    assert "2,500 troops & equipment" in text
    assert "Bridge collapses" not in text and "Home" not in text
    source = html_passages[0][1]
    assert (source.title, source.publisher, source.published, source.byline) == (
        "Troops leave Kazakhstan",
        "Example News",
        "2022-01-13",
        "Jane Doe",
    )
    hits = retriever.search("how many troops did the CSTO send", k=1, mode="bm25").hits
    assert hits[0].source.path.endswith("story.html")
    assert "2,500" in hits[0].passage.text


def test_html_offsets_index_the_extracted_text(pages, tmp_path, open_hashed):
    retriever = open_hashed(pages)
    text = html_text(PAGE).text
    for passage, source in retriever.passages():
        if source.path.endswith("story.html"):
            assert text[passage.start : passage.end] == passage.text


def test_explain_an_html_page(pages, cli):
    code, out, err = cli("--explain", str(pages / "story.html"), "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["title"] == "Troops leave Kazakhstan"
    assert report["publisher"] == "Example News"
    assert report["dropped_chars"] == 0
    assert report["blocks"] and all(block["keep"] for block in report["blocks"])


def test_unreadable_html_pages_are_skipped_with_a_warning(pages, tmp_path, cli, monkeypatch):
    monkeypatch.setenv("QA_MODEL", "hash")
    (pages / "empty.htm").write_text("<html><body></body></html>", encoding="utf-8")
    (pages / "blob.html").write_bytes(b"\x00\x01\x02 not markup")
    code, out, err = cli("--docs", str(pages), "--index", str(tmp_path / "idx"), "fuel prices", "-k", "1")
    assert code == 0, err
    assert "Fuel prices" in out
    assert "trafilatura" not in err and "discarding data" not in err, "library log lines stay out of the terminal"
    assert "empty.htm: skipped: no text in the page" in err
    assert "blob.html: skipped: binary file" in err
