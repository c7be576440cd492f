"""A full disk, for real: a small tmpfs holds the index. Every failure says "no space left" in one line, and
the index that was live before stays live and answers. Needs root (to mount); skipped otherwise."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

QUESTION = "When did the withdrawal finish?"


@pytest.fixture
def small_disk(tmp_path) -> Iterator[Path]:
    """A 4 MiB tmpfs mounted inside the test's temporary folder (and unmounted after)."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root and mount(8)")
    mountpoint = tmp_path / "small"
    mountpoint.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mountpoint)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False)


def many_articles(folder: Path, count: int) -> None:
    for i in range(count):
        words = " ".join(f"report{i} item{j} council{j % 13} budget{i % 7}" for j in range(120))
        (folder / f"extra{i:03d}.txt").write_text(f"Council story {i}.\n\n{words}.\n", encoding="utf-8")


def test_a_first_build_on_a_full_disk_says_so(small_disk, seeds, cli, hash_model):
    filler = small_disk / "filler"
    filler.write_bytes(b"\0" * (shutil.disk_usage(small_disk).free - 100 * 1024))  # leave ~100 KiB
    code, out, err = cli(QUESTION, "--docs", str(seeds), "--index", str(small_disk / "idx"), "-q")
    assert code == 2, err
    assert "no space left on the device holding" in err and "unexpected" not in err and len(err.splitlines()) == 1


def test_an_update_on_a_full_disk_keeps_the_live_index(small_disk, seeds, cli, hash_model):
    index = small_disk / "idx"
    code, before, err = cli(QUESTION, "--docs", str(seeds), "--index", str(index), "-q", "--json")
    assert code == 0, err
    many_articles(seeds, 800)  # more than the disk can take
    code, out, err = cli(QUESTION, "--docs", str(seeds), "--index", str(index), "-q")
    assert code == 2 and "no space left on the device holding" in err and "unexpected" not in err, err
    for extra in seeds.glob("extra*.txt"):
        extra.unlink()
    code, after, err = cli(QUESTION, "--docs", str(seeds), "--index", str(index), "-q", "--json")
    assert code == 0 and after == before, "the live index answers as before"


def test_wherever_the_disk_fills_up_the_message_is_the_same(small_disk, seeds, cli, hash_model):
    """The disk fills at every stage in turn (copying the store, embedding, writing the new generation)."""
    index = small_disk / "idx"
    code, before, err = cli(QUESTION, "--docs", str(seeds), "--index", str(index), "-q", "--json")
    assert code == 0, err
    many_articles(seeds, 6)
    outcomes = set()
    for free_kib in (8, 32, 64, 96, 128, 192, 256, 384, 512, 768):
        filler = small_disk / "filler"
        filler.unlink(missing_ok=True)
        free = shutil.disk_usage(small_disk).free
        filler.write_bytes(b"\0" * max(0, free - free_kib * 1024))
        code, out, err = cli(QUESTION, "--docs", str(seeds), "--index", str(index), "-q")
        assert "unexpected" not in err and "Traceback" not in err, err
        assert code == 0 or (code == 2 and "no space left on the device holding" in err), err
        outcomes.add(code)
        if code == 0:
            break
    assert 2 in outcomes, "the disk filled up at least once"
    filler.unlink(missing_ok=True)
    for extra in seeds.glob("extra*.txt"):
        extra.unlink()
    code, after, err = cli(QUESTION, "--docs", str(seeds), "--index", str(index), "-q", "--json")
    assert code == 0 and (0 in outcomes or after == before), err
