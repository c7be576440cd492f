"""A tiny training run keeps the training, resume and export code working (the real model, seconds)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.embed.reference import bundled_model_path
from qa.read import train
from qa.read.data import FIT, HELD, article_part, load_squad

pytestmark = pytest.mark.model

PARAGRAPHS = [
    (
        "Kazakhstan",
        "The alliance sent about 2,500 troops in January. They began to leave on January 13.",
        [
            ("How many troops did the alliance send?", "2,500"),
            ("When did the troops begin to leave?", "January 13"),
        ],
    ),
    (
        "Budget",
        "The finance minister, Anna Berg, presented the budget on Tuesday. It raises spending by 4%.",
        [
            ("Who presented the budget?", "Anna Berg"),
            ("By how much does the budget raise spending?", "4%"),
        ],
    ),
]


def write_squad(path: Path, impossible: bool = False) -> Path:
    data = []
    for title, context, qas in PARAGRAPHS:
        rows = [
            {"id": f"{title}-{n}", "question": q, "answers": [{"text": a, "answer_start": context.index(a)}]}
            for n, (q, a) in enumerate(qas)
        ]
        if impossible:
            rows.append({"id": f"{title}-x", "question": "Who won the cup?", "answers": [], "is_impossible": True})
        data.append({"title": title, "paragraphs": [{"context": context, "qas": rows}]})
    path.write_text(json.dumps({"version": "1.1", "data": data}))
    return path


def test_load_squad_takes_answers_and_unanswerables(tmp_path: Path) -> None:
    items = load_squad(str(write_squad(tmp_path / "s.json", impossible=True)))
    assert len(items) == 6 and sum(it.impossible for it in items) == 2
    for it in items:
        for a, b in it.answers:
            assert it.context[a:b] in {"2,500", "January 13", "Anna Berg", "4%"}
    parts = {article_part(title) for title, _, _ in PARAGRAPHS}
    halves = [load_squad(f"{tmp_path / 's.json'}@{part}") for part in (FIT, HELD)]
    assert sum(len(h) for h in halves) == 6 and {p for p, h in zip((FIT, HELD), halves, strict=False) if h} == parts


def test_a_tiny_run_trains_resumes_and_exports(tmp_path: Path) -> None:
    squad = write_squad(tmp_path / "train.json", impossible=True)
    out = tmp_path / "run"
    args = [
        "--train",
        str(squad),
        "--out",
        str(out),
        "--batch",
        "4",
        "--max-length",
        "48",
        "--stride",
        "16",
        "--save-every",
        "1",
        "--eval-every",
        "1",
        "--heldout",
        str(squad),
        "--heldout-questions",
        "3",
    ]
    assert train.main(args) == 0
    saved = json.loads((out / "train.json").read_text())
    assert saved["steps"] >= 2 and saved["questions"] == 6
    assert [point["step"] for point in saved["curve"]] == list(range(1, saved["steps"] + 1))
    (out / "reader.pt").unlink()
    assert train.main(args) == 0  # resumes from the last checkpoint: nothing left to do but save
    assert "resumed at step" in (out / "train.log").read_text()
    assert (out / "reader.pt").is_file()

    from qa.read.export import export
    from qa.read.reader import Reader

    onnx_file = tmp_path / "reader.onnx"
    digest = export(out / "reader.pt", onnx_file, quantize=False)
    assert len(digest) == 64
    text = PARAGRAPHS[0][1]
    [reading] = Reader(onnx_file, bundled_model_path() / "tokenizer.json").read("How many troops?", [text])
    assert 0 <= reading.span_start <= reading.span_end <= len(text)
    assert {(s.start, s.end) for s in reading.sentences} <= {(0, 48), (49, len(text))}


def test_a_run_goes_on_from_trained_weights_with_questions_it_has_not_seen(tmp_path: Path) -> None:
    squad = write_squad(tmp_path / "train.json", impossible=True)
    common = ["--train", str(squad), "--batch", "4", "--max-length", "48", "--stride", "16", "--negatives", "0"]
    assert train.main([*common, "--questions", "4", "--out", str(tmp_path / "first")]) == 0
    first = tmp_path / "first" / "reader.pt"
    second = tmp_path / "second"
    # a learning rate of 0: what comes out is exactly what went in, heads included
    assert train.main([*common, "--unseen", "4", "--init", str(first), "--lr", "0", "--out", str(second)]) == 0
    assert json.loads((second / "train.json").read_text())["questions"] == 2  # 6 less the 4 seen before

    import torch

    before, after = torch.load(first, weights_only=True), torch.load(second / "reader.pt", weights_only=True)
    assert before.keys() == after.keys() and all(torch.equal(before[k], after[k]) for k in before)
