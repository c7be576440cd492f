"""Question + passage windows as token ids, shared by training and question time.

One window is "[CLS] question [SEP] passage tokens [SEP]"; a passage longer than one window is read in
overlapping windows. Each passage token keeps its character offsets in the passage, so a span of tokens
is a span of the source text, exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MAX_QUESTION_TOKENS = 64


@dataclass(frozen=True)
class Window:
    """Token ids of one window; `offsets[i]` is the passage span of token i, (-1, -1) outside the passage."""

    ids: list[int]
    type_ids: list[int]
    offsets: list[tuple[int, int]]
    first: int  # index of the first passage token in the window

    @property
    def last(self) -> int:
        """Index one past the last passage token (the closing [SEP])."""
        return len(self.ids) - 1


class WindowMaker:
    """Cuts (question, passage) into windows with one `tokenizers.Tokenizer` (the bundled model's)."""

    def __init__(self, tokenizer: Any, max_length: int = 256, stride: int = 96) -> None:
        tokenizer.no_truncation()
        tokenizer.no_padding()
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.stride = stride
        self.cls = int(tokenizer.token_to_id("[CLS]"))
        self.sep = int(tokenizer.token_to_id("[SEP]"))

    @classmethod
    def from_file(cls, path: str, max_length: int = 256, stride: int = 96) -> WindowMaker:
        from tokenizers import Tokenizer

        return cls(Tokenizer.from_file(path), max_length, stride)

    def question_ids(self, question: str) -> list[int]:
        ids: list[int] = self.tokenizer.encode(question, add_special_tokens=False).ids
        return ids[:MAX_QUESTION_TOKENS]

    def passage_tokens(self, passages: list[str]) -> list[tuple[list[int], list[tuple[int, int]]]]:
        encodings = self.tokenizer.encode_batch(passages, add_special_tokens=False)
        return [(list(e.ids), [tuple(o) for o in e.offsets]) for e in encodings]

    def windows(self, question_ids: list[int], passage: tuple[list[int], list[tuple[int, int]]]) -> list[Window]:
        ids, offsets = passage
        head = [self.cls, *question_ids, self.sep]
        budget = max(16, self.max_length - len(head) - 1)
        step = max(8, budget - self.stride)
        out: list[Window] = []
        start = 0
        while True:
            piece = ids[start : start + budget]
            out.append(
                Window(
                    ids=[*head, *piece, self.sep],
                    type_ids=[0] * len(head) + [1] * (len(piece) + 1),
                    offsets=[(-1, -1)] * len(head) + list(offsets[start : start + budget]) + [(-1, -1)],
                    first=len(head),
                )
            )
            if start + budget >= len(ids):
                return out
            start += step
