"""Benchmark corpora and questions from ../shared/data, written as .jsonl corpora the CLI/API can index.

Each loader returns (records, questions): records are {"id", "text", "title"?, "url"?, "published"?}
corpus lines; questions are {"id", "question", "gold": [record ids], "answers": [strings]}.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
SQUAD = DATA / "squad-dev-v1.1.json"
REALTIMEQA = DATA / "realtimeqa-2022"
BBC = DATA / "bbc"
_QUOTES = "“”\"'‘’."


def squad() -> tuple[list[dict], list[dict]]:
    """SQuAD v1.1 dev: every paragraph a document; success = a passage of the question's paragraph."""
    data = json.loads(SQUAD.read_text(encoding="utf-8"))["data"]
    records, questions = [], []
    for a, article in enumerate(data):
        for p, paragraph in enumerate(article["paragraphs"]):
            doc_id = f"{a}-{p}"
            records.append({"id": doc_id, "title": article["title"].replace("_", " "), "text": paragraph["context"]})
            for qa in paragraph["qas"]:
                answers = sorted({x["text"] for x in qa["answers"]})
                questions.append({"id": qa["id"], "question": qa["question"], "gold": [doc_id], "answers": answers})
    return records, questions


def bbc_records() -> list[dict]:
    records = []
    for path in sorted(BBC.glob("*/*.txt")):
        data = path.read_bytes()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
        records.append({"id": f"bbc/{path.parent.name}/{path.stem}", "text": text, "publisher": "BBC"})
    return records


def realtimeqa() -> tuple[list[dict], list[dict]]:
    """RealTimeQA 2022: the 206 questions with gold article text; corpus = gold articles + BBC distractors.

    Success = a passage of a gold article that contains the correct choice (quotes stripped).
    """
    records: dict[str, dict] = {}
    questions = []
    for qa_file in sorted(REALTIMEQA.glob("*_qa.jsonl")):
        gold_file = qa_file.with_name(qa_file.name.replace("_qa", "_gold"))
        gold = {}
        for line in gold_file.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            gold[row["question_id"]] = [g for g in row["search_result"] if (g.get("text") or "").strip()]
        for line in qa_file.read_text(encoding="utf-8").splitlines():
            qa = json.loads(line)
            articles = gold.get(qa["question_id"])
            if not articles:
                continue
            ids = []
            for article in articles:
                doc_id = "rtqa-" + hashlib.sha1(article["url"].encode()).hexdigest()[:12]
                ids.append(doc_id)
                records.setdefault(
                    doc_id,
                    {
                        "id": doc_id,
                        "text": article["text"],
                        "url": article["url"],
                        "published": (article.get("publish_date") or "")[:10] or None,
                    },
                )
            answers = [qa["choices"][int(i)].strip(_QUOTES) for i in qa["answer"]]
            questions.append(
                {"id": qa["question_id"], "question": qa["question_sentence"], "gold": ids, "answers": answers}
            )
    return [*records.values(), *bbc_records()], questions


def write_corpus(records: list[dict], path: Path) -> None:
    """Write the corpus unless the same one is already there (so a kept index stays valid)."""
    text = "".join(
        json.dumps({k: v for k, v in r.items() if v is not None}, ensure_ascii=False) + "\n" for r in records
    )
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


LOADERS = {"squad": squad, "realtimeqa": realtimeqa}
