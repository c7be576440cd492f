"""The chat page in headless Chromium (Debian's /usr/bin/chromium, driven by playwright) against the real server."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect
from test_server import ROOT, running_server, write_corpus

from qa import Retriever
from qa.embed.reference import HashEmbedder
from qa.fronts.present import location, source_label
from qa.fronts.server import create_app

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "tests" / "artifacts"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium() -> Path:
    """Debian's Chromium; the test suite never installs anything (.ci/run installs it), so a machine without
    it skips these tests."""
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is absent (.ci/run installs it: apt-get install chromium)")
    return CHROMIUM


def words(text: str) -> str:
    """The page joins hard-wrapped lines for reading: compare text with whitespace collapsed."""
    return " ".join(text.split())


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("page")
    retriever = Retriever.open(docs=write_corpus(root / "docs"), index=root / "index", embedder=HashEmbedder())
    with running_server(create_app(retriever)) as port:
        yield f"http://127.0.0.1:{port}", retriever


@pytest.fixture
def page(tmp_path):
    from playwright.sync_api import sync_playwright

    executable = chromium()
    profile = tmp_path / "profile"  # a new, empty profile for every test
    profile.mkdir()
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(executable),
            headless=True,
            args=FLAGS,
            viewport={"width": 1280, "height": 900},
            # Chromium keeps crash-report settings under $XDG_CONFIG_HOME: the test's own folder, not $HOME
            env={**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config"), "HOME": str(tmp_path)},
        )
        try:
            page = context.pages[0] if context.pages else context.new_page()
            page.set_default_timeout(30_000)
            page.problems = []
            page.on("pageerror", lambda error: page.problems.append(f"page error: {error}"))
            page.on("console", lambda m: m.type == "error" and page.problems.append(f"console: {m.text}"))
            yield page
        finally:
            context.close()


def save_screenshot(page, tmp_path: Path, name: str) -> Path:
    shot = tmp_path / name
    page.screenshot(path=str(shot), full_page=False)
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copyfile(shot, ARTIFACTS / name)
    return shot


def ask(page, question: str):
    """Type the question, press Enter; returns the JSON body the page sent."""
    box = page.get_by_label("Your question")
    box.fill(question)
    with page.expect_request("**/search") as request:
        box.press("Enter")
    return json.loads(request.value.post_data)


def test_a_conversation_in_the_browser(page, site, tmp_path):
    url, retriever = site
    page.goto(url)
    # playwright's expect polls without eval: the page's CSP (script-src 'self') forbids eval'd strings
    expect(page.locator("#index-status")).to_contain_text("passages indexed")
    assert page.evaluate("document.activeElement.id") == "question", "the question box has the focus"

    first = "How many troops were sent to guard power plants?"
    sent = ask(page, first)
    assert sent == {"question": first, "k": 3, "mode": "hybrid", "context": []}
    turn = page.locator("#turn-1")
    turn.locator(".passage").first.wait_for()
    expected = retriever.search(first)
    quotes = turn.locator(".quote")
    assert quotes.count() == len(expected.hits)
    for quote, hit in zip(quotes.all(), expected.hits, strict=True):
        assert words(quote.text_content()) == words(hit.text)
    top = expected.hits[0]
    mark = turn.locator(".passage").first.locator("mark.highlight")
    assert words(mark.text_content()) == words(top.highlight_text)
    assert "2,500" in mark.text_content()
    assert turn.locator(".source-label").first.text_content() == source_label(top.source)
    assert "Troops leave Kazakhstan" in source_label(top.source)
    assert turn.locator(".location").first.text_content() == location(top.source, top.line_start, top.line_end)
    disagree = turn.locator(".disagree")
    assert "The sources disagree:" in disagree.text_content()
    assert "2,500" in disagree.text_content() and "2,000" in disagree.text_content()
    assert page.evaluate("document.activeElement.id") == "question", "the focus comes back to the question box"
    expect(page.locator("#live")).to_contain_text("passages")  # screen readers
    save_screenshot(page, tmp_path, "chat.png")

    second = "Why did the protests start?"
    sent = ask(page, second)
    assert sent["context"] == [first], "earlier questions go with a follow-up"
    turn = page.locator("#turn-2")
    turn.locator(".passage").first.wait_for()
    card = turn.locator(".passage").first
    assert "fuel prices" in card.locator(".quote").text_content()
    also_in = card.locator(".also-in").text_content()
    assert "copy.txt" in also_in or "kazakhstan.txt" in also_in, "the wire copy is listed"

    # read the passage in its article, then close with Escape: the focus returns to the button
    button = card.get_by_role("button", name="Read in the article")
    button.click()
    reader = page.locator("#reader")
    reader.locator(".context.current").wait_for()
    assert "fuel prices" in reader.locator(".context.current").text_content()
    assert reader.locator(".context").count() >= 2, "neighbouring passages are shown around it"
    assert reader.locator(".context.current mark.highlight").count() == 1
    save_screenshot(page, tmp_path, "chat-article.png")
    page.keyboard.press("Escape")
    expect(page.locator("#reader")).to_be_hidden()
    assert page.evaluate("document.activeElement.textContent") == "Read in the article"
    assert page.problems == []


def test_abstention_and_article_text_is_never_markup(page, site):
    url, _ = site
    hostile = '<img src=x onerror="window.pwned=1">Five <b>soldiers</b> left.'
    fake = {
        "question": "q",
        "answered": False,
        "confidence": 0.1,
        "evidence": None,
        "disagree": False,
        "values": [],
        "passages": [
            {
                "rank": 1,
                "score": 0.1,
                "id": "x",
                "text": hostile,
                "start": 10,
                "end": 10 + len(hostile),
                "line_start": 3,
                "line_end": 4,
                "source": {
                    "path": "a.txt",
                    "id": None,
                    "title": "<script>window.pwned=2</script>",
                    "publisher": None,
                    "published": None,
                    "byline": None,
                },
                "highlight": {"start": 10, "end": 30},  # an abstention must not show it
                "scores": {"dense": None, "bm25": None},
                "also_in": [],
            }
        ],
    }
    page.route("**/search", lambda route: route.fulfill(status=200, content_type="application/json", json=fake))
    page.goto(url)
    ask(page, "Is the moon made of cheese?")
    page.locator("#turn-1 .passage").wait_for()
    notice = page.locator("#turn-1 .abstain")
    assert notice.text_content() == "The articles don't seem to answer this. Closest passages:"
    assert page.locator("#turn-1 .quote").text_content() == hostile
    assert page.locator("#turn-1 mark.highlight").count() == 0, "no sentence marked as if it answered"
    assert page.locator("#turn-1 img, #turn-1 b, #turn-1 script").count() == 0
    assert page.evaluate("window.pwned === undefined")
    assert page.locator("#turn-1 .location").text_content() == "a.txt:3-4"


def test_errors_are_shown_and_the_page_fits_a_phone(page, site, tmp_path):
    url, _ = site
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(url)
    page.evaluate("document.getElementById('question').removeAttribute('maxlength')")  # let the server refuse it
    ask(page, "x" * 1001)
    alert = page.locator("#turn-1 .error")
    alert.wait_for()
    assert "limit is 1000" in alert.text_content()
    ask(page, "When will the withdrawal end?")
    page.locator("#turn-2 .passage").first.wait_for()
    assert "January 19" in page.locator("#turn-2 mark.highlight").first.text_content()
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, "no sideways scrolling on a phone"
    save_screenshot(page, tmp_path, "chat-phone.png")


def test_sources_that_agree_are_listed_with_the_value(page, site):
    url, _ = site

    def hit(rank: int, path: str) -> dict:
        text = "The last troops left on January 19."
        source = {"path": path, "id": None, "title": None, "publisher": path[:-4], "published": None, "byline": None}
        return {
            "rank": rank, "score": 0.5, "id": f"p{rank}", "text": text, "start": 0, "end": len(text),
            "line_start": 1, "line_end": 1, "source": source, "highlight": {"start": 0, "end": len(text)},
            "scores": {"dense": 0.5, "bm25": None}, "also_in": [],
        }  # fmt: skip

    def given_by(rank: int, path: str) -> dict:
        return {"rank": rank, "path": path, "source_id": None, "title": None, "publisher": path[:-4],
                "start": 23, "end": 33, "copy": False}  # fmt: skip

    agree = {
        "question": "When did the withdrawal finish?", "answered": True, "confidence": 0.9, "evidence": None,
        "disagree": False, "passages": [hit(1, "Gazette.txt"), hit(2, "Courier.txt")],
        "values": [{"value": "January 19", "sources": [given_by(1, "Gazette.txt"), given_by(2, "Courier.txt")]}],
    }  # fmt: skip
    page.route("**/search", lambda route: route.fulfill(status=200, content_type="application/json", json=agree))
    page.goto(url)
    ask(page, "When did the withdrawal finish?")
    panel = page.locator("#turn-1 .agree")
    panel.wait_for()
    assert panel.locator(".disagree-title").text_content() == "The sources agree:"
    assert "January 19" in panel.text_content() and "Gazette" in panel.text_content()
    assert page.locator("#turn-1 .disagree").count() == 0
    assert page.problems == []


def test_the_exact_answer_is_marked_inside_the_highlight(page, site):
    url, _ = site
    text = "Troops began to leave. The last troops left on January 19."
    at = text.index("The last")
    source = {"path": "Gazette.txt", "id": None, "title": None, "publisher": "Gazette", "published": None,
              "byline": None}  # fmt: skip
    hit = {
        "rank": 1, "score": 0.5, "id": "p1", "text": text, "start": 100, "end": 100 + len(text),
        "line_start": 1, "line_end": 1, "source": source, "highlight": {"start": 100 + at, "end": 100 + len(text)},
        "scores": {"dense": 0.5, "bm25": None}, "also_in": [],
    }  # fmt: skip
    day = 100 + text.index("January 19")
    reply = {
        "question": "When did the last troops leave?", "answered": True, "confidence": 0.9, "evidence": None,
        "disagree": False, "values": [], "passages": [hit],
        "answer": {"start": day, "end": day + len("January 19"), "text": "January 19"},
    }  # fmt: skip
    page.route("**/search", lambda route: route.fulfill(status=200, content_type="application/json", json=reply))
    page.goto(url)
    ask(page, "When did the last troops leave?")
    answer = page.locator("#turn-1 mark.highlight mark.answer")
    answer.wait_for()
    assert answer.text_content() == "January 19"
    assert words(page.locator("#turn-1 mark.highlight").text_content()) == "The last troops left on January 19."
    assert words(page.locator("#turn-1 .quote").text_content()) == words(text)
    assert page.problems == []


def test_marks_after_emoji_cover_the_right_characters(page, site):
    """Offsets count code points (Python's str); an emoji is two UTF-16 units in JS, so slicing by units would
    shift every mark after it."""
    url, _ = site
    text = "🇰🇿 Troops 🚚 began to leave. 👍 The last troops left on January 19. 😀 End."
    sentence = "The last troops left on January 19."
    at, day = text.index(sentence), text.index("January 19")
    source = {"path": "Gazette.txt", "id": None, "title": None, "publisher": "Gazette", "published": None,
              "byline": None}  # fmt: skip
    hit = {
        "rank": 1, "score": 0.5, "id": "p1", "text": text, "start": 100, "end": 100 + len(text),
        "line_start": 1, "line_end": 1, "source": source,
        "highlight": {"start": 100 + at, "end": 100 + at + len(sentence)},
        "scores": {"dense": 0.5, "bm25": None}, "also_in": [],
    }  # fmt: skip
    reply = {
        "question": "When did the last troops leave?", "answered": True, "confidence": 0.9, "evidence": None,
        "disagree": False, "values": [], "passages": [hit],
        "answer": {"start": 100 + day, "end": 100 + day + len("January 19"), "text": "January 19"},
    }  # fmt: skip
    context = {
        "id": "p1", "source": source, "more_before": False, "more_after": False,
        "passages": [{"id": "p1", "text": text, "start": 100, "end": 100 + len(text), "line_start": 1,
                      "line_end": 1, "current": True}],
    }  # fmt: skip
    page.route("**/search", lambda route: route.fulfill(status=200, content_type="application/json", json=reply))
    page.route("**/passages/p1/context*", lambda route: route.fulfill(status=200, json=context))
    page.goto(url)
    ask(page, "When did the last troops leave?")
    page.locator("#turn-1 mark.highlight mark.answer").wait_for()
    assert page.locator("#turn-1 mark.highlight").text_content() == sentence
    assert page.locator("#turn-1 mark.answer").text_content() == "January 19"
    assert page.locator("#turn-1 .quote").text_content() == text
    page.locator("#turn-1").get_by_role("button", name="Read in the article").click()
    page.locator("#reader .context.current mark.highlight").wait_for()
    assert page.locator("#reader .context.current mark.highlight").text_content() == sentence
    assert page.problems == []
