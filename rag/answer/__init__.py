"""Answering from passages: the Answerer interface and citation check, the extractive answerer, its sentence
features, the reader, the fitted answer model, and the registry that chooses an answerer by name."""
