"""Whose article a passage is from: metadata, filters by source and date, wire copies, --explain."""

from __future__ import annotations

import json
import re

import pytest

from qa import BadInputError

STORY = [
    "The city council approved the new harbour budget on Tuesday after a long debate about repairs to the "
    "old sea wall and the cost of dredging the shipping channel.",
    "Council members said the work would start in the spring and take about two years to finish, with the "
    "port staying open for fishing boats throughout the repairs.",
    "Residents who spoke at the meeting asked for a public walkway along the new wall, and the mayor promised "
    "to study the idea before the summer.",
]
OTHER = [
    "Heavy snow closed the mountain pass for a third day, and drivers were told to avoid the northern road "
    "until ploughs could clear the drifts near the summit.",
    "Forecasters expect the weather to improve by the weekend, when the pass should reopen to cars and light "
    "vans but not yet to heavy lorries.",
]


def article(headline: str, paragraphs: list[str], *, dateline: str | None = None, imprint: str | None = None) -> str:
    parts = [headline, *([dateline] if dateline else []), *paragraphs, *([imprint] if imprint else [])]
    return "\n\n".join(parts) + "\n"


@pytest.fixture()
def wire(tmp_path):
    """Two sites running the same agency story, and an unrelated one."""
    docs = tmp_path / "wire"
    docs.mkdir()
    (docs / "gazette.txt").write_text(
        article(
            "Harbour budget approved",
            STORY,
            dateline="Published January 14, 2022",
            imprint="Published in Gazette, January 14th, 2022",
        ),
        encoding="utf-8",
    )
    (docs / "courier.txt").write_text(
        article(
            "Council backs harbour plan",
            STORY,
            dateline="Jan 15, 2022 - 9:00 am",
            imprint="Published in Courier, January 15th, 2022",
        ),
        encoding="utf-8",
    )
    (docs / "snow.txt").write_text(
        article(
            "Snow closes pass",
            OTHER,
            dateline="Published February 2, 2022",
            imprint="Published in Mountain Post, February 2nd, 2022",
        ),
        encoding="utf-8",
    )
    return docs


def test_metadata_from_the_page_reaches_every_hit(wire, tmp_path, open_hashed):
    hit = open_hashed(wire).search("snow on the mountain pass", k=1).hits[0]
    assert hit.source.to_dict() == {
        "path": str(wire / "snow.txt"),
        "id": None,
        "title": "Snow closes pass",
        "publisher": "Mountain Post",
        "published": "2022-02-02",
        "byline": None,
        "url": None,
    }


def test_the_same_story_on_two_sites_is_shown_once_with_the_other_listed(wire, tmp_path, open_hashed):
    result = open_hashed(wire).search("harbour budget sea wall repairs", k=3)
    paths = [hit.source.path for hit in result.hits]
    assert len(paths) == len(set(paths)) or all(h.also_in for h in result.hits[:1])
    top = result.hits[0]
    assert top.source.path.endswith(("gazette.txt", "courier.txt"))
    other = "courier.txt" if top.source.path.endswith("gazette.txt") else "gazette.txt"
    assert [a.source.path for a in top.also_in] == [str(wire / other)]
    copy = top.also_in[0]
    text = (wire / other).read_text(encoding="utf-8")
    # the copy points at the exact stretch of the other file that repeats the passage
    assert text[copy.start : copy.end] in top.text or top.text in text[copy.start : copy.end]
    assert copy.line_start == text.count("\n", 0, copy.start) + 1
    assert copy.similarity == pytest.approx(1.0, abs=1e-3)
    # the copy is not shown again as a hit of its own
    shown = [(h.source.path, h.start) for h in result.hits]
    assert (str(wire / other), copy.start) not in shown
    as_json = top.to_dict()["also_in"][0]
    assert set(as_json) >= {"path", "id", "start", "end", "title", "publisher"}
    assert as_json["publisher"] == ("Courier" if other == "courier.txt" else "Gazette")
    # "read in the article" on the copy: its passage is found by the id the answer gives
    named = open_hashed(wire).passage(copy.passage_id)  # a fresh retriever: found in the database
    assert named is not None and named.start <= copy.start < named.end
    assert result_passage_is_remembered(open_hashed(wire), copy.passage_id)


def result_passage_is_remembered(retriever, passage_id):
    """After an answer names it, the passage is found without reading the database."""
    retriever.search("harbour budget sea wall repairs", k=3)
    retriever._index.passage_with_id = None  # noqa: SLF001 - any read by id would now fail
    return retriever.passage(passage_id) is not None


def test_grouping_can_be_turned_off(wire, tmp_path, open_hashed):
    result = open_hashed(wire).search("harbour budget sea wall repairs", k=2, group_copies=False)
    assert {h.source.path for h in result.hits} == {str(wire / "gazette.txt"), str(wire / "courier.txt")}
    assert all(not h.also_in for h in result.hits)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"source": "courier"}, {"courier.txt"}),
        ({"source": "MOUNTAIN"}, {"snow.txt"}),
        ({"since": "2022-01-15"}, {"courier.txt", "snow.txt"}),
        ({"until": "2022-01-14"}, {"gazette.txt"}),
        ({"since": "2022-01-15", "until": "2022-01-31"}, {"courier.txt"}),
        ({"since": "2023-01-01"}, set()),
    ],
)
def test_filters_by_source_and_date(wire, tmp_path, filters, expected, open_hashed):
    result = open_hashed(wire).search("harbour snow pass", k=10, group_copies=False, **filters)
    assert {h.source.path.rsplit("/", 1)[-1] for h in result.hits} == expected


def test_date_filters_leave_out_undated_articles(tmp_path, open_hashed):
    docs = tmp_path / "undated"
    docs.mkdir()
    (docs / "a.txt").write_text(article("Harbour budget approved", STORY), encoding="utf-8")
    retriever = open_hashed(docs)
    assert retriever.search("harbour", k=3).hits
    assert retriever.search("harbour", k=3, since="2000-01-01").hits == []


@pytest.mark.parametrize(
    ("filters", "reason"),
    [
        ({"source": "xyz"}, "no article's publisher, byline, title or path contains 'xyz'"),
        (
            {"since": "2023-01-01"},
            "no article is dated on or after 2023-01-01 (the articles are dated 2022-01-14 to 2022-02-02)",
        ),
        (
            {"until": "2021-12-31"},
            "no article is dated on or before 2021-12-31 (the articles are dated 2022-01-14 to 2022-02-02)",
        ),
        (
            {"since": "2022-01-20", "until": "2022-01-31"},
            "no article is dated between 2022-01-20 and 2022-01-31 (the articles are dated 2022-01-14 to 2022-02-02)",
        ),
        (
            {"source": "courier", "since": "2022-02-01"},
            "no article matching 'courier' is dated on or after 2022-02-01 (the matching article is dated 2022-01-15)",
        ),
        ({"since": "2022-02-01", "until": "2022-01-01"}, "the date range is empty: 2022-02-01 is after 2022-01-01"),
    ],
)
def test_an_empty_answer_says_why_for_every_front(wire, filters, reason, open_hashed):
    result = open_hashed(wire).search("harbour", **filters)
    assert result.hits == [] and result.empty_reason == reason
    assert result.to_dict()["empty_reason"] == reason, "the HTTP API and --json carry it too"
    assert open_hashed(wire).search("harbour").empty_reason is None


def test_an_empty_answer_counts_the_undated_articles(tmp_path, open_hashed):
    docs = tmp_path / "undated"
    docs.mkdir()
    (docs / "a.txt").write_text(article("Harbour budget approved", STORY), encoding="utf-8")
    (docs / "b.txt").write_text(article("Snow closes pass", OTHER), encoding="utf-8")
    result = open_hashed(docs).search("harbour", since="2000-01-01")
    assert result.empty_reason == "no article is dated on or after 2000-01-01 (2 articles have no date)"


@pytest.mark.parametrize("bad", ["14/01/2022", "2022-13-01", "yesterday", "2022-1-5"])
def test_bad_dates_are_refused(wire, tmp_path, bad, open_hashed):
    with pytest.raises(BadInputError, match="YYYY-MM-DD"):
        open_hashed(wire).search("harbour", since=bad)


def test_cli_filters_and_also_in(cli, wire, tmp_path, hash_model):
    base = ["--docs", str(wire), "--index", str(tmp_path / "idx"), "-q"]
    code, out, err = cli("harbour sea wall", "--json", "--source", "gazette", *base)
    assert code == 0, err
    passages = json.loads(out)["passages"]
    assert passages and {p["source"]["publisher"] for p in passages} == {"Gazette"}
    code, out, err = cli("harbour sea wall", *base)
    assert code == 0, err
    assert re.search(r"also in: (Courier|Gazette), \S+(courier|gazette)\.txt:\d+", out)
    assert "Harbour budget approved · Gazette · 2022-01-14" in out or "Council backs harbour plan · Courier" in out


@pytest.mark.parametrize("option", ["--since", "--until"])
def test_cli_bad_date_is_a_usage_error(cli, wire, tmp_path, hash_model, option):
    code, out, err = cli("harbour", option, "January", "--docs", str(wire), "--index", str(tmp_path / "i"))
    assert (code, out) == (2, "")
    assert err == f"error: {option} takes a date as YYYY-MM-DD, got 'January'\n"
    assert not (tmp_path / "i").exists(), "refused before any index work"


def test_explain_shows_every_line_with_its_decision(cli, seeds):
    code, out, err = cli("--explain", str(seeds / "004_92528f7ecbf4df69.txt"))
    assert code == 0, err
    assert "publisher  Dawn" in out and "published  2022-01-14" in out
    lines = [line for line in out.splitlines() if re.match(r"^\s+\d+  (keep|drop|title)", line)]
    text = (seeds / "004_92528f7ecbf4df69.txt").read_text(encoding="utf-8")
    assert len(lines) == sum(1 for line in text.splitlines() if line.strip())
    assert re.search(r"^\s+1  title", out, re.M)
    assert re.search(r"^\s+7  keep\s+article text\s+ALMATY: Russian troops", out, re.M)
    assert re.search(r"^\s+48  drop\s+teaser under a repeated headline", out, re.M)


def test_explain_json_accounts_for_every_character_of_every_line(cli, seeds):
    path = seeds / "001_d488df2065bf0050.txt"
    code, out, err = cli("--explain", str(path), "--json")
    assert code == 0, err
    report = json.loads(out)
    text = path.read_text(encoding="utf-8")
    assert report["title"] == "CSTO pulls out troops from Kazakhstan after weeklong deployment"
    assert report["byline"] == "Reuters"
    for block in report["blocks"]:
        assert text[block["start"] : block["end"]] == block["text"] and block["reason"]
    kept = sum(b["end"] - b["start"] for b in report["blocks"] if b["keep"] or b["kind"] == "headline")
    assert kept == report["kept_chars"]
    assert not any("goose" in b["text"] for b in report["blocks"] if b["keep"])


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("missing.txt", "no such"),
        (".", "one article file"),
    ],
)
def test_explain_errors_are_one_line_exit_2(cli, tmp_path, target, message):
    code, out, err = cli("--explain", str(tmp_path / target))
    assert code == 2 and out == ""
    assert err.startswith("error: ") and message in err.lower() and err.count("\n") == 1


def test_explain_takes_no_question(cli, seeds):
    code, out, err = cli("troops", "--explain", str(seeds / "004_92528f7ecbf4df69.txt"))
    assert code == 2 and "--explain FILE" in err
