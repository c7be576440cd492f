"""Import shim and `python -m qa.server`: the HTTP front lives in qa/fronts/server."""

from qa.fronts.server import create_app, main, serve

__all__ = ["create_app", "main", "serve"]

if __name__ == "__main__":
    main()
