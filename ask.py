#!/usr/bin/env python3
"""Ask the news articles a question: `python ask.py "When did the withdrawal finish?"`."""

from qa.fronts.cli import main

if __name__ == "__main__":
    main()
