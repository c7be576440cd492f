"""Dump what every front answers, byte for byte, so that a refactor can show it changed nothing. Run by hand.

python bench/answer_dump.py OUT_DIR [--docs ../shared/seeds] [--questions ../shared/eval/seed_qa_dev.jsonl]

Writes, for the dev questions over the corpus (the bundled model, the shipped reader, a fresh index under
OUT_DIR): the CLI's text answers, --json, --fast --json, --cite, --format markdown, --explain of every
article, the HTTP /search and /passages/{id}/context bodies, and MCP's search tool. Then compare two dumps
with `diff -r BEFORE AFTER`. Lines holding a build's timing are left out (they are not answers).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
TIMING = re.compile(r"\b\d+(\.\d+)? ?(s|ms|files/s)\b|about \d+ s left")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", type=Path)
    p.add_argument("--docs", type=Path, default=SHARED / "seeds")
    p.add_argument("--questions", type=Path, default=SHARED / "eval" / "seed_qa_dev.jsonl")
    args = p.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    index = out / "index"
    base = ["--docs", str(args.docs), "--index", str(index), "-q"]
    questions = [json.loads(line)["question"] for line in args.questions.read_text().splitlines() if line.strip()]
    file = out / "questions.jsonl"
    file.write_text("".join(json.dumps({"question": q}) + "\n" for q in questions))
    forms = {
        "text": [],
        "json": ["--json"],
        "fast-json": ["--fast", "--json"],
        "cite": ["--cite"],
        "markdown": ["--format", "markdown"],
        "k5-dense": ["-k", "5", "--mode", "dense", "--json"],
    }
    for name, extra in forms.items():
        (out / f"cli-{name}.txt").write_text(_ask([*base, *extra, "--questions", str(file)]))
    (out / "cli-eval.txt").write_text(_ask([*base, "--eval", str(args.questions), "--json"]))
    articles = sorted(p for p in args.docs.iterdir() if p.is_file())
    (out / "cli-explain.txt").write_text("".join(_ask([*base, "--explain", str(a)]) for a in articles))
    (out / "http.json").write_text(_http(args.docs, index, questions))
    (out / "mcp.json").write_text(_mcp(args.docs, index, questions))
    print(f"wrote {out}")
    return 0


def _ask(argv: list[str]) -> str:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "COLUMNS": "100"}
    done = subprocess.run([sys.executable, str(ROOT / "ask.py"), *argv], capture_output=True, text=True, env=env)
    kept = [line for line in done.stdout.splitlines() if not TIMING.search(line)]
    shown = " ".join(Path(a).name if a.startswith("/") else a for a in argv[5:])
    return f"$ ask.py {shown}\nexit {done.returncode}\n" + "\n".join(kept) + "\n" + done.stderr


def _http(docs: Path, index: Path, questions: list[str]) -> str:
    from fastapi.testclient import TestClient

    from qa import Retriever
    from qa.fronts.server.app import create_app

    client = TestClient(create_app(Retriever.open(docs=docs, index=index)))
    rows = []
    for question in questions:
        found = client.post("/search", json={"question": question, "k": 3}).json()
        rows.append(found)
        for passage in found.get("passages", [])[:1]:
            rows.append(client.get(f"/passages/{passage['id']}/context?before=1&after=1").json())
    return json.dumps(rows, indent=1, ensure_ascii=False) + "\n"


def _mcp(docs: Path, index: Path, questions: list[str]) -> str:
    from qa import Retriever
    from qa.fronts.mcp_server import Tools

    tools = Tools(Retriever.open(docs=docs, index=index), RuntimeError)
    rows = []
    for question in questions:
        found = tools.search(question)
        rows.append(found)
        for passage in found.get("passages", [])[:1]:
            rows.append(tools.read_passage(passage["id"], 1))
    rows.append(tools.list_sources())
    return json.dumps(rows, indent=1, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    sys.exit(main())
