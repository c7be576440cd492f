"""Terminal output shared by the command lines: stdout that reports a closed pipe, and build progress on stderr."""

from __future__ import annotations

import time

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from qa.app import terminal_safe

PLAIN_EVERY_S = 10.0  # without a terminal, a progress line at most this often (and at the end)


class _Rate(ProgressColumn):
    """Files per second, once rich has measured some."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:.1f} files/s" if speed else "", style="dim")


def _eta(done: int, total: int, seconds: float) -> str:
    if done <= 0 or seconds <= 0:
        return ""
    left = (total - done) * seconds / done
    return f", about {left / 60:.0f} min left" if left >= 90 else f", about {left:.0f} s left"


class Stdout(Console):
    """stdout console that lets a closed pipe reach the CLI's handler instead of exiting with 1."""

    def on_broken_pipe(self) -> None:
        raise BrokenPipeError


class ConsoleReporter:
    """Build messages and warnings on stderr; a progress bar only on a terminal and without --quiet."""

    def __init__(self, quiet: bool) -> None:
        self.console = Console(stderr=True, highlight=False)
        self.quiet = quiet
        self._bar: Progress | None = None
        self._task: TaskID | None = None
        self._plain: tuple[float, int, float] | None = None  # (started, done then, last line printed)

    # messages name files and quote their text: made terminal-safe, so a file name cannot drive the terminal
    def info(self, message: str) -> None:
        if not self.quiet:
            self.console.print(terminal_safe(message), style="dim", markup=False, soft_wrap=True)

    def warning(self, message: str) -> None:
        self.console.print(f"warning: {terminal_safe(message)}", style="yellow", markup=False, soft_wrap=True)

    def progress(self, done: int, total: int) -> None:
        if self.quiet:
            return
        if not self.console.is_terminal:
            self._plain_progress(done, total)
            return
        if self._bar is None or self._task is None:
            self._bar = Progress(
                TextColumn("Embedding"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("files"),
                _Rate(),
                TimeRemainingColumn(),
                console=self.console,
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task("embed", total=total)
        self._bar.update(self._task, completed=done, total=total)
        if done >= total:
            self.close()

    def _plain_progress(self, done: int, total: int) -> None:
        """A line now and then for a log: how far, how fast, how long still (from the files embedded so far)."""
        now = time.monotonic()
        if self._plain is None:
            self._plain = (now, done, now)
            return
        started, first, last = self._plain
        if done < total and now - last < PLAIN_EVERY_S:
            return
        elapsed = now - started
        rate = (done - first) / elapsed if elapsed > 0 else 0.0
        self._plain = (started, first, now) if done < total else None
        line = f"Embedding: {done}/{total} files, {rate:.1f} files/s{_eta(done - first, total - first, elapsed)}"
        self.console.print(line, style="dim", markup=False, soft_wrap=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
            self._task = None
