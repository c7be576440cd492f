"""Terminal output shared by the command lines: stdout that reports a closed pipe, and build progress on stderr."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn


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

    def info(self, message: str) -> None:
        if not self.quiet:
            self.console.print(message, style="dim", markup=False, soft_wrap=True)

    def warning(self, message: str) -> None:
        self.console.print(f"warning: {message}", style="yellow", markup=False, soft_wrap=True)

    def progress(self, done: int, total: int) -> None:
        if self.quiet or not self.console.is_terminal:
            return
        if self._bar is None or self._task is None:
            self._bar = Progress(
                TextColumn("Embedding"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=self.console,
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task("embed", total=total)
        self._bar.update(self._task, completed=done, total=total)
        if done >= total:
            self.close()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
            self._task = None
