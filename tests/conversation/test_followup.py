"""Follow-up resolution: which questions lean on the last turn, and what is searched for them."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from qa.conversation.followup import (
    MAX_ANSWER,
    MAX_CARRIED,
    MAX_SALIENT,
    Resolved,
    content_words,
    followup_reason,
    resolve,
    salient_words,
)
from qa.records import Turn

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


def test_the_query_is_the_question_then_the_topic_then_the_last_answers_names():
    resolved = resolve("and in Almaty?", [TROOPS])
    # the connective goes; the last question's content words follow in their order (its topic)
    assert resolved.query == "in Almaty? troops CSTO send Kazakhstan"
    answered = Turn(
        TROOPS.question, highlight="On Thursday about 2,000 CSTO troops were sent at the request of Tokayev."
    )
    # then the names of the last answer's highlighted sentence not said yet
    assert resolve("how many of them were Russian?", [answered]).query == (
        "how many of them were Russian? troops CSTO send Kazakhstan Tokayev"
    )
    abstained = Turn(TROOPS.question, highlight=answered.highlight, answered=False)
    assert "Tokayev" not in resolve("how many of them were Russian?", [abstained]).query  # not an answer


def test_the_topic_fades_over_follow_ups_that_do_not_name_it_and_a_new_question_replaces_it():
    first = resolve("Who commanded the CSTO troops in Kazakhstan?", [])
    assert first.topic == (("commanded", 0.7), ("CSTO", 1.0), ("troops", 0.7), ("Kazakhstan", 1.0))
    turns = [Turn(first.query, topic=first.topic)]
    queries = []
    for question in ("When did they leave?", "And why?", "How many of them?"):
        resolved = resolve(question, turns)
        queries.append(resolved.query)
        turns.append(Turn(question, resolved.query, topic=resolved.topic))
    # weight × 0.7 a turn, searched while at least 0.3: names (1.0) outlast other words (0.7)
    assert queries[0] == "When did they leave? commanded CSTO troops Kazakhstan"
    assert queries[1] == "why? commanded CSTO troops Kazakhstan leave"
    assert queries[2] == "How many of them? CSTO Kazakhstan leave"  # "commanded", "troops" have faded
    faded = resolve("Why?", turns)  # three follow-ups on, the names have faded too
    assert (faded.query, faded.used_context) == ("Why?", False)
    assert faded.reason == "too short to stand alone, but its topic has faded: ask it in full"
    fresh = resolve("Who is Jen Psaki?", turns)
    assert fresh.query == "Who is Jen Psaki?" and {w for w, _ in fresh.topic} == {"Jen", "Psaki"}


def test_words_already_in_the_question_are_not_repeated():
    resolved = resolve("How many of the troops were sent home?", [TROOPS])  # no pronoun: but "sent" vs "send"
    assert not resolved.used_context
    query = resolve("How many of them did the CSTO send home?", [TROOPS]).query
    assert query.count("CSTO") == 1 and " send " not in query.split("?", 1)[1] + " "


def test_context_carries_over_a_chain_through_the_topic():
    first_question = "Who asked the CSTO for help?"
    first = Turn(first_question, topic=resolve(first_question, []).topic)
    second = resolve("why did he ask?", [first])
    third = resolve("when did they start?", [first, Turn("why did he ask?", second.query, topic=second.topic)])
    assert third.used_context
    assert "CSTO" in third.query and "help" in third.query  # carried from turn 1 through turn 2's topic
    assert len(third.query.split("?", 1)[1].split()) <= MAX_CARRIED + MAX_ANSWER + MAX_SALIENT


def test_a_last_turn_without_content_words_adds_nothing():
    resolved = resolve("and then?", [Turn("Why?")])
    assert resolved == Resolved("and then?", False, "starts with 'and', but the last turn has no content words")


def test_turn_of_keeps_the_question_the_query_top_passage_texts_topic_and_answer():
    hits = [
        SimpleNamespace(text=f"passage {i}", highlight_text=f"sentence {i}", passage=SimpleNamespace(doc_key=f"d{i}"))
        for i in range(3)
    ]
    result = SimpleNamespace(hits=hits, answered=True)
    topic = (("troops", 0.7),)
    turn = Turn.of("who led them?", result, "who led them? troops", topic=topic)
    expected = Turn(
        "who led them?", "who led them? troops", ("passage 0", "passage 1"), topic, "sentence 0", True, "d0"
    )
    assert turn == expected  # the topic article: the document the answer came from
    assert Turn.of("q?", result).searched == "q?"
    abstained = Turn.of("q?", SimpleNamespace(hits=hits, answered=False))
    assert not abstained.answered and abstained.article is None
    assert not Turn.of("q?", SimpleNamespace(hits=[], answered=True)).answered


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
    from qa.conversation.followup import history_resolver

    retriever = open_hashed(corpus)
    resolve_with = history_resolver(retriever)
    assert resolve_with("What set police vehicles ablaze?", []).query == "What set police vehicles ablaze?"
    resolved = resolve_with("and when did they start?", ["Why did the fuel price protests happen?"])
    query = resolved.query
    assert resolved.used_context and resolved.article is not None  # the first answer's article is read first
    assert query.startswith("when did they start?") or query.startswith("when did they start")
    assert "fuel" in query.lower()


def test_bbc_dialogue_file_is_well_formed():
    bbc = ROOT.parent / "shared" / "data" / "bbc"
    if not bbc.is_dir():
        pytest.skip(f"the BBC corpus is not at {bbc}")
    lines = (ROOT / "bench" / "bbc_dialogues.jsonl").read_text(encoding="utf-8").splitlines()
    dialogues = [json.loads(line) for line in lines if line.strip()]
    assert len(dialogues) >= 30 and len({d["id"] for d in dialogues}) == len(dialogues)
    for dialogue in dialogues:
        text = (bbc / dialogue["path"]).read_text(encoding="utf-8", errors="replace")
        assert all(answer in text for answer in dialogue["answers"] + dialogue["answers_1"]), dialogue["id"]
        assert followup_reason(dialogue["turns"][0]) is None, dialogue["turns"][0]
