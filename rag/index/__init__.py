"""The index: the facade over Chroma and the local cache, the Chroma collections, locks and the lease, and the sync
that brings the index in line with the article files."""
