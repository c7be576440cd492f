"""Normalise publication dates to YYYY-MM-DD."""

from __future__ import annotations

import datetime as dt

from dateutil import parser as date_parser


def normalise_date(value: str) -> str | None:
    """'2022-01-14T10:00:00Z', 'January 14th, 2022', 'Jan 13, 2022' -> '2022-01-14'; None if unreadable."""
    value = value.strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value[:10]).isoformat()
    except ValueError:
        pass
    try:
        # a fixed default keeps a partial date (no day) from borrowing today's day
        parsed = date_parser.parse(value, fuzzy=True, default=dt.datetime(1900, 1, 1))
    except (ValueError, OverflowError):
        return None
    if parsed.year == 1900:
        return None
    day: dt.date = parsed.date()
    return day.isoformat()
