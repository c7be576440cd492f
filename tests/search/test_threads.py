"""One Retriever shared by 8 threads answers exactly as it does from one: stems, searches and follow-ups."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from qa import Retriever
from qa.conversation.followup import history_resolver, resolve
from qa.records import Turn
from qa.text.words import WORD, stem, stem_words

THREADS = 8
ROUNDS = 3
QUESTIONS = (
    "When did the withdrawal finish?",
    "How many troops did the CSTO send to Kazakhstan?",
    "What triggered the protests?",
    "How many people were detained over the unrest?",
    "How did Putin describe the way the operation went?",
    "Who asked the CSTO for help?",
    "Who is the Russian defence minister?",
    "When did Almaty airport reopen?",
    "Was this the first mission of its kind for the CSTO?",
    "What did protesters do to police vehicles?",
    "What did Tokayev say about the terrorists?",
    "fuel prices",
    "U.S. reaction to the 2,500 troops",
    "Who is Shoigu?",
    "How many people died in the clashes?",
    "Where is Almaty?",
    "What happened on January 5?",
    "Why did the government resign?",
    "peacekeepers leaving Kazakhstan's airports",
    "What is the capital of Australia?",
)
DIALOGUES = (
    ("How many troops did the CSTO send?", "when did they leave?"),
    ("Who is Shoigu?", "and what did he say?"),
    ("What triggered the protests?", "how many?"),
    ("When did the withdrawal finish?", "why?"),
    ("What did Tokayev say about the terrorists?", "what about the U.S.?"),
)


def _jobs(retriever: Retriever) -> list[tuple[str, Any]]:
    """Named calls, each returning plain data: searches in every mode and with filters, and follow-ups."""
    jobs: list[tuple[str, Any]] = []
    for question in QUESTIONS:
        for mode in ("hybrid", "dense", "bm25"):
            jobs.append((f"{mode}: {question}", lambda q=question, m=mode: retriever.search(q, k=4, mode=m).to_dict()))
        jobs.append(
            (f"filtered: {question}", lambda q=question: retriever.search(q, k=2, since="2022-01-10").to_dict())
        )
    replay = history_resolver(retriever)
    for first, second in DIALOGUES:
        jobs.append((f"turn: {second}", lambda a=first, b=second: _followup(retriever, a, b)))
        jobs.append((f"replayed: {second}", lambda a=first, b=second: replay(b, [a]).query))
    return jobs


def _followup(retriever: Retriever, first: str, second: str) -> dict[str, Any]:
    earlier = retriever.search(first, k=3)
    resolved = resolve(second, [Turn.of(first, earlier)])
    answer = retriever.search(resolved.query, k=3, article=resolved.article)
    return {"query": resolved.query, "answer": answer.to_dict()}


def test_searches_and_follow_ups_from_8_threads_equal_single_threaded_ones(seeds, tmp_path, open_hashed):
    retriever = open_hashed(seeds)
    jobs = _jobs(retriever)
    expected = {name: call() for name, call in jobs}
    shuffled = random.Random(12)
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        for _ in range(ROUNDS):
            order = shuffled.sample(jobs, len(jobs))
            answers = list(pool.map(lambda job: (job[0], job[1]()), order))
            for name, answer in answers:
                assert answer == expected[name], name


def test_stemming_from_8_threads_equals_stemming_from_one(seeds):
    text = " ".join(path.read_text(encoding="utf-8") for path in sorted(seeds.iterdir()))
    words = [word.lower() for word in WORD.findall(text)]
    expected = stem_words(words)
    assert expected == [stem(word) for word in words]

    def stem_all(offset: int) -> list[str]:
        offset %= len(words)
        rotated = words[offset:] + words[:offset]
        stems = stem_words(rotated)
        return stems[len(words) - offset :] + stems[: len(words) - offset]

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        for stems in pool.map(stem_all, [i * 97 for i in range(4 * THREADS)]):
            assert stems == expected
