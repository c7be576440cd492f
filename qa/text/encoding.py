"""Whether a string can be written out as UTF-8 (JSON may carry lone surrogates such as "\\ud800")."""

from __future__ import annotations


def is_encodable(text: str) -> bool:
    """False for strings holding lone surrogates, which cannot be encoded, indexed or printed."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
