"""`ask.py index update --ray`: a build whose passages and sentences are embedded by Ray actors gives the index,
and the answers, of a single-process build; updates embed only what changed; `--store` keeps a Milvus mirror in
step; a failing worker or cluster is one line. Ray runs in subprocesses (HOME in tmp: Ray keeps its token in
~/.ray; TMPDIR short: its sockets live there), so this process keeps no Ray state."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT

from qa import Retriever
from qa.embed import HashEmbedder
from qa.storage.generations import read_index

pytest.importorskip("ray")

QUESTIONS = ["When did the withdrawal finish?", "How many troops did the CSTO send?", "Why did protests start?"]


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    """A short folder for Ray's session (AF_UNIX socket paths are limited to 107 bytes) and its HOME."""
    folder = Path(tempfile.mkdtemp(prefix="qaray", dir="/tmp"))
    (folder / "home").mkdir()
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def ask(short_tmp: Path, *argv: str, model: str = "hash", timeout: int = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOME": str(short_tmp / "home"), "TMPDIR": str(short_tmp), "HF_HUB_OFFLINE": "1"}
    env.pop("RAY_ADDRESS", None)
    env.pop("QA_MODEL", None)
    if model:
        env["QA_MODEL"] = model
    return subprocess.run(
        [sys.executable, str(ROOT / "ask.py"), *argv], capture_output=True, text=True, env=env, timeout=timeout
    )


def same_index(ray_index: Path, plain_index: Path) -> None:
    """The same passages in the same rows, with the same passage and sentence vectors (the hash model: exactly)."""
    a, b = read_index(ray_index), read_index(plain_index)
    assert a is not None and b is not None
    rows_a = dict(a.iter_passages())
    rows_b = dict(b.iter_passages())
    assert {r: p.id for r, p in rows_a.items()} == {r: p.id for r, p in rows_b.items()}
    rows = sorted(rows_a)
    vectors_a, vectors_b = a.vectors_of(rows), b.vectors_of(rows)
    assert all(np.array_equal(vectors_a[r], vectors_b[r]) for r in rows)
    sentences_a, sentences_b = a.sentences(rows), b.sentences(rows)
    for row in rows:
        (spans_a, found_a), (spans_b, found_b) = sentences_a[row], sentences_b[row]
        assert np.array_equal(spans_a, spans_b) and np.array_equal(found_a, found_b)
    assert a.manifest.last_build.ray_workers == 2 and b.manifest.last_build.ray_workers == 0


def answers(docs: Path, index: Path, store: str | None = None) -> list[dict]:
    retriever = Retriever.open(docs=docs, index=index, embedder=HashEmbedder(), store=store)
    return [retriever.search(q, k=3, mode=mode).to_dict() for q in QUESTIONS for mode in ("hybrid", "dense")]


def test_a_ray_build_and_update_give_the_single_process_index_and_answers(seeds, tmp_path, short_tmp):
    ray_index, plain_index, store = tmp_path / "ray", tmp_path / "plain", f"milvus:{tmp_path / 'news.db'}"
    on_ray = ["--ray", "--ray-workers", "2", "-q"]

    built = ask(short_tmp, "index", "update", "--docs", str(seeds), "--index", str(ray_index), *on_ray)
    assert built.returncode == 0, built.stderr[-3000:]
    assert built.stdout.startswith("Updated: 5 documents, ") and " on 2 Ray workers, kept 0 documents" in built.stdout
    assert len(built.stdout.splitlines()) == 1  # nothing of Ray's on stdout
    assert "Token authentication" not in built.stderr  # nor its warning that it chose token authentication
    assert ask(short_tmp, "index", "update", "--docs", str(seeds), "--index", str(plain_index), "-q").returncode == 0
    same_index(ray_index, plain_index)
    assert answers(seeds, ray_index) == answers(seeds, plain_index)

    # nothing to embed: Ray is not started, so an address that answers nothing is never tried
    idle = ask(short_tmp, "index", "update", "--docs", str(seeds), "--index", str(ray_index), "--ray-address", "x:1")
    assert (idle.returncode, idle.stdout) == (0, "Up to date: 5 documents, 47 passages\n"), idle.stderr

    files = sorted(seeds.glob("*.txt"))
    files[0].write_text(files[0].read_text() + "\nThe last troops left on January 19, officials said.\n")
    files[-1].unlink()
    update = ["index", "update", "--docs", str(seeds), "--index", str(ray_index), *on_ray, "--store", store]
    updated = ask(short_tmp, *update)
    assert updated.returncode == 0, updated.stderr[-3000:]
    first, mirror = updated.stdout.splitlines()
    assert first.startswith("Updated: 4 documents, ")
    assert first.endswith("on 2 Ray workers, kept 3 documents as they were")
    assert mirror.startswith(f"Milvus ({store}): 4 documents written, 0 removed, ")
    assert ask(short_tmp, "index", "update", "--docs", str(seeds), "--index", str(plain_index), "-q").returncode == 0
    same_index(ray_index, plain_index)
    assert answers(seeds, ray_index, store) == answers(seeds, plain_index)  # restarted, on the mirror the update wrote

    status = ask(short_tmp, "index", "status", "--docs", str(seeds), "--index", str(ray_index))
    assert "(embedded with hash on 2 Ray workers, " in status.stdout
    assert not list(short_tmp.glob("qa-ray-*")), "Ray's session folder left behind"


@pytest.mark.model
def test_the_real_model_on_ray_answers_through_milvus_as_the_default_build(seeds, tmp_path, short_tmp):
    """The issue's check: `index update --ray`, then `ask.py --store milvus:./news.db` gives the cited answer of
    a plain build and the default store."""
    ray_index, plain_index = tmp_path / "ray", tmp_path / "plain"
    built = ask(short_tmp, "index", "update", "--docs", str(seeds), "--index", str(ray_index), "--ray", "-q", model="")
    assert built.returncode == 0, built.stderr[-3000:]
    question = [QUESTIONS[0], "--json", "--cite", "--docs", str(seeds), "-q"]
    store = f"milvus:{tmp_path / 'news.db'}"
    mirrored = ask(short_tmp, *question, "--index", str(ray_index), "--store", store, model="")
    plain = ask(short_tmp, *question, "--index", str(plain_index), model="")
    assert mirrored.returncode == plain.returncode == 0, mirrored.stderr[-3000:]
    got, expected = json.loads(mirrored.stdout), json.loads(plain.stdout)
    assert got["answer"] == expected["answer"] and got["values"] == expected["values"]
    top = [(p["id"], p["start"], p["end"], p["citation"]) for p in got["passages"]]
    assert top == [(p["id"], p["start"], p["end"], p["citation"]) for p in expected["passages"]]
    scores = np.array([p["score"] for p in got["passages"]]) - np.array([p["score"] for p in expected["passages"]])
    assert np.abs(scores).max() < 1e-3  # the encoders differ by bf16 rounding at most: cosine >= 0.999


def test_a_worker_that_cannot_build_its_encoder_is_one_line(short_tmp):
    """As a node without the model or the backend would fail: here the backend is unknown to the workers (the
    hash model's spec is not resolved by the driver, so only the workers find out)."""
    code = textwrap.dedent(
        """
        from qa.errors import BackendError
        from qa.embed.runtimes.ray_embedder import EncoderSpec, RayEncoders, RaySettings
        spec = EncoderSpec("hash", "hash", "no-such-backend", 256)
        try:
            with RayEncoders(spec, RaySettings(workers=1)) as encoders:
                encoders.embed(["a text"])
        except BackendError as exc:
            print(exc.exit_code, exc)
        """
    )
    env = {**os.environ, "HOME": str(short_tmp / "home"), "TMPDIR": str(short_tmp), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=short_tmp, capture_output=True, text=True, env=env, timeout=180
    )
    assert done.returncode == 0, done.stderr[-3000:]
    line = done.stdout.strip()
    assert line.startswith("2 a Ray worker could not start: unknown embedding backend 'no-such-backend'"), line
    assert "\n" not in line and len(line) < 400


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(port: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.5)
    return False


def test_index_update_joins_a_running_ray_cluster(seeds, tmp_path, short_tmp):
    """A one-CPU cluster started with `ray start --head --block` (its token in the same HOME), stopped after."""
    ray_cli = Path(sys.executable).parent / "ray"
    if not ray_cli.exists():
        pytest.skip("the ray command is not installed beside this Python")
    port = _free_port()
    env = {**os.environ, "HOME": str(short_tmp / "home"), "TMPDIR": str(short_tmp), "RAY_USAGE_STATS_ENABLED": "0"}
    env.pop("RAY_ADDRESS", None)
    head = subprocess.Popen(
        [str(ray_cli), "start", "--head", "--block", "--num-cpus", "1", "--port", str(port)]
        + ["--include-dashboard", "false", "--temp-dir", str(short_tmp / "r")],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        assert _wait_for(port, 60), "the Ray head did not start"
        address = f"127.0.0.1:{port}"
        where = ["index", "update", "--docs", str(seeds), "--index", str(tmp_path / "idx"), "-q"]
        too_many = ask(short_tmp, *where, "--ray-address", address, "--ray-workers", "2")
        assert too_many.returncode == 2
        last = too_many.stderr.strip().splitlines()[-1]
        assert last == f"error: the Ray cluster at {address} has 1 CPU: at most 1 worker, one CPU each"
        joined = ask(short_tmp, *where, "--ray-address", address)
        assert joined.returncode == 0, joined.stderr[-3000:]
        assert joined.stdout.startswith("Updated: 5 documents, ") and " on 1 Ray worker, " in joined.stdout
    finally:
        os.killpg(head.pid, signal.SIGTERM)  # `ray start --block` stops the processes it started
        try:
            head.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(head.pid, signal.SIGKILL)
            head.wait()
