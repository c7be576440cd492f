"""Extraction over seeds/ and tests/golden/pages/ is pinned: changed output needs a new EXTRACTOR_VERSION.

Regenerate tests/golden/extraction.json after bumping EXTRACTOR_VERSION in qa/extract/article.py with

    .venv/bin/python tests/extract/test_extraction_golden.py --regenerate
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from qa.extract.article import EXTRACTOR_ID, EXTRACTOR_VERSION, extract_document  # noqa: E402
from qa.ingest.corpus import read_documents, scan  # noqa: E402

SEEDS = ROOT / "seeds"
PAGES = ROOT / "tests" / "golden" / "pages"  # scraped pages with the furniture seeds/ lacks, and an HTML page
FOLDERS = {"seeds": SEEDS, "pages": PAGES}
GOLDEN = ROOT / "tests" / "golden" / "extraction.json"
REGENERATE = ".venv/bin/python tests/extract/test_extraction_golden.py --regenerate"
LEGACY_FINGERPRINT = "1-98a32aaffdb9"  # what indexes recorded when the extractor was identified by a hash of its code


def extraction_of(folder: Path) -> dict[str, dict[str, Any]]:
    """Per file (read as the indexer reads it): the body spans and the metadata extraction finds.

    For a web page the text itself comes from extraction (trafilatura), so its SHA-256 is pinned too.
    """
    import hashlib

    corpus = scan(folder)
    out: dict[str, dict[str, Any]] = {}
    for file in corpus.files:
        documents, _ = read_documents(corpus, file)
        for doc in documents:
            found = extract_document(doc)
            out[doc.key] = {
                "title": doc.title or found.title,
                "publisher": doc.publisher or found.publisher,
                "published": doc.published or found.published,
                "byline": doc.byline or found.byline,
                "body": [[start, end] for start, end in found.body],
            }
            if doc.encoding == "html":
                out[doc.key]["text_sha256"] = hashlib.sha256(doc.text.encode()).hexdigest()
    return out


def test_golden_file_is_of_the_current_extractor_version():
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert golden["extractor_version"] == EXTRACTOR_VERSION, (
        f"EXTRACTOR_VERSION is {EXTRACTOR_VERSION} but {GOLDEN.relative_to(ROOT)} records version "
        f"{golden['extractor_version']}: regenerate it with `{REGENERATE}`"
    )


@pytest.mark.parametrize("part", ["seeds", "pages"])
def test_extraction_output_is_unchanged(part):
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    if golden["extractor_version"] != EXTRACTOR_VERSION:
        return  # the test above says what to do
    folder = FOLDERS[part]
    actual = extraction_of(folder)
    shown = folder.relative_to(ROOT)
    assert sorted(actual) == sorted(golden[part]), f"{shown}/ changed: regenerate the golden file with `{REGENERATE}`"
    for name, expected in golden[part].items():
        assert actual[name] == expected, (
            f"extraction output of {shown}/{name} changed: bump EXTRACTOR_VERSION in qa/extract/article.py "
            f"and regenerate the golden file with `{REGENERATE}`"
        )


def test_version_1_keeps_the_legacy_fingerprint():
    """Indexes built before the version was explicit recorded this id: with it they stay current."""
    if EXTRACTOR_VERSION == 1:
        assert EXTRACTOR_ID == LEGACY_FINGERPRINT
    else:
        assert EXTRACTOR_ID != LEGACY_FINGERPRINT and str(EXTRACTOR_VERSION) in EXTRACTOR_ID


def regenerate() -> None:
    golden: dict[str, Any] = {"extractor_version": EXTRACTOR_VERSION, "regenerate": REGENERATE}
    golden.update({part: extraction_of(folder) for part, folder in FOLDERS.items()})
    GOLDEN.parent.mkdir(exist_ok=True)
    text = json.dumps(golden, indent=1, ensure_ascii=False)
    text = re.sub(r"\[\s+(\d+),\s+(\d+)\s+\]", r"[\1, \2]", text)  # one span a line: diffs stay readable
    GOLDEN.write_text(text + "\n", encoding="utf-8")
    print(f"wrote {GOLDEN.relative_to(ROOT)} for extractor version {EXTRACTOR_VERSION}")


if __name__ == "__main__":
    if sys.argv[1:] != ["--regenerate"]:
        raise SystemExit(__doc__)
    regenerate()
