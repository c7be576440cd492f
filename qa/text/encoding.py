"""Whether a string can be written out: as UTF-8 (JSON may carry lone surrogates such as "\\ud800"), and onto a
terminal without the terminal acting on it."""

from __future__ import annotations

import re

# what a terminal would act on or a reader could not see: C0 controls but newline and tab, DEL and C1 (ESC
# starts colour, title and clear-screen sequences, CR and BS overwrite what was printed), the bidi embeddings,
# overrides and isolates that reorder a line ("Trojan Source"), and lone surrogates, which cannot be encoded
_UNSAFE_ON_A_TERMINAL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def is_encodable(text: str) -> bool:
    """False for strings holding lone surrogates, which cannot be encoded, indexed or printed."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def terminal_safe(text: str) -> str:
    """`text` with every character a terminal would act on spelled as Python spells it: ESC as `\\x1b`, U+202E
    as `\\u202e`.

    Article text is shown, never executed. Python's escapes rather than control pictures (U+241B "␛"): the
    pictures exist only for C0 and DEL, not for C1, bidi controls or surrogates, and read as glyphs the
    article itself might hold; an escape is plain ASCII that every terminal and font shows the same way.
    Each character maps on its own, so a text cut into pieces maps piece by piece.
    """
    return _UNSAFE_ON_A_TERMINAL.sub(_escaped, text)


def terminal_safe_offsets(text: str) -> tuple[str, list[int]]:
    """`terminal_safe(text)` and where each of `text`'s positions (its end included) lands in it, so a span
    found on the raw text can be styled on the safe one."""
    if not _UNSAFE_ON_A_TERMINAL.search(text):
        return text, list(range(len(text) + 1))
    pieces: list[str] = []
    landing = [0]
    for char in text:
        piece = terminal_safe(char)
        pieces.append(piece)
        landing.append(landing[-1] + len(piece))
    return "".join(pieces), landing


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
