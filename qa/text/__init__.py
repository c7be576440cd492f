"""Text primitives every stage shares: sentences and lines with exact offsets, words and stems, dates."""
