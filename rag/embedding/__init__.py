"""Sentence embeddings of the packaged all-MiniLM-L6-v2 by backend (torch, onnx, onnx-int8), the ONNX export,
and the hash that names the model by its files."""
