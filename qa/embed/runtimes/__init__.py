"""Bulk runtimes for index builds: the reference model's vectors from OpenVINO, torch or onnxruntime."""
