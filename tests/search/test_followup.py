"""Follow-up resolution: which questions lean on the last turn, and what is searched for them."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from qa.records import Turn
from qa.search.followup import MAX_CARRIED, Resolved, content_words, followup_reason, resolve, salient_words

ROOT = Path(__file__).resolve().parents[2]

TROOPS = Turn(
    "How many troops did the CSTO send to Kazakhstan?",
    passages=(
        "It was unclear how many troops out of about 2,500 sent in by the CSTO were leaving immediately. "
        "The alliance has said the peacekeeping contingent would take 10 days to fully withdraw.",
        "Last week, CSTO forces were deployed in Kazakhstan at the request of Tokayev. About 2,000 CSTO troops "
        "and 250 military equipment were provided to Kazakhstan.",
    ),
)


@pytest.mark.parametrize(
    ("question", "reason"),
    [
        ("who led them?", "refers back with 'them'"),
        ("and in Almaty?", "starts with 'and'"),
        ("And, in Almaty?", "starts with 'and'"),
        ("what about the deadline?", "starts with 'what about'"),
        ("What  about Armenia?", "starts with 'what about'"),
        ("how many of them?", "refers back with 'them'"),
        ("when did it end?", "refers back with 'it'"),
        ("Did he name them?", "refers back with 'he'"),
        ("When did that happen?", "refers back with 'that'"),
        ("Who said that?", "refers back with 'that'"),
        ("What happened there?", "refers back with 'there'"),
        ("Who else spoke?", "refers back with 'else'"),
        ("Was it the same in Almaty?", "refers back with 'it'"),
        ("Why?", "too short to stand alone"),
        ("How many?", "too short to stand alone"),
        ("where exactly?", "too short to stand alone"),
        ("Tokayev?", "too short to stand alone"),
    ],
)
def test_followups_lean_on_the_last_turn(question, reason):
    assert followup_reason(question) == reason
    resolved = resolve(question, [TROOPS])
    assert resolved.used_context and resolved.reason == reason


@pytest.mark.parametrize(
    "question",
    [
        "When did the withdrawal finish?",
        "Who is Shoigu?",
        "Who said that the troops would leave?",  # "that" as a conjunction
        "Were there foreign troops in Almaty?",  # existential "there"
        "What did protesters do to police vehicles?",
        "How many people were detained over the unrest?",
        "What did Putin say this week about the mission in Kazakhstan?",
    ],
)
def test_self_contained_questions_start_afresh(question):
    assert followup_reason(question) is None
    assert resolve(question, [TROOPS]) == Resolved(question, False, "self-contained")


def test_without_a_previous_turn_the_question_is_searched_as_it_is():
    assert resolve("  who led   them? ", []) == Resolved("who led them?", False, "no previous turn")


def test_the_query_is_the_question_then_the_last_questions_words_then_salient_passage_words():
    resolved = resolve("and in Almaty?", [TROOPS])
    # the connective goes; the last question's content words follow; then the most repeated passage word
    # not there yet (CSTO, troops and Kazakhstan repeat most but are there already; then names first)
    assert resolved.query == "in Almaty? troops CSTO send Kazakhstan Tokayev"
    assert resolve("how many of them were Russian?", [TROOPS]).query.startswith(
        "how many of them were Russian? troops CSTO send Kazakhstan"
    )


def test_words_already_in_the_question_are_not_repeated():
    resolved = resolve("How many of the troops were sent home?", [TROOPS])  # no pronoun: but "sent" vs "send"
    assert not resolved.used_context
    query = resolve("How many of them did the CSTO send home?", [TROOPS]).query
    assert query.count("CSTO") == 1 and " send " not in query.split("?", 1)[1] + " "


def test_only_the_last_turn_counts_and_context_carries_over_a_chain():
    first = Turn("Who asked the CSTO for help?", passages=("Tokayev requested help from the CSTO.",))
    second_query = resolve("why did he ask?", [first]).query
    second = Turn("why did he ask?", query=second_query, passages=("Protests over fuel prices turned violent.",))
    third = resolve("when did they start?", [first, second])
    assert third.used_context
    assert "CSTO" in third.query and "help" in third.query  # carried from turn 1 through turn 2's query
    assert len(third.query.split("?", 1)[1].split()) <= MAX_CARRIED + 1


def test_a_last_turn_without_content_words_adds_nothing():
    resolved = resolve("and then?", [Turn("Why?")])
    assert resolved == Resolved("and then?", False, "starts with 'and', but the last turn has no content words")


def test_turn_of_keeps_the_question_the_query_and_top_passage_texts():
    result = SimpleNamespace(hits=[SimpleNamespace(text=f"passage {i}") for i in range(3)])
    turn = Turn.of("who led them?", result, "who led them? troops")
    assert turn == Turn("who led them?", "who led them? troops", ("passage 0", "passage 1"))
    assert Turn.of("q?", result).searched == "q?"


def test_content_and_salient_words():
    assert content_words("How many troops did the CSTO send to Kazakhstan?") == ["troops", "CSTO", "send", "Kazakhstan"]
    # repetition first (stemmed: troops = troop), then names before other words, then order of appearance
    words = salient_words(["The troops left Almaty. A troop stayed in Almaty.", "Almaty airport reopened."])
    assert words[:3] == ["Almaty", "troops", "left"]
    assert "The" not in words and "A" not in words


def test_dialogue_benchmark_file_is_well_formed():
    seeds = "\n".join(path.read_text(encoding="utf-8") for path in sorted((ROOT / "seeds").glob("*.txt")))
    lines = (ROOT / "bench" / "dialogues.jsonl").read_text(encoding="utf-8").splitlines()
    dialogues = [json.loads(line) for line in lines if line.strip()]
    assert len(dialogues) >= 15
    assert len({d["id"] for d in dialogues}) == len(dialogues)
    for dialogue in dialogues:
        assert set(dialogue) == {"id", "turns", "answers"} and len(dialogue["turns"]) == 2
        assert dialogue["answers"] and all(answer in seeds for answer in dialogue["answers"]), dialogue["id"]
        assert followup_reason(dialogue["turns"][1]) is not None, dialogue["turns"][1]
        assert followup_reason(dialogue["turns"][0]) is None, dialogue["turns"][0]


def test_history_resolver_carries_the_previous_question_into_a_follow_up(corpus, tmp_path, open_hashed):
    from qa.search.followup import history_resolver

    retriever = open_hashed(corpus)
    resolve_with = history_resolver(retriever)
    assert resolve_with("What set police vehicles ablaze?", []) == "What set police vehicles ablaze?"
    query = resolve_with("and when did they start?", ["Why did the fuel price protests happen?"])
    assert query.startswith("when did they start?") or query.startswith("when did they start")
    assert "fuel" in query.lower()
