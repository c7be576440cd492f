"""Does reading one crafted article take linear time? Run by hand.

python bench/hostile_inputs.py [--sizes 1,10,100,1000] [--timeout 30] [--only NAME]

Each crafted text (sizes in KB) goes through what a build does with one article file: decode, extract,
chunk, and make the passages (qa.indexing.documents.article_passages). Every run is a child process with
a time limit, so a pattern that backtracks forever shows as "> LIMIT" instead of hanging the bench; the
bigger sizes of that input are then skipped. Linear time shows as a flat "ms/KB" column.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _repeat(unit: str, size: int, tail: str = "") -> str:
    """`unit` repeated to about `size` characters, then `tail`."""
    return unit * max(1, (size - len(tail)) // len(unit)) + tail


# name -> (what it attacks, text of about `size` characters)
CASES: dict[str, tuple[str, Callable[[int], str]]] = {
    "prose_lines": (
        "baseline: ordinary paragraphs",
        lambda n: _repeat("The minister said talks resume next week.\n", n),
    ),
    "tag_list": ("hyphenated tags ending in '.' (tag-list pattern)", lambda n: _repeat("news-politics-world ", n, ".")),
    "cookie_words": ("'cookie' repeated, no consent word (cookie pattern)", lambda n: _repeat("cookie ", n)),
    "cookie_spaces": ("'cookies' then whitespace, few words (cookie pattern)", lambda n: "cookies" + " " * n + "x"),
    "tab_sentences": ("sentences separated by tabs (sentence splitter)", lambda n: _repeat("Word.\tNext.\t", n)),
    "nbsp_sentences": (
        "sentences separated by NBSP (sentence splitter)",
        lambda n: _repeat("Word.\u00a0Next.\u00a0", n),
    ),
    "newline_initials": ("one-word lines ending in '.' (sentence splitter)", lambda n: _repeat("Aa.\n", n)),
    "dot_run": ("a run of dots not followed by a space (sentence end)", lambda n: "a " + "." * n + "x"),
    "one_line": ("a single line of prose, no line break (jusText, passages)", lambda n: _repeat("said the man. ", n)),
    "copyright_spaces": ("a copyright sign then whitespace (copyright holder)", lambda n: "© Dawn" + " " * n + "x1"),
    "caption_parens": (
        "'(photo' repeated inside one bracket (caption pattern)",
        lambda n: _repeat("(photo ", n, ") x"),
    ),
    "caption_slashes": ("'AP/' credits in a row (caption pattern)", lambda n: _repeat("AP/Xx ", n, "!")),
    "imprint_date": (
        "an imprint with a long date after the story (date parser)",
        lambda n: (
            _repeat("The minister said talks resume next week.\n", 2000) + "Published in Dawn, " + "1 " * (n // 2)
        ),
    ),
}


def run_once(text: str) -> None:
    from qa.indexing.documents import article_passages
    from qa.ingest.corpus import text_sha256
    from qa.records import ChunkSettings, Document, SilentReporter

    doc = Document(key="crafted.txt", path="crafted.txt", source_id=None, text=text, sha256=text_sha256(text))
    article_passages(doc, ChunkSettings(), SilentReporter(), "crafted.txt")


def _child(name: str, size: int, results: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    text = CASES[name][1](size)
    run_once(text[:200])  # warm up: imports and jusText's stoplist
    began = time.perf_counter()
    run_once(text)
    results.put(time.perf_counter() - began)


def timed(name: str, size: int, limit: float) -> float | None:
    """Seconds for one crafted text of `size` characters, or None when it ran past `limit`."""
    results: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    child = multiprocessing.Process(target=_child, args=(name, size, results))
    child.start()
    child.join(limit)
    if child.is_alive():
        child.kill()
        child.join()
        return None
    return float(results.get()) if not results.empty() else None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1,10,100,1000", help="KB, comma-separated")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per run")
    parser.add_argument("--only", default=None, help="one case by name")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    names = [args.only] if args.only else list(CASES)
    print(f"{'case':18}" + "".join(f"{f'{kb} KB':>22}" for kb in sizes))
    for name in names:
        cells, stopped = [], False
        for kb in sizes:
            seconds = None if stopped else timed(name, kb * 1000, args.timeout)
            if stopped:
                cells.append("skipped")
            elif seconds is None:
                cells.append(f"> {args.timeout:.0f} s")
                stopped = True
            else:
                cells.append(f"{seconds:.3f}s {1000 * seconds / kb:.2f}ms/KB")
        print(f"{name:18}" + "".join(f"{cell:>22}" for cell in cells), flush=True)
    print()
    for name in names:
        print(f"{name:18}{CASES[name][0]}")


if __name__ == "__main__":
    main()
