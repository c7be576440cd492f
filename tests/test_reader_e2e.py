"""The shipped reader on the seed articles, with the real model: what a reporter copies must be right."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.model

TROOPS = (
    "How many troops did the CSTO send?",
    "How many soldiers did the Russia-led alliance deploy to Kazakhstan?",
    "How many troops were sent to Kazakhstan?",
    "What was the size of the CSTO force sent to Kazakhstan?",
    "How many peacekeepers did the CSTO deploy?",
    "How many CSTO troops went to Kazakhstan?",
    "How many troops did the Russian-led bloc send to Kazakhstan?",
    "How many servicemen did the CSTO dispatch to Kazakhstan?",
    "How large was the CSTO contingent sent to Kazakhstan?",
    "How many foreign troops arrived in Kazakhstan?",
)


def raw(hit) -> str:
    return Path(hit.source.path).read_text(encoding="utf-8")


QUESTIONS = (
    "When did the withdrawal finish?",
    "How many troops did the CSTO send?",
    "Who is the president of Kazakhstan?",
    "When did the CSTO begin to withdraw?",
    "What did protesters do to police vehicles?",
    "Why did Tokayev ask for help?",
)


def test_answers_are_exact_slices_inside_the_highlight_and_hits_are_in_reader_order(seed_retriever) -> None:
    answers = 0
    for question in QUESTIONS:
        result = seed_retriever.search(question, k=3)
        read = [hit.reader_score for hit in result.hits]
        assert all(p is not None for p in read) and read == sorted(read, reverse=True)
        for hit in result.hits:
            assert hit.highlight is not None
            assert hit.passage.start <= hit.highlight.start < hit.highlight.end <= hit.passage.end
        if result.answer is None:
            continue
        answers += 1
        top = result.hits[0]
        assert raw(top)[result.answer.start : result.answer.end] == result.answer.text
        assert top.highlight.start <= result.answer.start < result.answer.end <= top.highlight.end
    assert answers >= 2


def test_fast_answers_without_the_reader(tmp_path: Path, real_embedder) -> None:
    import shutil

    from qa import Retriever

    shutil.copytree(Path(__file__).resolve().parent.parent / "seeds", tmp_path / "seeds")
    fast = Retriever.open(tmp_path / "seeds", tmp_path / "index", embedder=real_embedder, reader=False)
    result = fast.search(QUESTIONS[0], k=3)
    assert result.hits and all(hit.reader_score is None for hit in result.hits)


def test_troop_figures_for_paraphrases_are_never_another_figure(seed_retriever) -> None:
    """Ten ways to ask how many troops the CSTO sent: what the values panel shows is always one of the two
    figures the sources give (2,500 / 2,000), and it shows one for at least half of them."""
    shown = 0
    for question in TROOPS:
        values = {v.value for v in seed_retriever.search(question, k=3).values}
        assert values <= {"2,500", "2,000"}, (question, values)
        shown += bool(values)
    assert shown >= 5
