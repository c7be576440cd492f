"""kill -9 in the finish phase of a build: at every step of writing and switching to the new generation.
Whatever the step, the live index afterwards is intact (verified byte for byte), and the next run answers
verbatim from an index that holds the changed corpus."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from qa.ingest.corpus import decode

QUESTION = "When did the withdrawal finish?"

# runs ask.py with one step of finish_build replaced by SIGKILL to itself
KILLER = r"""
import os, signal, sys, types
import qa.storage.generations as g

point = sys.argv[1]
real_finish = g.finish_build

def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

def finish(*args, **kwargs):
    if point == "documents.json":
        g._write_text = die
    elif point == "vectors":
        g.faiss = types.SimpleNamespace(write_index=die)
    elif point == "bm25":
        type(args[4]).save = die
    elif point == "manifest":
        g.write_manifest = die
    elif point == "fsync":
        g._fsync = die
    elif point == "rename":
        g.os = types.SimpleNamespace(**{**vars(os), "rename": die})
    elif point == "switch":
        g.os = types.SimpleNamespace(**{**vars(os), "replace": die})
    elif point == "cleanup":
        g.remove_stale = die
    return real_finish(*args, **kwargs)

g.finish_build = finish
from qa.fronts.cli import main
main(sys.argv[2:])
"""

POINTS = ["documents.json", "vectors", "bm25", "manifest", "fsync", "rename", "switch", "cleanup"]


@pytest.mark.parametrize("point", POINTS)
def test_kill_9_at_every_step_of_finishing_leaves_an_intact_live_index(seeds, tmp_path, point):
    from qa import Retriever
    from qa.embed import HashEmbedder
    from qa.indexing import verify_index

    env = {**os.environ, "QA_MODEL": "hash", "HF_HUB_OFFLINE": "1"}
    index = tmp_path / "idx"
    Retriever.open(docs=seeds, index=index, embedder=HashEmbedder())
    (seeds / "extra.txt").write_text("Extra report.\n\nThe withdrawal was finished by the 19th of January.\n")
    killed = subprocess.run(
        [sys.executable, "-c", KILLER, point, QUESTION, "--docs", str(seeds), "--index", str(index), "-q"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-500:]
    verify_index(index)  # the live generation, old or new, is intact byte for byte
    retriever = Retriever.open(docs=seeds, index=index, embedder=HashEmbedder())  # resumes or finishes the update
    hits = retriever.search(QUESTION, k=10).hits
    for hit in hits:
        with open(hit.source.path, "rb") as fh:
            text, _ = decode(fh.read())
        assert text[hit.start : hit.end] == hit.text
    assert any(Path(hit.source.path).name == "extra.txt" for hit in hits), "the update went through"
    verify_index(index)
