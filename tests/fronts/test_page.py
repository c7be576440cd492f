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
from qa.citations import markdown
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
    # retrieval alone: these tests check how the page shows a known answer (the reader's own: test_reader_e2e.py)
    retriever = Retriever.open(
        docs=write_corpus(root / "docs"), index=root / "index", embedder=HashEmbedder(), reader=False
    )
    with running_server(create_app(retriever)) as port:
        yield f"http://127.0.0.1:{port}", retriever


@pytest.fixture(scope="module")
def browser(site, tmp_path_factory):
    """One headless Chromium for the module (a page per test): starting it is most of a page test's time."""
    from playwright.sync_api import sync_playwright

    executable = chromium()
    home = tmp_path_factory.mktemp("chromium")
    profile = home / "profile"  # a new, empty profile
    profile.mkdir()
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(executable),
            headless=True,
            args=FLAGS,
            viewport={"width": 1280, "height": 900},
            # Chromium keeps crash-report settings under $XDG_CONFIG_HOME: the test's own folder, not $HOME
            env={**os.environ, "XDG_CONFIG_HOME": str(home / "config"), "HOME": str(home)},
        )
        # the page's "Copy" buttons write the clipboard; the tests read it back
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site[0])
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def page(browser):
    page = browser.new_page()
    page.set_default_timeout(30_000)
    page.problems = []
    page.on("pageerror", lambda error: page.problems.append(f"page error: {error}"))
    page.on("console", lambda m: m.type == "error" and page.problems.append(f"console: {m.text}"))
    try:
        yield page
    finally:
        page.close()


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
    # the header names the corpus (its folder) and its counts
    expected_status = f"docs · {retriever.document_count} articles · {len(retriever)} passages"
    expect(page.locator("#index-status")).to_have_text(expected_status)
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


def test_copy_citation_and_the_answer_as_markdown(page, site):
    url, retriever = site
    page.goto(url)
    question = "How many troops were sent to guard power plants?"
    ask(page, question)
    cards = page.locator("#turn-1 .passage")
    cards.first.wait_for()
    expected = retriever.search(question)
    button = cards.first.get_by_role("button", name="Copy citation")
    button.click()
    expect(cards.first.locator(".copy-citation")).to_have_text("Copied ✓")  # seen, then back to its label
    assert page.evaluate("navigator.clipboard.readText()") == expected.hits[0].citation().text
    expect(cards.first.locator(".copy-citation")).to_have_text("Copy citation", timeout=5_000)

    with page.expect_request("**/search?format=markdown") as request:
        page.locator("#turn-1").get_by_role("button", name="Copy as Markdown").click()
    assert json.loads(request.value.post_data)["question"] == question, "the answer's own request, again"
    expect(page.locator("#turn-1 .copy-markdown")).to_have_text("Copied ✓")
    assert page.evaluate("navigator.clipboard.readText()") == markdown(expected)

    # without the Clipboard API (a page served over plain http to another machine): a hidden textarea
    page.evaluate(
        """() => {
            Object.defineProperty(navigator, "clipboard", { value: undefined, configurable: true });
            const real = document.execCommand.bind(document);
            document.execCommand = (command) => {
                window.copiedByFallback = document.activeElement.value;
                return real(command);
            };
        }"""
    )
    second = cards.nth(1)
    second.get_by_role("button", name="Copy citation").click()
    expect(second.locator(".copy-citation")).to_have_text("Copied ✓")
    assert page.evaluate("window.copiedByFallback") == expected.hits[1].citation().text
    assert page.locator(".clipboard-fallback").count() == 0, "the textarea is gone again"

    # the score explains itself
    help_button = cards.first.get_by_role("button", name="What the score means")
    legend = cards.first.locator(".score-legend")
    expect(legend).to_be_hidden()
    help_button.click()
    expect(legend).to_be_visible()
    assert "higher is better" in legend.text_content() and "cosine" in legend.text_content()
    assert page.problems == []


def test_filters_are_sent_and_narrow_the_answer(page, site, tmp_path):
    url, retriever = site
    page.goto(url)
    page.locator("#filters summary").click()
    page.get_by_label("Source").fill("reuters")
    expect(page.locator("#filters-on")).to_have_text(" · 1 on")
    question = "Why did the protests start?"
    sent = ask(page, question)
    assert sent["source"] == "reuters" and "since" not in sent and "until" not in sent
    turn = page.locator("#turn-1")
    turn.locator(".passage").first.wait_for()
    expected = retriever.search(question, source="reuters")
    assert turn.locator(".passage").count() == len(expected.hits) > 0
    for label in turn.locator(".source-label").all():
        assert "Reuters" in label.text_content(), "every passage is from the filtered source"
    assert turn.locator(".also-in").count() == 0, "the wire copy is filtered out"
    assert turn.locator(".filters-used").text_content() == "Filters: source “reuters”"

    page.get_by_label("Source").fill("no such paper")
    page.get_by_label("Since").fill("2022-01-01")
    sent = ask(page, question)
    assert sent["source"] == "no such paper" and sent["since"] == "2022-01-01"
    turn = page.locator("#turn-2")
    reason = retriever.search(question, source="no such paper", since="2022-01-01").to_dict().get("empty_reason")
    shown = reason[0].upper() + reason[1:] if reason else "No passages found."  # the server's reason, or the fact
    expect(turn.locator(".notice.empty")).to_have_text(shown)
    assert "since 2022-01-01" in turn.locator(".filters-used").text_content()
    save_screenshot(page, tmp_path, "chat-filters.png")

    # one click clears them all, and the next question goes without
    page.get_by_role("button", name="Clear filters").click()
    expect(page.get_by_role("button", name="Clear filters")).to_be_hidden()
    assert page.get_by_label("Source").input_value() == "" and page.get_by_label("Since").input_value() == ""
    sent = ask(page, question)
    assert set(sent) == {"question", "k", "mode", "context"}
    page.locator("#turn-3 .passage").first.wait_for()
    assert page.locator("#turn-3 .filters-used").count() == 0

    # the server's reason for an empty answer, when it gives one, is shown instead of the bare fact
    reason = "No article matches the filters (source “nobody”)."
    empty = {"question": "q", "answered": False, "confidence": None, "evidence": None, "disagree": False,
             "values": [], "answer": None, "passages": [], "warnings": [], "empty_reason": reason}  # fmt: skip
    page.route("**/search", lambda route: route.fulfill(status=200, json=empty))
    ask(page, "Anything?")
    expect(page.locator("#turn-4 .notice.empty")).to_have_text(reason)
    expect(page.locator("#live")).to_have_text(reason)
    assert page.problems == []


def fake_hit(rank: int, title: str, *, url: str | None = None, text: str = "The last troops left on January 19."):
    source = {"path": f"seeds/{rank:03d}.txt", "id": None, "title": title, "publisher": "Daily Sabah",
              "published": "2022-01-13", "byline": "Reuters", "url": url}  # fmt: skip
    citation = {"text": f"Daily Sabah, 13 January 2022: “{text}” ({title}; seeds/{rank:03d}.txt, line 1)",
                "quote": text, "start": 0, "end": len(text), "line_start": 1, "line_end": 1,
                "url": url and f"{url}#:~:text=The%20last%20troops"}  # fmt: skip
    return {
        "rank": rank, "score": 0.5, "id": f"p{rank}", "text": text, "start": 0, "end": len(text),
        "line_start": 1, "line_end": 1, "source": source, "highlight": {"start": 0, "end": len(text)},
        "scores": {"dense": 0.5, "bm25": 2.0}, "also_in": [], "citation": citation,
    }  # fmt: skip


def fake_answer(hits: list[dict]) -> dict:
    return {"question": "q", "answered": True, "confidence": 0.9, "evidence": None, "disagree": False,
            "values": [], "answer": None, "passages": hits, "warnings": []}  # fmt: skip


def test_dates_never_wrap_on_a_phone_and_sources_link_to_the_article(page, site, tmp_path):
    url, _ = site
    page.set_viewport_size({"width": 375, "height": 800})
    # headlines one character longer each: somewhere the date falls at a line's end
    hits = [fake_hit(rank, "Troops leave " + "x" * rank) for rank in range(1, 41)]
    hits[0]["source"]["url"] = "https://example.com/troops"
    hits[0]["citation"]["url"] = "https://example.com/troops#:~:text=The%20last%20troops"
    hits[1]["source"]["url"] = hits[1]["citation"]["url"] = "javascript:window.pwned=1"
    page.route("**/search", lambda route: route.fulfill(status=200, json=fake_answer(hits)))
    page.goto(url)
    ask(page, "When did the last troops leave?")
    dates = page.locator("#turn-1 .passage-head time.date")
    expect(dates).to_have_count(len(hits))
    lines = page.evaluate(
        """() => [...document.querySelectorAll("#turn-1 .passage-head time.date")].map((date) => ({
            rects: date.getClientRects().length,
            height: date.getBoundingClientRect().height,
            line: parseFloat(getComputedStyle(date.closest(".passage-head")).lineHeight),
        }))"""
    )
    for rank, line in enumerate(lines, start=1):
        assert line["rects"] == 1 and line["height"] < 1.5 * line["line"], f"the date of passage {rank} wraps"
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, "no sideways scrolling on a phone"
    save_screenshot(page, tmp_path, "chat-phone-dates.png")

    link = page.locator("#turn-1-passage-1 a.source-link")
    assert link.get_attribute("href") == hits[0]["citation"]["url"], "the source opens at the quoted words"
    assert link.get_attribute("target") == "_blank" and "noopener" in link.get_attribute("rel")
    assert page.locator("#turn-1-passage-1 .source-label").text_content() == (
        "Troops leave x · Daily Sabah · 2022-01-13 · Reuters"
    )
    assert page.locator("#turn-1-passage-2 a").count() == 0, "only a web address becomes a link"
    assert page.problems == []


def test_the_article_opens_at_the_passage_under_its_headline(page, site, tmp_path):
    url, _ = site
    page.set_viewport_size({"width": 375, "height": 667})
    paragraph = "Officials said the troops would leave within days, and the alliance agreed. " * 4
    texts = [f"Paragraph {n}. {paragraph}" for n in range(1, 9)]
    passages, at = [], 0
    for n, text in enumerate(texts):
        passages.append({"id": f"c{n}", "text": text, "start": at, "end": at + len(text), "line_start": n + 1,
                         "line_end": n + 1, "current": n == 6})  # fmt: skip
        at += len(text) + 2
    hit = fake_hit(1, "Troops leave Kazakhstan after a week", text=texts[6])
    hit.update(id="c6", start=passages[6]["start"], end=passages[6]["end"], highlight=None)
    context = {"id": "c6", "source": hit["source"], "passages": passages, "more_before": False, "more_after": True}
    page.route("**/search", lambda route: route.fulfill(status=200, json=fake_answer([hit])))
    page.route("**/passages/c6/context*", lambda route: route.fulfill(status=200, json=context))
    page.goto(url)
    ask(page, "When will the troops leave?")
    page.locator("#turn-1").get_by_role("button", name="Read in the article").click()
    reader = page.locator("#reader")
    current = reader.locator(".context.current")
    expect(current).to_contain_text("Paragraph 7.")
    expect(reader.locator("#reader-title")).to_have_text("Troops leave Kazakhstan after a week")
    close = reader.get_by_role("button", name="Close", exact=True)
    expect(close).to_be_visible()
    box = reader.bounding_box()
    head = reader.locator(".reader-head").bounding_box()
    shown = current.bounding_box()
    assert reader.evaluate("dialog => dialog.scrollTop") > 0, "the article is scrolled to the passage"
    assert abs(head["y"] - box["y"]) < 2, "the headline stays at the top of the dialog"
    assert head["y"] + head["height"] <= shown["y"] + 1, "the passage is below the headline, not under it"
    assert shown["y"] < box["y"] + box["height"], "the passage is in view"
    save_screenshot(page, tmp_path, "chat-article-phone.png")
    page.keyboard.press("Escape")
    expect(reader).to_be_hidden()
    # and the × closes it too
    page.locator("#turn-1").get_by_role("button", name="Read in the article").click()
    expect(close).to_be_visible()
    close.click()
    expect(reader).to_be_hidden()
    assert page.problems == []
