"""How much of clean, chrome-free articles does extraction drop? Run by hand.

python bench/extract_bbc.py [--bbc ../shared/data/bbc] [--show 10]

Each BBC file is read exactly as the indexer reads it (qa.ingest.corpus) and run through qa.extract.article; the
figure is dropped characters over all characters of non-blank lines. Issue 3 asks for < 0.5%.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.extract.article import extract_document  # noqa: E402
from qa.ingest.corpus import read_documents, scan  # noqa: E402

BBC = ROOT.parent / "shared" / "data" / "bbc"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bbc", type=Path, default=BBC)
    parser.add_argument("--show", type=int, default=10, help="list the files that lose the most")
    args = parser.parse_args()
    if not args.bbc.is_dir():
        sys.exit(f"error: no BBC corpus at {args.bbc}")
    corpus = scan(args.bbc)
    articles = [f for f in corpus.files if "/" in f.relpath]  # the category folders; not README.TXT
    began = time.perf_counter()
    kept = dropped = 0
    losers = []
    for file in articles:
        for doc in read_documents(corpus, file)[0]:
            found = extract_document(doc)
            kept += found.kept_chars
            dropped += found.dropped_chars
            if found.dropped_chars:
                lines = [(b.line, b.reason, doc.text[b.start : b.end][:60]) for b in found.blocks if not b.keep]
                losers.append((found.dropped_chars, file.relpath, lines))
    seconds = time.perf_counter() - began
    total = kept + dropped
    print(
        f"{len(articles)} articles, {total:,} characters: dropped {dropped:,} ({100 * dropped / total:.4f}%); "
        f"{len(losers)} files lose something; {seconds:.1f}s"
    )
    for chars, path, lines in sorted(losers, reverse=True)[: args.show]:
        print(f"  {chars:6,} chars  {path}")
        for line, reason, text in lines[:5]:
            print(f"      line {line}: {reason}: {text!r}")


if __name__ == "__main__":
    main()
