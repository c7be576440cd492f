"""How a model is named on the command line and in the environment (no imports: the preload reads these)."""

DEFAULT_MODEL_NAME = "all-MiniLM-L6-v2"
HASH_MODEL = "hash"  # deterministic bag-of-words hashing embedder: tests and smoke checks only
MODEL_ENV = "QA_MODEL"
