"""The shipped reader: its weights are the card's, tampering is refused, and it reads better than cosine."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import numpy as np
import pytest

import qa.read.reader as reader_module
from qa.read.data import HELD, context_sentences, load_squad, sentence_of
from qa.read.files import CARD, WEIGHTS_DIR, sha256_of
from qa.read.reader import ReaderError, card, reader_fit, shipped_reader

SQUAD_DEV = Path(__file__).resolve().parents[3] / "shared" / "data" / "squad-dev-v1.1.json"


def test_the_shipped_weights_are_the_file_the_card_names() -> None:
    info = card()
    onnx_file = WEIGHTS_DIR / info["file"]
    assert sha256_of(onnx_file) == info["sha256"]
    assert onnx_file.stat().st_size == info["bytes"] <= 30 * 1024 * 1024
    assert {"depth", "rerank", "abstain", "answer_min", "exact_min", "value_min"} <= set(info["fit"])
    assert info["fit"]["weights_sha256"] == info["sha256"]  # fitted for these weights


def test_settings_fitted_for_other_weights_are_refused(weights_copy: Path) -> None:
    info = json.loads((weights_copy / CARD.name).read_text())
    info["fit"]["weights_sha256"] = "0" * 64
    (weights_copy / CARD.name).write_text(json.dumps(info))
    with pytest.raises(ReaderError, match="no settings fitted for its weights"):
        reader_fit()


@pytest.fixture
def weights_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "weights"
    folder.mkdir()
    shutil.copy(WEIGHTS_DIR / card()["file"], folder / card()["file"])
    shutil.copy(CARD, folder / CARD.name)
    monkeypatch.setattr(reader_module, "WEIGHTS_DIR", folder)
    monkeypatch.setattr(reader_module, "CARD", folder / CARD.name)
    shipped_reader.cache_clear()
    yield folder
    shipped_reader.cache_clear()


def test_weights_that_are_not_the_cards_are_refused(weights_copy: Path) -> None:
    onnx_file = weights_copy / card()["file"]
    data = bytearray(onnx_file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    onnx_file.write_bytes(bytes(data))
    with pytest.raises(ReaderError, match="sha256 differs"):
        shipped_reader("unused")


def test_missing_weights_and_an_unreadable_card_say_what_to_do(weights_copy: Path) -> None:
    (weights_copy / card()["file"]).unlink()
    with pytest.raises(ReaderError, match="missing.*--fast"):
        shipped_reader("unused")
    (weights_copy / CARD.name).write_text("{not json")
    with pytest.raises(ReaderError, match="cannot be read"):
        card()


@pytest.mark.model
@pytest.mark.skipif(not SQUAD_DEV.is_file(), reason="needs ../shared/data/squad-dev-v1.1.json")
def test_the_reader_finds_the_answering_sentence_more_often_than_cosine(real_embedder) -> None:
    """40 SQuAD v1.1 dev questions of articles the reader never saw (the held half), paragraphs of 4+ sentences:
    the sentence holding the answer, as the reader picks it and as the question's nearest sentence vector does."""
    from qa.embed.reference import bundled_model_path

    items = [it for it in load_squad(f"{SQUAD_DEV}@{HELD}") if len(context_sentences(it.context)) >= 4]
    chosen = random.Random(7).sample(items, 40)
    reader = shipped_reader(str(bundled_model_path()))
    by_reader = by_cosine = 0
    for it in chosen:
        sentences = context_sentences(it.context)
        gold = sentence_of(sentences, it.answers[0][0])
        picked = reader.read(it.question, [it.context])[0].sentence()
        by_reader += picked is not None and (picked.start, picked.end) == gold
        vectors = real_embedder.embed([it.question] + [it.context[s:e] for s, e in sentences])
        by_cosine += sentences[int(np.argmax(vectors[1:] @ vectors[0]))] == gold
    print(json.dumps({"reader": by_reader, "cosine": by_cosine, "of": len(chosen)}))
    assert by_reader > by_cosine  # measured: 32 against 27 of 40
    assert by_reader >= 28


def test_damaged_weights_are_one_line_from_the_command_line_and_fast_still_answers(
    weights_copy: Path, cli, seeds: Path, tmp_path: Path, hash_model
) -> None:
    onnx_file = weights_copy / card()["file"]
    onnx_file.write_bytes(onnx_file.read_bytes()[:-10])
    args = ("When did the withdrawal finish?", "--docs", str(seeds), "--index", str(tmp_path / "i"), "-q")
    code, out, err = cli(*args)
    assert code == 1 and out == ""
    assert err.strip().splitlines() == [err.strip()] and "sha256 differs" in err and "Traceback" not in err
    code, out, _ = cli(*args, "--fast")
    assert code == 0 and "[1] score" in out
