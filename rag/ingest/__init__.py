"""Getting articles in: file loaders, feeds, the BBC demo import, and the token-aware chunker."""
