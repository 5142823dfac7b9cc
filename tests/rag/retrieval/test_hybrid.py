"""Query building of rag/retrieval/hybrid.py: pure logic, no model."""

from __future__ import annotations

from rag.retrieval.hybrid import query_terms


def test_numbers_with_separators_are_phrases() -> None:
    terms = query_terms("Did 1,140 people or 3.5 million attend on 2024-05-01?")
    assert terms == ["1 140", "3 5", "2024 05 01", "people", "million", "attend"]


def test_quotes_and_operators_cannot_inject_syntax(tmp_path) -> None:
    assert query_terms('bridge" OR NEAR(x y) AND -ferry*') == ["bridge", "near", "ferry"]
    store = _store(tmp_path, {"a": 'The "bridge" reopened.'})
    assert len(store.bm25(["bridge", "NEAR(", "*", 'x" OR "y'], 5)) == 1  # quoted by the store, never syntax
    store.close()


def _store(tmp_path, texts: dict[str, str]):
    from rag.index.chroma_documents import StoredDocument
    from rag.index.local_cache import LocalCache
    from rag.schema import Chunk, Document

    store = LocalCache(tmp_path / "docs.sqlite")
    store.apply(
        (StoredDocument(Document(doc_id=k, title=k, text=t), [Chunk(Chunk.make_id(k, 0, t), k, 0, 0, len(t), t)], 0.0)
         for k, t in texts.items()),
        (), store_id="test", seq=1,
    )
    return store


def test_a_number_matches_that_number_not_every_number_starting_with_its_digits(tmp_path) -> None:
    texts = {"glider": "She flew 1,140 kilometres.", "other": "One pilot flew 140 km on 1 May.",
             "more": "A flight of 1,200 km and 11 hours.", "none": "Gliders need thermals."}
    store = _store(tmp_path, texts)
    found = [store.chunks([cid])[cid].doc_id for cid, _ in store.bm25(query_terms("Who flew 1,140 kilometres?"), 5)]
    assert found[0] == "glider" and "more" not in found
    assert store.term_frequency("1") == 3 and store.term_frequency("11") == 1  # "1" is not a prefix of "140"
    assert store.term_frequency("glider") == 1  # words still match their stem's forms
    store.close()


def test_postings_count_chunks_per_stem_and_the_budget_keeps_the_rarest_terms(tmp_path) -> None:
    texts = {f"d{i}": f"The council met on day {i}." for i in range(6)}
    texts["flood"] = "The council discussed flooding of the harbour."
    store = _store(tmp_path, texts)
    # "floods" finds "flooding" through the porter stem; a phrase reads each of its stems' postings
    assert store.postings(["council", "floods", "harbour council", "zebra"]) == [7, 1, 8, 0]
    assert store.rarest(["council", "floods", "zebra"], max_postings=3) == ["zebra", "floods"]
    assert store.rarest(["council"], max_postings=3) == ["council"]  # the rarest term is always searched
    limited = store.bm25(["council", "flood"], 5, max_postings=3)
    assert [store.chunks([c])[c].doc_id for c, _ in limited] == ["flood"]  # "council" (7 chunks) left out
    assert len(store.bm25(["council", "flood"], 10, max_postings=None)) == 7
    store.close()


def test_exact_nearest_search_over_cached_vectors_with_filters(tmp_path) -> None:
    from datetime import UTC, datetime

    import numpy as np

    from rag.index.chroma_documents import StoredDocument
    from rag.index.local_cache import LocalCache
    from rag.schema import Chunk, Document

    def doc(key: str, source: str, year: int | None) -> StoredDocument:
        text = f"Story {key}."
        published = datetime(year, 1, 1, tzinfo=UTC) if year else None
        chunk = Chunk(Chunk.make_id(key, 0, text), key, 0, 0, len(text), text)
        return StoredDocument(Document(doc_id=key, title=key, text=text, source=source, published=published),
                              [chunk], 0.0)

    items = [doc("a", "bbc", 2020), doc("b", "reuters", 2024), doc("c", "bbc", None)]
    ids = {s.document.doc_id: s.chunks[0].chunk_id for s in items}
    unit = np.eye(3, dtype=np.float32)
    store = LocalCache(tmp_path / "docs.sqlite")
    store.apply(items[:2], (), store_id="s", seq=1, vectors={ids["a"]: unit[0], ids["b"]: unit[1]})
    store.apply(items[2:], (), store_id="s", seq=2)  # no vector yet (a cache filled from Chroma)
    assert store.without_vectors() == [ids["c"]]
    store.set_vectors({ids["c"]: np.array([0.6, 0.8, 0.0], dtype=np.float32)})
    query = np.array([0.0, 1.0, 0.0], dtype=np.float32)
    found = store.nearest(query, 3)
    assert [i for i, _ in found] == [ids["b"], ids["c"], ids["a"]]
    assert np.allclose([s for _, s in found], [1.0, 0.8, 0.0])
    assert [i for i, _ in store.nearest(query, 5, sources=["bbc"])] == [ids["c"], ids["a"]]
    since_2021 = int(datetime(2021, 1, 1, tzinfo=UTC).timestamp())
    assert [i for i, _ in store.nearest(query, 5, since=since_2021)] == [ids["b"]]  # undated: left out, as in Chroma
    assert store.nearest(query, 5, sources=["afp"]) == []
    store.apply(items[:1], (), store_id="s", seq=3)  # re-stored unchanged: its chunk keeps its vector
    assert store.without_vectors() == [] and np.array_equal(store.vectors([ids["a"]])[ids["a"]], unit[0])
    store.close()


def test_exact_search_leaves_no_thread_busy(tmp_path) -> None:
    """OpenBLAS's threads busy-waited for about 0.1 s after the product (``@``), taking a core from the
    reader that runs right after the search (bench/bench_blas_threads.py)."""
    import time

    import numpy as np

    from rag.index import local_cache

    vectors = np.random.default_rng(0).random((4000, 384), dtype=np.float32)
    query = vectors[7] / np.linalg.norm(vectors[7])
    scores = local_cache.similarities(vectors, query)
    assert np.allclose(scores, vectors @ query, atol=1e-4)  # the same product
    time.sleep(0.3)  # anything busy-waiting from before (that very ``@``) settles
    local_cache.similarities(vectors, query)
    started = time.process_time()
    time.sleep(0.2)
    assert time.process_time() - started < 0.05  # CPU time of every thread of this process while it slept


def test_a_failing_dense_search_waits_for_bm25_before_the_error_leaves(tmp_path, monkeypatch) -> None:
    """The caller closes the index on such an error (a Chroma server gone); a BM25 query still running on the
    SQLite connection then crashed the whole process (seen as a segfault in the shared-server test)."""
    import threading
    import time
    from types import SimpleNamespace

    import pytest

    from rag.retrieval.hybrid import Retriever

    store = _store(tmp_path, {"a": "The bridge reopened."})
    done = threading.Event()
    real = store.bm25

    def slow_bm25(*args, **kwargs):
        time.sleep(0.3)
        result = real(*args, **kwargs)
        done.set()
        return result

    def server_gone(query: str):
        raise ConnectionError("the Chroma server went away")

    monkeypatch.setattr(store, "bm25", slow_bm25)
    index = SimpleNamespace(docs=store, embedder=SimpleNamespace(embed_query=server_gone), exact=True)
    with pytest.raises(ConnectionError):
        Retriever(index).search("bridge")  # type: ignore[arg-type]
    assert done.is_set()  # BM25 was off the connection before the caller could close it
    store.close()
