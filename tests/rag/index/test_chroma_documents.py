"""The documents in Chroma (rag/index/chroma_documents.py) and the cache built from them; embedded Chroma, no model."""

from __future__ import annotations

from datetime import UTC, datetime

import chromadb
import pytest
from chromadb.config import Settings as ChromaSettings

from rag.index.chroma_documents import Catalog, StoredDocument, bump
from rag.index.local_cache import LocalCache
from rag.errors import IndexEmptyError
from rag.schema import Chunk, Document


@pytest.fixture
def client(tmp_path):
    return chromadb.PersistentClient(path=str(tmp_path / "chroma"), settings=ChromaSettings(anonymized_telemetry=False))


def stored(doc_id: str, text: str, cut: int, **fields: object) -> StoredDocument:
    doc = Document(doc_id=doc_id, title=f"Title of {doc_id}", text=text, **fields)  # type: ignore[arg-type]
    chunks = [Chunk(Chunk.make_id(doc_id, s, text[s:e]), doc_id, n, s, e, text[s:e])
              for n, (s, e) in enumerate([(0, cut), (cut, len(text))])]
    return StoredDocument(doc, chunks, 1700000000.5, "host:/corpus")


def test_a_reader_needs_an_index(client) -> None:
    with pytest.raises(IndexEmptyError, match="run `rag index`"):
        Catalog(client, create=False)


def test_documents_come_back_exactly_with_their_chunks(client) -> None:
    catalog = Catalog(client, create=True)
    published = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
    items = [stored("a", "Première phrase. Second sentence, with ünïcode.", 17, url="https://x.org/a",
                    published=published, source="wire", path="wire/a.txt"),
             stored("b", "Short one. And another.", 11)]
    catalog.put(items, seq=1)
    catalog.set_seq(1)
    got = {s.document.doc_id: s for page in catalog.changed_since(0) for s in page}
    assert got.keys() == {"a", "b"} and catalog.seq() == 1 and catalog.count() == 2
    for item in items:
        back = got[item.document.doc_id]
        assert back.document == item.document and back.document.content_hash == item.document.content_hash
        assert back.chunks == item.chunks and (back.indexed_at, back.origin) == (item.indexed_at, item.origin)
        assert all(back.document.text[c.start : c.end] == c.text for c in back.chunks)


def test_only_what_changed_after_a_number_is_fetched(client) -> None:
    catalog = Catalog(client, create=True)
    catalog.put([stored("a", "One. Two.", 4), stored("b", "Three. Four.", 6)], seq=1)
    catalog.put([stored("b", "Three changed. Four.", 14), stored("c", "Five. Six.", 5)], seq=2)
    assert sorted(s.document.doc_id for page in catalog.changed_since(1) for s in page) == ["b", "c"]
    catalog.remove(["a"])
    assert catalog.ids() == {"b", "c"}


def test_a_rebuilt_store_has_a_new_id_and_a_higher_counter(client) -> None:
    catalog = Catalog(client, create=True)
    catalog.set_seq(4)
    before = catalog.store_id
    client.delete_collection("news_documents")
    assert bump(client) == 5
    assert Catalog(client, create=True).store_id != before


def test_records_that_are_not_ours_are_skipped(client) -> None:
    catalog = Catalog(client, create=True)
    catalog.put([stored("a", "One. Two.", 4)], seq=1)
    catalog.documents.add(ids=["foreign"], embeddings=[[1.0, 0.0]], documents=["x"], metadatas=[{"seq": 3}])
    assert [s.document.doc_id for page in catalog.changed_since(0) for s in page] == ["a"]


def test_a_large_document_is_written_in_pieces(client) -> None:
    catalog = Catalog(client, create=True)
    text = "A sentence about the harbour bridge. " * 150_000  # 5.5 MB, more than one request's worth
    catalog.put([stored("big", text, 37), stored("small", "One. Two.", 4)], seq=1)
    back = {s.document.doc_id: s for page in catalog.changed_since(0) for s in page}
    assert back["big"].document.text == text and back["small"].document.text == "One. Two."


def test_the_cache_records_which_state_it_holds(tmp_path) -> None:
    cache = LocalCache(tmp_path / "docs.sqlite")
    assert cache.synced() == ("", -1)
    cache.apply([stored("a", "One. Two.", 4)], (), store_id="s1", seq=3)
    assert cache.synced() == ("s1", 3) and cache.counts() == (1, 2)
    assert cache.hashes()["a"][2] == "host:/corpus"
    cache.apply((), ["a"], store_id="s1", seq=4)
    assert cache.counts() == (0, 0) and cache.synced() == ("s1", 4)
    cache.clear()
    assert cache.synced() == ("", -1)
    cache.close()
