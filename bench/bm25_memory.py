"""BM25 build memory against corpus size: our streaming writer and bm25s's own build. Run by hand.

python bench/bm25_memory.py --index DIR [--copies 1 4 16] [--bm25s]

Reads the passage texts of a built index (`ask.py --docs ../shared/data/bbc --index DIR --passages -q`) and,
for each COPIES, builds BM25 over the texts repeated that many times (rows renumbered), each in a fresh
process: it imports bm25s and scipy first (25 MB that any build pays), then reports the peak RSS the build
adds (`resource.getrusage` before/after), its seconds, the passages and the index's size on disk. With
`--bm25s`, also bm25s's own build (`bm25s.tokenize` + `BM25.index` + `save`) on the same texts, which
holds every passage's tokens and its sparse-matrix construction at once.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

CHILD = r"""
import json, resource, sys, tempfile, time
from pathlib import Path
import numpy as np
import bm25s, scipy.sparse  # noqa: F401 - paid by any build: not counted
from qa.storage.bm25 import LexicalIndex
from qa.storage.database import PassageDatabase
from qa.text.words import stem_words

index, copies, which = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
gen = index / (index / "CURRENT").read_text().strip()
database = PassageDatabase(gen / "store.sqlite")
total = database.count()
step = int(database.all_rows().max()) + 1

def batches():
    for k in range(copies):
        for rows, texts in database.iter_rows("text"):
            yield rows + k * step, texts

before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
began = time.perf_counter()
with tempfile.TemporaryDirectory() as folder:
    if which == "ours":
        LexicalIndex.build_batches(batches(), Path(folder))
    else:
        texts = [t for _, part in batches() for t in part]
        model = bm25s.BM25()
        model.index(bm25s.tokenize(texts, stopwords="en", stemmer=stem_words, show_progress=False), show_progress=False)
        model.save(folder)
        del texts
    size = sum(p.stat().st_size for p in Path(folder).iterdir())
seconds = time.perf_counter() - began
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"passages": total * copies, "added_mb": (after - before) / 1024, "seconds": seconds,
                  "disk_mb": size / 2**20}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--copies", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--bm25s", action="store_true", help="also bm25s's own build")
    args = parser.parse_args()
    root = Path(__file__).resolve().parent.parent
    print(f"{'build':8} {'passages':>9} {'+peak MB':>9} {'seconds':>8} {'disk MB':>8}")
    for which in ("ours", "bm25s") if args.bm25s else ("ours",):
        for copies in args.copies:
            out = subprocess.run(
                [sys.executable, "-c", CHILD, str(args.index), str(copies), which],
                cwd=root,
                capture_output=True,
                text=True,
                check=True,
            )
            row = json.loads(out.stdout)
            print(f"{which:8} {row['passages']:9d} {row['added_mb']:9.1f} {row['seconds']:8.1f} {row['disk_mb']:8.1f}")


if __name__ == "__main__":
    main()
