"""Language-model answers: the answerer, its llama.cpp and OpenAI-compatible backends, the check of each generated
sentence against the passages, and the GGUF model files assembled from installed packages."""
