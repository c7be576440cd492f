"""The package version, importable from every layer (the fronts show it; the manifest records it)."""

__version__ = "0.1.0"
