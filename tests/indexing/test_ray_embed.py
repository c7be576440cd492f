"""Embedding with Ray Data (qa/embed/runtimes/ray_embedder.py): the single-process encoder's vectors in the input order,
nothing on stdout, no Ray process or session folder left behind, and a missing Ray or an unreachable cluster is
one typed error, quickly. Ray runs in subprocesses (HOME in tmp: Ray keeps its token in ~/.ray), so this
process keeps no Ray state."""

from __future__ import annotations

import json
import os
import shutil
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
from conftest import ROOT, SEEDS

from qa.embed.reference import HashEmbedder
from qa.embed.runtimes.ray_embedder import EncoderSpec, RaySettings, RayUnavailableError, embed_with_ray
from qa.errors import BadInputError, MissingExtraError

pytest.importorskip("ray")

# the driver: embeds TEXTS (a JSON file) with Ray; saves the vectors, and the pids of the processes it started
DRIVER = textwrap.dedent(
    """
    import json, os, sys
    from pathlib import Path
    import numpy as np
    import ray
    from qa.embed.runtimes.ray_embedder import EncoderSpec, embed_with_ray

    work, model, backend = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    workers, batch = int(sys.argv[4]), int(sys.argv[5])
    texts = json.loads((work / "texts.json").read_text())

    def descendants(root):
        children = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                parent = int(stat.read_text().rsplit(") ", 1)[1].split()[1])  # after "pid (name) state"
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(stat.parent.name))
        found, todo = [], [root]
        while todo:
            kids = children.get(todo.pop(), [])
            found += kids
            todo += kids
        return found

    started = []
    shutdown = ray.shutdown
    def counted_shutdown(*args, **kwargs):
        started.extend(descendants(os.getpid()))
        return shutdown(*args, **kwargs)
    ray.shutdown = counted_shutdown

    spec = EncoderSpec.load(model, backend)
    vectors = embed_with_ray(texts, spec, workers=workers, scratch=work / "s")
    np.save(work / "ray.npy", vectors)
    if model != "hash":
        np.save(work / "single.npy", spec.resolved().build().embed(texts))
    (work / "pids.json").write_text(json.dumps(started))
    """
)


@pytest.fixture
def work() -> Iterator[Path]:
    """A short tmp folder (Ray's sockets live under it: AF_UNIX paths are limited to 107 bytes)."""
    folder = Path(tempfile.mkdtemp(prefix="qaray", dir="/tmp"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run_driver(work: Path, texts: list[str], model: str, backend: str, workers: int, batch: int):
    (work / "texts.json").write_text(json.dumps(texts), encoding="utf-8")
    home = work / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "HF_HUB_OFFLINE": "1", "TMPDIR": str(work)}
    env.pop("RAY_ADDRESS", None)
    began = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, str(work), model, backend, str(workers), str(batch)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done, time.monotonic() - began


def alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie waiting to be reaped has ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")
def test_hash_vectors_through_ray_equal_the_single_process_ones_in_order_and_leave_nothing_behind(work):
    texts = [f"passage {row}: " + " ".join(f"w{(row * 7 + k) % 50}" for k in range(row % 23)) for row in range(203)]
    done, _ = run_driver(work, texts, "hash", "auto", workers=2, batch=16)

    vectors = np.load(work / "ray.npy")
    assert vectors.dtype == np.float32 and vectors.shape == (203, 256)
    assert np.array_equal(vectors, HashEmbedder().embed(texts))  # exactly, and in the input order
    assert done.stdout == ""

    started = json.loads((work / "pids.json").read_text())
    assert len(started) >= 3  # gcs_server, raylet, the two actors, ...
    deadline = time.monotonic() + 20
    while any(alive(pid) for pid in started) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not [pid for pid in started if alive(pid)], "Ray processes left running"
    assert not list((work / "s").iterdir()), "Ray's session folder left behind"
    # Ray wrote only under the tmp folders: its token in the HOME given, nothing in the real ~/.ray or /tmp/ray
    assert {p.name for p in (work / "home").rglob("*")} <= {".ray", "auth_token"}


@pytest.mark.model
def test_the_real_model_through_ray_matches_the_single_process_bulk_encoder(work):
    paragraphs = [p.strip() for f in sorted(SEEDS.glob("*.txt")) for p in f.read_text().split("\n\n")]
    texts = [p for p in paragraphs if len(p) > 80][:40]
    assert len(texts) == 40
    done, seconds = run_driver(work, texts, "", "onnxruntime-fp32", workers=2, batch=8)

    single, vectors = np.load(work / "single.npy"), np.load(work / "ray.npy")
    cosines = np.sum(single * vectors, axis=1)
    worst = np.abs(single - vectors).max()
    print(f"\nreal model via Ray: min cosine {cosines.min():.8f}, max |diff| {worst:.2e}, {seconds:.1f} s")
    assert vectors.shape == single.shape == (40, 384)
    assert cosines.min() >= 0.999
    assert done.stdout == ""


def test_without_ray_it_says_which_extra_to_install():
    code = (
        "import sys; sys.modules['ray'] = None\n"
        "from qa.embed.runtimes.ray_embedder import EncoderSpec, embed_with_ray\n"
        "from qa.errors import MissingExtraError\n"
        "try:\n"
        "    embed_with_ray(['a text'], EncoderSpec.load('hash'))\n"
        "except MissingExtraError as exc:\n"
        "    print(exc.exit_code, exc)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.stdout == "2 embedding with Ray needs the ray package, not installed here: pip install -e '.[ray]'\n"
    assert issubclass(MissingExtraError, Exception)


@pytest.mark.parametrize("address", ["127.0.0.1:1", "ray://127.0.0.1:1"])
def test_an_unreachable_cluster_is_a_typed_error_at_once(address):
    began = time.monotonic()
    with pytest.raises(RayUnavailableError) as raised:
        embed_with_ray(["a text"], EncoderSpec.load("hash"), address=address)
    assert time.monotonic() - began < 30
    assert raised.value.exit_code == 2
    assert str(raised.value).startswith(f"cannot reach the Ray cluster at {address}: ")
    assert "\n" not in str(raised.value)


def test_a_port_that_accepts_but_never_answers_fails_within_the_connect_timeout():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        address = f"127.0.0.1:{listener.getsockname()[1]}"
        began = time.monotonic()
        with pytest.raises(RayUnavailableError, match="does not answer"):
            embed_with_ray(["a text"], EncoderSpec.load("hash"), address=address, connect_timeout=1.5)
        assert time.monotonic() - began < 10


def test_a_bad_address_and_bad_numbers_are_refused_before_ray_starts():
    with pytest.raises(RayUnavailableError, match="not a Ray address"):
        embed_with_ray(["a text"], EncoderSpec.load("hash"), address="somewhere")
    with pytest.raises(BadInputError, match="Ray workers must be at least 1, not 0"):
        embed_with_ray(["a text"], EncoderSpec.load("hash"), workers=0)
    cpus = os.cpu_count() or 1
    with pytest.raises(BadInputError, match=r"a local Ray has \d+ CPUs? here: at most \d+ workers?, one model each"):
        RaySettings(workers=cpus + 1)  # more actors than CPUs would only load more models, until memory runs out
    with pytest.raises(RayUnavailableError, match="not a Ray address"):
        embed_with_ray(["a text"], EncoderSpec.load("hash"), address="127.0.0.1:99999")
    assert embed_with_ray([], EncoderSpec.load("hash")).shape == (0, 256)


def test_a_spec_rebuilds_the_embedder_it_was_made_from(real_embedder):
    spec = EncoderSpec.from_embedder(real_embedder, "onnxruntime-fp32")
    assert spec == EncoderSpec.load(None, "onnxruntime-fp32")
    assert spec.name == real_embedder.name and Path(spec.model) == real_embedder.path
    assert EncoderSpec.load("hash") == EncoderSpec("hash", "hash", "auto", 256)
    assert EncoderSpec("hash", "hash", "auto", 64).build().dim == 64
