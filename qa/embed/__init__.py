"""Embedding: text -> L2-normalised vectors (the reference model, its ONNX export, fast bulk runtimes)."""
