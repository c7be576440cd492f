"""HTTP front: the JSON API and the local chat page over one loaded Retriever (FastAPI + uvicorn).

Every answer is `Retriever.search(...).to_dict()`, what `ask.py --json` prints; errors are `{"error": "one line"}`.
"""

from qa.fronts.server.app import create_app
from qa.fronts.server.models import SearchRequest, SearchResponse
from qa.fronts.server.run import main, serve, serving_app

__all__ = ["SearchRequest", "SearchResponse", "create_app", "main", "serve", "serving_app"]
