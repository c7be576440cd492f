"""Build progress on stderr: a bar on a terminal, plain lines now and then in a log, nothing with --quiet."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

import qa.fronts.console as console_module
from qa.fronts.console import ConsoleReporter


def reporter(quiet: bool = False) -> tuple[ConsoleReporter, io.StringIO]:
    out = io.StringIO()
    made = ConsoleReporter(quiet)
    made.console = Console(file=out, force_terminal=False, highlight=False, width=200)
    return made, out


@pytest.fixture
def clock(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(console_module.time, "monotonic", lambda: now[0])
    return now


def test_a_log_gets_a_line_every_few_seconds_with_rate_and_time_left(clock):
    made, out = reporter()
    made.progress(0, 100)  # the build starts embedding
    clock[0] += 2
    made.progress(10, 100)  # too soon for a line
    assert out.getvalue() == ""
    clock[0] += console_module.PLAIN_EVERY_S
    made.progress(40, 100)
    line = out.getvalue().strip()
    assert line.startswith("Embedding: 40/100 files,") and "files/s" in line and "left" in line
    rate = 40 / (2 + console_module.PLAIN_EVERY_S)
    assert f"{rate:.1f} files/s" in line
    clock[0] += 1
    made.progress(100, 100)  # the end is always reported
    assert out.getvalue().strip().splitlines()[-1].startswith("Embedding: 100/100 files")


def test_quiet_prints_no_progress(clock):
    made, out = reporter(quiet=True)
    for done in (0, 50, 100):
        clock[0] += 60
        made.progress(done, 100)
    assert out.getvalue() == ""
