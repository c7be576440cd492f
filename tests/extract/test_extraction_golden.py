"""Extraction over seeds/ is pinned: a change of output needs a new EXTRACTOR_VERSION (indexes rebuild on it).

Regenerate tests/golden/extraction.json after bumping EXTRACTOR_VERSION in qa/extract/article.py with

    .venv/bin/python tests/extract/test_extraction_golden.py --regenerate
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from qa.extract.article import EXTRACTOR_ID, EXTRACTOR_VERSION, extract_document  # noqa: E402
from qa.ingest.corpus import read_documents, scan  # noqa: E402

SEEDS = ROOT / "seeds"
GOLDEN = ROOT / "tests" / "golden" / "extraction.json"
REGENERATE = ".venv/bin/python tests/extract/test_extraction_golden.py --regenerate"
LEGACY_FINGERPRINT = "1-98a32aaffdb9"  # what indexes recorded when the extractor was identified by a hash of its code


def extraction_of_seeds() -> dict[str, dict[str, Any]]:
    """Per seeds/ file (read as the indexer reads it): the body spans and the metadata extraction finds."""
    corpus = scan(SEEDS)
    out: dict[str, dict[str, Any]] = {}
    for file in corpus.files:
        documents, _ = read_documents(corpus, file)
        for doc in documents:
            found = extract_document(doc)
            out[doc.key] = {
                "title": found.title,
                "publisher": found.publisher,
                "published": found.published,
                "byline": found.byline,
                "body": [[start, end] for start, end in found.body],
            }
    return out


def test_golden_file_is_of_the_current_extractor_version():
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert golden["extractor_version"] == EXTRACTOR_VERSION, (
        f"EXTRACTOR_VERSION is {EXTRACTOR_VERSION} but {GOLDEN.relative_to(ROOT)} records version "
        f"{golden['extractor_version']}: regenerate it with `{REGENERATE}`"
    )


def test_extraction_of_the_seeds_is_unchanged():
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    if golden["extractor_version"] != EXTRACTOR_VERSION:
        return  # the test above says what to do
    actual = extraction_of_seeds()
    assert sorted(actual) == sorted(golden["seeds"]), f"seeds/ changed: regenerate the golden file with `{REGENERATE}`"
    for name, expected in golden["seeds"].items():
        assert actual[name] == expected, (
            f"extraction output of seeds/{name} changed: bump EXTRACTOR_VERSION in qa/extract/article.py "
            f"and regenerate the golden file with `{REGENERATE}`"
        )


def test_version_1_keeps_the_legacy_fingerprint():
    """Indexes built before the version was explicit recorded this id: with it they stay current."""
    if EXTRACTOR_VERSION == 1:
        assert EXTRACTOR_ID == LEGACY_FINGERPRINT
    else:
        assert EXTRACTOR_ID != LEGACY_FINGERPRINT and str(EXTRACTOR_VERSION) in EXTRACTOR_ID


def regenerate() -> None:
    golden = {"extractor_version": EXTRACTOR_VERSION, "regenerate": REGENERATE, "seeds": extraction_of_seeds()}
    GOLDEN.parent.mkdir(exist_ok=True)
    text = json.dumps(golden, indent=1, ensure_ascii=False)
    text = re.sub(r"\[\s+(\d+),\s+(\d+)\s+\]", r"[\1, \2]", text)  # one span a line: diffs stay readable
    GOLDEN.write_text(text + "\n", encoding="utf-8")
    print(f"wrote {GOLDEN.relative_to(ROOT)} for extractor version {EXTRACTOR_VERSION}")


if __name__ == "__main__":
    if sys.argv[1:] != ["--regenerate"]:
        raise SystemExit(__doc__)
    regenerate()
