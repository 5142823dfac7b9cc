"""One story once: each document written is grouped with a near-duplicate already indexed (the same
story from another outlet, or a lightly edited copy), so retrieval can return one copy per story.

The writer keeps each document's MinHash signature in the local cache and builds the in-memory LSH
(rag/ingest/near_duplicates.py) from them when a sync has documents to write; documents without a
signature (a cache filled from a shared Chroma server, an index from before stories) get one from their
stored text then. A story's label is the id of its first document, kept in Chroma with each document,
so every instance sharing a store groups the same way; it stays when that document is deleted.
Documents indexed before stories existed keep stories of their own until they are written again
(`rag index --rebuild` groups a whole index).
"""

from __future__ import annotations

from ..ingest import near_duplicates as nd
from ..schema import Document
from .local_cache import LocalCache


class Stories:
    def __init__(self, docs: LocalCache) -> None:
        self.docs = docs
        missing = {doc_id: nd.signature_bytes(nd.signature(nd.shingles(docs.document(doc_id).text)))
                   for doc_id in docs.without_signatures()}
        if missing:
            docs.set_signatures(missing)
        self.index = nd.StoryIndex.from_signatures(
            (doc_id, sig, story or doc_id) for doc_id, (sig, story) in docs.signatures().items()
        )
        self._pending: dict[str, set[int]] = {}  # shingles of documents assigned in this run, not cached yet
        self._signatures: dict[str, bytes] = {}

    def assign(self, doc: Document) -> str:
        """The story ``doc`` belongs to: that of its closest near-duplicate, else its own (its id)."""
        shingles = nd.shingles(doc.text)
        sig = nd.signature(shingles)
        self.index.remove(doc.doc_id)
        story = self.index.find(sig, shingles, self._shingles_of, exclude=doc.doc_id) or doc.doc_id
        self.index.add(doc.doc_id, sig, story)
        self._pending[doc.doc_id] = shingles
        self._signatures[doc.doc_id] = nd.signature_bytes(sig)
        return story

    def _shingles_of(self, doc_id: str) -> set[int]:
        pending = self._pending.get(doc_id)
        return pending if pending is not None else nd.shingles(self.docs.document(doc_id).text)

    def save(self) -> None:
        """Keep the signatures of the documents assigned (after they are committed)."""
        if self._signatures:
            self.docs.set_signatures(self._signatures)
            self._signatures = {}
