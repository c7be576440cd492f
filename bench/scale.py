"""Speed and scale, ours and peers side by side (run by hand; writes JSON that docs/benchmarks.md quotes).

    python bench/scale.py bbc [--backend auto]      build + query our index of the BBC passages
    python bench/scale.py synth --passages 100000   an index-only corpus of N passages, then query it
    python bench/scale.py report                    print the tables from every result file

Corpora:
- bbc: /tmp/newsqa-bench/bbc/passages.jsonl, the 2,225 BBC articles cut into 6,161 passages of
  ~120-200 words by bench/peers.py (`peers.py bbc --out /tmp/newsqa-bench/bbc`), and 200 queries (the
  first sentence of 200 articles, gold = that article's first passage). Peers index the same file
  (bench/peers.py run --system all). We index each passage as a document (.jsonl corpus).
- synth (index-only figures): N passages of 4 real BBC sentences each, drawn at random (seeded) from
  the sentences of the bbc index; each passage's vector is the normalised mean of its sentences' real
  MiniLM vectors (no model run, so a million passages build in minutes), its sentence vectors are the
  real ones. Ten passages per document, written as a .jsonl corpus so `ask.py` itself can be timed.

Figures: build wall time and peak RSS (VmHWM) of the building process; cold = wall time of a fresh
`python ask.py --docs ... --index ... -q -k 10 "question"` (5 runs, p50/p95; interpreter start,
imports, index load, corpus check and the answer all count); warm = per-question time of
Retriever.search(q, k=10) in one process after one warm-up pass (full answer: fusion, highlight,
abstention, wire copies); RSS after the warm pass (VmRSS).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = Path("/tmp/newsqa-bench")
_BUILD_KEYS = {
    "build_s",
    "passages",
    "documents",
    "backend",
    "vector_index",
    "embedded_texts",
    "build_peak_rss_mb",
    "index_bytes",
    "passages_per_s",
    "store_write_s",
    "vector_index_build_s",
    "bm25_build_s",
    "bytes_by_file",
}
BBC = OUT / "bbc"


def _proc_status(field: str) -> float:
    """VmRSS / VmHWM of this process in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q)) if values else float("nan")


def _questions(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def worker_build(args: argparse.Namespace) -> None:
    from qa.embed.reference import load_embedder
    from qa.fronts.console import ConsoleReporter
    from qa.indexing.build import ensure_index
    from qa.records import ChunkSettings

    start = time.perf_counter()
    stored = ensure_index(
        Path(args.docs),
        Path(args.index),
        load_embedder(),
        ChunkSettings(),
        rebuild=True,
        reporter=ConsoleReporter(quiet=False),
        backend=args.backend,
    )
    wall = time.perf_counter() - start
    result = {
        "build_s": wall,
        "passages": stored.count,
        "documents": len(stored.documents),
        "backend": stored.manifest.model.backend,
        "vector_index": stored.manifest.vector_index.to_dict(),
        "embedded_texts": stored.manifest.last_build.embedded_passages,
        "build_peak_rss_mb": _proc_status("VmHWM"),
        "index_bytes": sum(f.stat().st_size for f in stored.path.rglob("*") if f.is_file()),
    }
    Path(args.out).write_text(json.dumps(result, indent=1))


def worker_query(args: argparse.Namespace) -> None:
    """Warm latency and memory of the library path, in a process that answers nothing else."""
    from qa.search.retriever import Retriever

    queries = _questions(Path(args.queries))
    retriever = Retriever.open(docs=args.docs, index=args.index)
    questions = [q["question"] for q in queries]
    for q in questions:  # warm-up: vectors cached, pages in
        retriever.search(q, k=10)
    retriever._vector_cache.clear()  # noqa: SLF001 - time the question's encoding too
    times, top = [], []
    for q in questions:
        t = time.perf_counter()
        result = retriever.search(q, k=10)
        times.append((time.perf_counter() - t) * 1000)
        retriever._vector_cache.clear()  # noqa: SLF001
        # a hit's wire copies (also_in) are shown with it: they count as retrieved at its rank
        top.append([[h.source.id, *(a.source.id for a in h.also_in)] for h in result.hits])
    k3_times = []
    for q in questions:
        retriever._vector_cache.clear()  # noqa: SLF001
        t = time.perf_counter()
        retriever.search(q, k=3)
        k3_times.append((time.perf_counter() - t) * 1000)
    golds = [q.get("gold") for q in queries]
    result = {
        "warm_p50_ms": _pct(times, 50),
        "warm_p95_ms": _pct(times, 95),
        "warm_k3_p50_ms": _pct(k3_times, 50),
        "warm_k3_p95_ms": _pct(k3_times, 95),
        "query_rss_mb": _proc_status("VmRSS"),
        "torch_imported": "torch" in sys.modules,
    }
    if all(golds):
        gold_docs = [set(gold) for gold in golds]
        pairs = list(zip(top, gold_docs, strict=True))
        result["recall_at_1"] = float(np.mean([any(x in g for x in t[0]) if t else False for t, g in pairs]))
        result["recall_at_10"] = float(np.mean([any(x in g for hit in t[:10] for x in hit) for t, g in pairs]))
    Path(args.out).write_text(json.dumps(result, indent=1))


def cold_runs(docs: Path, index: Path, questions: list[str], runs: int = 5) -> dict:
    walls = []
    for q in questions[:runs]:
        t = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, str(ROOT / "ask.py"), "--docs", str(docs), "--index", str(index), "-q", "-k", "10", q],
            capture_output=True,
            text=True,
        )
        walls.append(time.perf_counter() - t)
        if proc.returncode != 0:
            raise SystemExit(f"ask.py failed: {proc.stderr.strip()[-300:]}")
    return {"cold_p50_s": _pct(walls, 50), "cold_p95_s": _pct(walls, 95), "cold_runs": walls}


def _child(*argv: str) -> dict:
    out = OUT / f"child-{os.getpid()}.json"
    subprocess.run([sys.executable, __file__, *argv, "--out", str(out)], check=True)
    result = json.loads(out.read_text())
    out.unlink()
    return result


def run_bbc(args: argparse.Namespace) -> None:
    passages, queries = BBC / "passages.jsonl", BBC / "queries.jsonl"
    index = OUT / f"ours-bbc-{args.backend}"
    result = {"system": "newsqa", "corpus": "bbc", "backend_requested": args.backend}
    target = OUT / f"scale-bbc-{args.backend}.json"
    if args.no_build and target.is_file():  # keep the build figures of the run that built the index
        result |= {k: v for k, v in json.loads(target.read_text()).items() if k in _BUILD_KEYS}
    if not args.no_build:
        result |= _child("worker-build", "--docs", str(passages), "--index", str(index), "--backend", args.backend)
        result["passages_per_s"] = result["passages"] / result["build_s"]
    result |= _child("worker-query", "--docs", str(passages), "--index", str(index), "--queries", str(queries))
    result |= cold_runs(passages, index, [q["question"] for q in _questions(queries)])
    target.write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))


def run_synth(args: argparse.Namespace) -> None:
    n = args.passages
    folder = OUT / f"synth-{n}"
    docs, index = folder / "corpus.jsonl", folder / "index"
    result: dict = {"system": "newsqa", "corpus": f"synthetic {n}", "passages": n}
    target = OUT / f"scale-synth-{n}.json"
    if args.no_build and target.is_file():
        result |= {k: v for k, v in json.loads(target.read_text()).items() if k in _BUILD_KEYS}
    if not args.no_build:
        result |= _child("worker-synth", "--docs", str(docs), "--index", str(index), "--passages", str(n))
    queries = BBC / "queries.jsonl"
    result |= _child("worker-query", "--docs", str(docs), "--index", str(index), "--queries", str(queries))
    result |= cold_runs(docs, index, [q["question"] for q in _questions(queries)])
    result.pop("recall_at_1", None), result.pop("recall_at_10", None)  # no gold in a synthetic corpus
    target.write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))


def worker_synth(args: argparse.Namespace) -> None:
    """Write the synthetic corpus and its index through the library's own database, ANN and BM25 code."""
    import qa.storage.generations as generations
    import qa.storage.vectors as ann
    from qa.embed.reference import load_embedder
    from qa.indexing.changes import build_key
    from qa.indexing.finalize import lexical_from_database, vectors_from_database
    from qa.ingest.corpus import scan
    from qa.records import ChunkSettings

    n, per_doc, per_passage = args.passages, 10, 4
    texts, vectors = _sentence_material()
    t0 = time.perf_counter()
    picks = np.random.default_rng(0).integers(0, len(texts), size=(n, per_passage))
    docs = Path(args.docs)
    _write_synth_corpus(docs, texts, picks, per_doc)
    embedder, settings = load_embedder(), ChunkSettings()
    key = build_key(embedder, settings)
    index_dir = Path(args.index)
    index_dir.mkdir(parents=True, exist_ok=True)
    generations.remove_stale(index_dir, keep=None)
    work, database, _ = generations.begin_build(index_dir, key, embedder.dim, None)
    corpus = scan(docs)
    _store_synth_documents(database, corpus, texts, vectors, picks, per_doc)
    stored_s = time.perf_counter() - t0
    spec = ann.choose(database.count())
    t1 = time.perf_counter()
    index = vectors_from_database(database, spec)
    ann_s = time.perf_counter() - t1
    t2 = time.perf_counter()
    lexical = lexical_from_database(database, work / generations.LEXICAL)
    bm25_s = time.perf_counter() - t2
    gen = generations.finish_build(
        work, database, _synth_manifest(database, corpus, embedder, settings, spec, key), index, lexical
    )
    result = {
        "store_write_s": stored_s,
        "vector_index_build_s": ann_s,
        "bm25_build_s": bm25_s,
        "vector_index": spec.to_dict(),
        "build_peak_rss_mb": _proc_status("VmHWM"),
        "index_bytes": sum(f.stat().st_size for f in gen.rglob("*") if f.is_file()),
        "bytes_by_file": {f.name: f.stat().st_size for f in gen.iterdir() if f.is_file()},
    }
    Path(args.out).write_text(json.dumps(result, indent=1))


def _sentence_material() -> tuple[list[str], np.ndarray]:
    """Every sentence of the bbc index and its stored vector: what synthetic passages are made of."""
    import qa.storage.generations as generations

    base = generations.read_index(OUT / "ours-bbc-auto")
    assert base is not None, "run `bench/scale.py bbc` first: its sentences are the material"
    texts, vectors = [], []
    for row, passage in base.iter_passages():
        spans, vecs = base.sentences_of(row)
        for (s, e), v in zip(spans, vecs, strict=True):
            texts.append(passage.text[s - passage.start : e - passage.start].replace("\n", " "))
            vectors.append(v)
    return texts, np.asarray(vectors, dtype=np.float32)


def _write_synth_corpus(docs: Path, texts: list[str], picks: np.ndarray, per_doc: int) -> None:
    """A .jsonl corpus: `per_doc` passages per record, each passage the picked sentences joined by spaces."""
    docs.parent.mkdir(parents=True, exist_ok=True)
    with docs.open("w", encoding="utf-8") as fh:
        for d in range(0, len(picks), per_doc):
            body = "\n\n".join(" ".join(texts[i] for i in picks[p]) for p in range(d, min(len(picks), d + per_doc)))
            fh.write(json.dumps({"id": f"synth-{d // per_doc}", "text": body}, ensure_ascii=False) + "\n")


def _store_synth_documents(
    database, corpus, texts: list[str], vectors: np.ndarray, picks: np.ndarray, per_doc: int
) -> None:
    """Store each record's passages with the mean of their sentences' vectors, and the corpus file."""
    from qa.chunk import make_passage
    from qa.indexing.documents import document_meta
    from qa.ingest.corpus import file_sha256, read_documents
    from qa.records import StoredPassage

    n = len(picks)
    documents, _ = read_documents(corpus, corpus.files[0])
    for position, doc in enumerate(documents):
        stored, offset = [], 0
        for p in range(position * per_doc, min(n, (position + 1) * per_doc)):
            parts = [texts[i] for i in picks[p]]
            start = cursor = offset
            spans = []
            for part in parts:
                spans.append((cursor, cursor + len(part)))
                cursor += len(part) + 1
            end = cursor - 1
            assert doc.text[start:end] == " ".join(parts)
            mean = vectors[picks[p]].mean(axis=0)
            sentence_spans = np.array(spans, dtype=np.int64)
            passage = make_passage(doc, start, end)
            stored.append(
                StoredPassage(
                    passage, mean / np.linalg.norm(mean), sentence_spans, vectors[picks[p]].astype(np.float16)
                )
            )
            offset = end + 2
        database.add_document(document_meta(doc), position, stored)
    file = corpus.files[0]
    record = {
        "size": file.size,
        "mtime_ns": file.mtime_ns,
        "sha256": file_sha256(file.abspath),
        "documents": len(documents),
    }
    database.set_files({file.relpath: record})


def _synth_manifest(database, corpus, embedder, settings, spec, key: str):
    """The manifest of the synthetic index, of the same type a build writes."""
    from qa.extract.article import EXTRACTOR_ID
    from qa.indexing.finalize import library_versions
    from qa.storage.manifest import CorpusInfo, Counts, Manifest, ModelInfo

    return Manifest(
        created_at=time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
        model=ModelInfo(name=embedder.name, dim=embedder.dim, backend="synthetic (means of real sentence vectors)"),
        chunking=settings.to_dict(),
        extractor=EXTRACTOR_ID,
        corpus=CorpusInfo(kind=corpus.kind, root=str(corpus.root)),
        counts=Counts(documents=database.document_count(), passages=database.count()),
        vector_index=spec,
        build_key=key,
        versions=library_versions(),
    )


def worker_update(args: argparse.Namespace) -> None:
    """One update of an existing index (whatever changed in the folder), timed in its own process."""
    from qa.embed.reference import load_embedder
    from qa.fronts.console import ConsoleReporter
    from qa.indexing.build import ensure_index
    from qa.records import ChunkSettings

    start = time.perf_counter()
    stored = ensure_index(
        Path(args.docs), Path(args.index), load_embedder(), ChunkSettings(), reporter=ConsoleReporter(quiet=False)
    )
    result = {
        "update_s": time.perf_counter() - start,
        "documents": len(stored.documents),
        "passages": stored.count,
        "embedded_texts": stored.manifest.last_build.embedded_passages,
    }
    Path(args.out).write_text(json.dumps(result, indent=1))


def run_incremental(args: argparse.Namespace) -> None:
    """Full build of the 2,225 BBC articles (a folder), then add, change and remove one article."""
    import shutil

    folder = OUT / "incremental"
    docs, index = folder / "docs", folder / "index"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(Path(args.bbc), docs, ignore=shutil.ignore_patterns("README.TXT"))
    result: dict = {"corpus": "BBC articles folder"}
    full = _child("worker-build", "--docs", str(docs), "--index", str(index), "--backend", args.backend)
    result["full"] = full
    new = docs / "added.txt"
    shutil.copy(ROOT / "seeds" / "001_d488df2065bf0050.txt", new)
    result["add_one"] = _child("worker-update", "--docs", str(docs), "--index", str(index))
    with new.open("a", encoding="utf-8") as fh:
        fh.write("\nA paragraph added later to the same article, which changes its hash.\n")
    result["change_one"] = _child("worker-update", "--docs", str(docs), "--index", str(index))
    new.unlink()
    result["remove_one"] = _child("worker-update", "--docs", str(docs), "--index", str(index))
    for step in ("add_one", "change_one", "remove_one"):
        result[step]["share_of_full_build"] = result[step]["update_s"] / full["build_s"]
    (OUT / "scale-incremental.json").write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))


def run_seeds(args: argparse.Namespace) -> None:
    """Cold one-shot questions on the seeds (the default corpus), and whether torch was imported."""
    question = "When did the withdrawal finish?"
    subprocess.run([sys.executable, str(ROOT / "ask.py"), "-q", question], check=True, capture_output=True)
    walls = []
    for _ in range(args.runs):
        t = time.perf_counter()
        subprocess.run([sys.executable, str(ROOT / "ask.py"), "-q", question], check=True, capture_output=True)
        walls.append(time.perf_counter() - t)
    trace = subprocess.run(
        [sys.executable, "-X", "importtime", str(ROOT / "ask.py"), "-q", question], capture_output=True, text=True
    ).stderr
    imported = sorted({line.split("|")[-1].strip().split(".")[0] for line in trace.splitlines() if "|" in line})
    result = {
        "cold_p50_s": _pct(walls, 50),
        "cold_p95_s": _pct(walls, 95),
        "cold_runs": walls,
        "torch_imported": "torch" in imported,
        "sentence_transformers_imported": "sentence_transformers" in imported,
        "bm25s_imported": "bm25s" in imported,
        "modules_imported": len(trace.splitlines()),
    }
    (OUT / "scale-seeds.json").write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    bbc = sub.add_parser("bbc")
    bbc.add_argument("--backend", default="auto")
    bbc.add_argument("--no-build", action="store_true")
    synth = sub.add_parser("synth")
    synth.add_argument("--passages", type=int, default=100_000)
    synth.add_argument("--no-build", action="store_true")
    for name in ("worker-build", "worker-query", "worker-synth", "worker-update"):
        w = sub.add_parser(name)
        w.add_argument("--docs", required=True)
        w.add_argument("--index", required=True)
        w.add_argument("--out", required=True)
        w.add_argument("--backend", default="auto")
        w.add_argument("--queries")
        w.add_argument("--passages", type=int)
    inc = sub.add_parser("incremental")
    inc.add_argument("--backend", default="auto")
    inc.add_argument("--bbc", default="/work/shared/data/bbc")
    seeds = sub.add_parser("seeds")
    seeds.add_argument("--runs", type=int, default=15)
    sub.add_parser("report")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    {
        "bbc": run_bbc,
        "synth": run_synth,
        "worker-build": worker_build,
        "worker-query": worker_query,
        "worker-synth": worker_synth,
        "worker-update": worker_update,
        "incremental": run_incremental,
        "seeds": run_seeds,
        "report": report,
    }[args.cmd](args)


def _load(name: str):
    path = OUT / name
    return json.loads(path.read_text()) if path.is_file() else None


def _row(*cells) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def report(args: argparse.Namespace) -> None:
    """The tables of docs/benchmarks.md, from the result files of the last runs."""
    backends = _load("backends.json")
    if backends:
        _report_backends(backends)
    seeds = _load("scale-seeds.json")
    if seeds:
        _report_seeds(seeds)
    ours, peers = _load("scale-bbc-auto.json"), _load("peers-bbc.json") or []
    if ours:
        _report_bbc(ours, peers)
        _report_ratios(ours, peers)
    inc = _load("scale-incremental.json")
    if inc:
        _report_incremental(inc)
    synth = [x for x in (_load("scale-synth-100000.json"), _load("scale-synth-1000000.json")) if x]
    if synth or ours:
        _report_sizes(([ours] if ours else []) + synth)


def _report_backends(backends: dict) -> None:
    """The build encoders table (bench/backends.py)."""
    s = backends["settings"]
    print(f"### Build encoders ({s['n']} BBC passages of ~{s['words']} words, best of {s['repeat']})\n")
    print(_row("backend", "passages/s", "speed-up vs sentence-transformers fp32", "min cosine", "top-10 kept"))
    print(_row("---", "---:", "---:", "---:", "---:"))
    for r in backends["rows"]:
        cells = (r["backend"], f"{r['per_s']:.1f}", f"{r['speedup']:.2f}x", f"{r['min_cos']:.6f}")
        print(_row(*cells, f"{100 * r['top10']:.1f}%"))
    print()


def _report_seeds(seeds: dict) -> None:
    """Cold one-shot questions on the seeds."""
    print("### Cold one-shot question on the seeds\n")
    print(f'`python ask.py -q "When did the withdrawal finish?"`, {len(seeds["cold_runs"])} runs: ', end="")
    print(f"p50 {seeds['cold_p50_s']:.2f} s, p95 {seeds['cold_p95_s']:.2f} s; torch imported: ", end="")
    print(f"{'yes' if seeds['torch_imported'] else 'no'}, sentence_transformers: ", end="")
    st_imported = "yes" if seeds["sentence_transformers_imported"] else "no"
    print(f"{st_imported}, bm25s: {'yes' if seeds['bm25s_imported'] else 'no'}.\n")


def _report_bbc(ours: dict, peers: list) -> None:
    """newsqa and its peers on the BBC passages."""
    print(f"### BBC, {ours['passages']} passages: newsqa and peers on the same corpus and queries\n")
    head = ("system", "build s", "passages/s", "index MB", "build peak RSS MB", "cold s", "warm p50 ms")
    print(_row(*head, "warm p95 ms", "query RSS MB", "recall@1", "recall@10"))
    print(_row("---", *["---:"] * 10))
    rows = [
        (
            f"newsqa hybrid ({ours['backend']}, k=10, full answer)",
            ours["build_s"],
            ours["passages_per_s"],
            ours["index_bytes"] / 1e6,
            ours["build_peak_rss_mb"],
            ours["cold_p50_s"],
            ours["warm_p50_ms"],
            ours["warm_p95_ms"],
            ours["query_rss_mb"],
            ours.get("recall_at_1"),
            ours.get("recall_at_10"),
        )
    ]
    for p in peers:
        rows.append(
            (
                p["system"],
                p["build_s"],
                p["passages_per_s"],
                p["index_bytes"] / 1e6,
                p["build_peak_rss_mb"],
                p["cold_first_answer_s"],
                p["warm_p50_ms"],
                p["warm_p95_ms"],
                p["query_rss_mb"],
                p.get("recall_at_1"),
                p.get("recall_at_10"),
            )
        )
    fmt = ("{}", "{:.0f}", "{:.1f}", "{:.1f}", "{:.0f}", "{:.2f}", "{:.2f}", "{:.2f}", "{:.0f}", "{:.3f}", "{:.3f}")
    for r in rows:
        print(_row(*(f.format(v) if v is not None else "-" for f, v in zip(fmt, r, strict=True))))


def _report_ratios(ours: dict, peers: list) -> None:
    """Each peer's figures over ours."""
    print("\nRatios (peer / newsqa; above 1 means newsqa is better for times and memory):\n")
    print(_row("peer", "build time", "cold start", "warm p50", "query RSS"))
    print(_row("---", "---:", "---:", "---:", "---:"))
    for p in peers:
        print(
            _row(
                p["system"],
                f"{p['build_s'] / ours['build_s']:.2f}",
                f"{p['cold_first_answer_s'] / ours['cold_p50_s']:.2f}",
                f"{p['warm_p50_ms'] / ours['warm_p50_ms']:.2f}",
                f"{p['query_rss_mb'] / ours['query_rss_mb']:.2f}",
            )
        )
    print()


def _report_incremental(inc: dict) -> None:
    """Incremental updates against a full build."""
    full = inc["full"]
    print(f"### Incremental updates ({full['documents']} BBC articles, {full['passages']} passages)\n")
    print(_row("step", "wall s", "texts embedded", "share of the full build"))
    print(_row("---", "---:", "---:", "---:"))
    print(_row("full build", f"{full['build_s']:.1f}", full["embedded_texts"], "100%"))
    for step in ("add_one", "change_one", "remove_one"):
        r = inc[step]
        share = f"{100 * r['share_of_full_build']:.1f}%"
        print(_row(step.replace("_", " ") + " article", f"{r['update_s']:.1f}", r["embedded_texts"], share))
    print()


def _report_sizes(results: list) -> None:
    """Query latency and memory by index size."""
    print("### Query latency and memory by size\n")
    print(_row("passages", "vector index", "index on disk", "cold p50 s", "cold p95 s", "warm p50 ms (k=10)"))
    print(_row("---:", "---", "---:", "---:", "---:", "---:"))
    for r in results:
        kind = r["vector_index"]["kind"] if isinstance(r.get("vector_index"), dict) else "?"
        cells = (f"{r['passages']:,}", kind, f"{r['index_bytes'] / 1e9:.2f} GB", f"{r['cold_p50_s']:.2f}")
        print(_row(*cells, f"{r['cold_p95_s']:.2f}", f"{r['warm_p50_ms']:.1f}"))
    print("\n(continued)\n")
    print(_row("passages", "warm p95 ms (k=10)", "warm p50 / p95 ms (k=3)", "resident after queries", "torch"))
    print(_row("---:", "---:", "---:", "---:", "---"))
    for r in results:
        k3 = f"{r['warm_k3_p50_ms']:.1f} / {r['warm_k3_p95_ms']:.1f}"
        rss = f"{r['query_rss_mb']:.0f} MB"
        print(
            _row(
                f"{r['passages']:,}",
                f"{r['warm_p95_ms']:.1f}",
                k3,
                rss,
                "imported" if r["torch_imported"] else "not imported",
            )
        )


if __name__ == "__main__":
    main()
