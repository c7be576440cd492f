"""Import shim: the `ask` script installed by earlier versions calls `qa.cli:main`."""

from qa.fronts.cli import main

__all__ = ["main"]
