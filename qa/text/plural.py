"""A count with its noun, as messages say it: "1 document", "2 documents"."""

from __future__ import annotations


def counted(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
