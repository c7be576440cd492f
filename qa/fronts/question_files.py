"""The .jsonl question files of `--questions` and `--eval`, read and checked whole before any work."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa.app import check_question, graded_question
from qa.errors import BadInputError, EmptyQuestionError
from qa.records import GradedQuestion

# a question with its answers is a few hundred characters; a longer line is not a question file's
MAX_LINE_CHARS = 100_000


@dataclass(frozen=True)
class AskedQuestion:
    """One line of a --questions file; its `id` is echoed only when the line has one (null included)."""

    question: str
    id: object = None
    has_id: bool = False


def read_questions(path: Path) -> list[AskedQuestion]:
    """Every {"id"?, "question"} line of `path`, checked."""
    return [AskedQuestion(record["question"], record.get("id"), "id" in record) for _, record in _records(path)]


def read_graded(path: Path) -> list[GradedQuestion]:
    """Every {"id"?, "question", "answers"?} line of `path`, checked (answers too)."""
    return [graded_question(record, where) for where, record in _records(path)]


def _records(path: Path) -> list[tuple[str, dict[str, Any]]]:
    """(`path:line`, record) of each line holding a question; a bad line refuses the whole file."""
    records = list(_lines(path))
    if not records:
        raise BadInputError(f"{path}: no questions")
    return records


def _lines(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    for lineno, line in _read(path):
        if not line.strip():
            continue
        where = f"{path}:{lineno}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise BadInputError(f"{where}: not JSON ({exc.msg})") from None
        if not isinstance(record, dict) or not isinstance(record.get("question"), str):
            raise BadInputError(f'{where}: expected {{"id"?, "question": "..."}}')
        try:
            check_question(record["question"])
        except EmptyQuestionError:
            raise BadInputError(f"{where}: the question is empty") from None
        except BadInputError:
            raise BadInputError(f"{where}: the question holds invalid Unicode") from None
        yield where, record


def _read(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, line) of a regular file, a line at a time, each at most MAX_LINE_CHARS long.

    Anything but a regular file is refused before it is opened: a FIFO would wait forever for a writer
    and /dev/zero is one endless line.
    """
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            raise BadInputError(f"cannot read {path}: not a regular file; give a .jsonl file")
        with path.open(encoding="utf-8-sig") as fh:
            lineno = 0
            while line := fh.readline(MAX_LINE_CHARS + 1):
                lineno += 1
                if len(line.rstrip("\n")) > MAX_LINE_CHARS:
                    raise BadInputError(f"{path}:{lineno}: line longer than {MAX_LINE_CHARS:,} characters")
                yield lineno, line.rstrip("\n")
    except FileNotFoundError:
        raise BadInputError(f"no such file: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInputError(f"cannot read {path}: {exc}") from None
