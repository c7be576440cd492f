"""Typed errors raised by the library; the fronts turn them into one-line messages and exit codes."""

from __future__ import annotations


class QAError(Exception):
    """Base class for every error the library raises on purpose."""

    exit_code = 1


class BadInputError(QAError):
    """The user gave something unusable: an empty question, a missing path, a bad option."""

    exit_code = 2


class EmptyQuestionError(BadInputError):
    def __init__(self) -> None:
        super().__init__('the question is empty; ask something, e.g. "When did the withdrawal finish?"')


class DocsNotFoundError(BadInputError):
    """A corpus (or an article file) that is not there. The message names no front's option: a front that knows
    where the path came from (the CLI's --docs) says so itself, from `path`."""

    CORPUS = "a folder of .txt/.md/.html files or a .jsonl file"

    def __init__(self, path: str, expected: str = CORPUS) -> None:
        self.path = path
        super().__init__(f"no such file or folder: {path} (expected {expected})")


class SeedsNotFoundError(DocsNotFoundError):
    """No corpus was given and the seed articles are not installed: they live in `seeds/` of a checkout, which an
    editable install (`pip install -e .`) reaches from any folder and a wheel does not carry."""

    def __init__(self, path: str) -> None:
        self.path = path
        BadInputError.__init__(
            self,
            f"no corpus given, and the seed articles are not installed here ({path}): only a checkout installed"
            " with pip install -e . has them",
        )


class EmptyCorpusError(BadInputError):
    def __init__(self, path: str) -> None:
        super().__init__(
            f'no readable documents in {path} (expected .txt/.md/.html files or .jsonl records with "text")'
        )


class ModelNotFoundError(QAError):
    """The embedding model cannot be found locally (it is never downloaded)."""

    exit_code = 2


class IndexDamagedError(QAError):
    """An index on disk cannot be used (damaged, foreign, or written by another format version)."""


class StoreDamagedError(QAError):
    """A store mirroring the index holds what its own records say it should not (lost passages, damaged
    vectors): `ask.py index update --store ...` writes it again."""


class NoIndexError(QAError):
    """An index was asked for where none has been built yet."""

    exit_code = 2


class IndexLocationError(QAError):
    """The index folder cannot be created or written (a file in the way, read-only, no permission)."""

    exit_code = 2


class IndexBusyError(QAError):
    """Another process holds the index lock for longer than we are willing to wait."""


class BackendError(QAError):
    """A bulk embedding backend was asked for that is unknown or cannot run here (qa/embed/bulk.py)."""

    exit_code = 2


class MissingExtraError(QAError):
    """An optional part was asked for whose package is not installed (`pip install -e '.[EXTRA]'`)."""

    exit_code = 2

    def __init__(self, what: str, extra: str, package: str) -> None:
        super().__init__(f"{what} needs the {package} package, not installed here: pip install -e '.[{extra}]'")


def is_disk_full(exc: BaseException) -> bool:
    """Whether `exc` (OSError, SQLite's, FAISS's RuntimeError) says the disk is full."""
    import errno

    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    text = str(exc).lower()
    return "disk is full" in text or "no space left" in text or "disk quota exceeded" in text


def no_space_message(where: object) -> str:
    return f"no space left on the device holding {where}: free some space and run again (the live index is unchanged)"


class NoReadableFilesError(EmptyCorpusError):
    """Every corpus file under the folder was skipped before reading (broken links, FIFOs, no permission)."""

    _SHOWN = 3  # reasons named in the one-line message; the rest are counted

    def __init__(self, path: str, reasons: list[str]) -> None:
        named = "; ".join(reasons[: self._SHOWN])
        more = f"; and {len(reasons) - self._SHOWN} more" if len(reasons) > self._SHOWN else ""
        BadInputError.__init__(self, f"no readable documents in {path}: {named}{more}")


class StoreUnavailableError(QAError):
    """The Milvus store cannot be reached or opened (a server down, a .db held by another process), or a
    call to it failed or ran past its timeout."""

    exit_code = 2


class StoreMismatchError(QAError):
    """The Milvus store holds what this generation cannot be mixed with (another model or dimension), or a
    value longer than Milvus stores."""

    exit_code = 2


class StoreOutOfStepError(QAError):
    """Rows a Milvus search returned are not the same passages in the reader's generation: another index
    folder has synced the store since (a mirror has one writer)."""

    exit_code = 2


class RayUnavailableError(QAError):
    """The Ray cluster at the address given cannot be reached or joined (or a local Ray could not start)."""

    exit_code = 2


def one_line(message: object, limit: int = 300) -> str:
    """An error in one line, as every front shows it: its first line (a traceback-like tail dropped) with
    whitespace collapsed, at most `limit` characters, and anything UTF-8 cannot carry (a lone surrogate
    echoed back) written as an escape; "error" when there are no words."""
    lines = [line for line in str(message).splitlines() if line.strip()]
    text = " ".join(lines[0].split()) if lines else "error"
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
