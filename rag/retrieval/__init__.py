"""Finding passages: hybrid dense + BM25 search, and how follow-up questions use the conversation."""
