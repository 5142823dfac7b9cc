"""Query building of retrieval.py: pure logic, no model."""

from __future__ import annotations

from rag.retrieval import fts_query


def test_numbers_with_separators_are_phrases() -> None:
    query = fts_query("Did 1,140 people or 3.5 million attend on 2024-05-01?")
    assert query.split(" OR ") == ['"1 140"', '"3 5"', '"2024 05 01"', '"people"', '"million"', '"attend"']


def test_quotes_and_operators_cannot_inject_syntax() -> None:
    assert fts_query('bridge" OR NEAR(x y) AND -ferry*') == '"bridge" OR "near" OR "ferry"'


def test_a_number_matches_that_number_not_every_number_starting_with_its_digits(tmp_path) -> None:
    from rag.catalog import StoredDocument
    from rag.docstore import DocStore
    from rag.schema import Chunk, Document

    store = DocStore(tmp_path / "docs.sqlite")
    texts = {"glider": "She flew 1,140 kilometres.", "other": "One pilot flew 140 km on 1 May.",
             "more": "A flight of 1,200 km and 11 hours.", "none": "Gliders need thermals."}
    store.apply(
        (StoredDocument(Document(doc_id=k, title=k, text=t), [Chunk(Chunk.make_id(k, 0, t), k, 0, 0, len(t), t)], 0.0)
         for k, t in texts.items()),
        (), store_id="test", seq=1,
    )
    found = [store.chunks([cid])[cid].doc_id for cid, _ in store.bm25(fts_query("Who flew 1,140 kilometres?"), 5)]
    assert found[0] == "glider" and "more" not in found
    assert store.term_frequency("1") == 3 and store.term_frequency("11") == 1  # "1" is not a prefix of "140"
    assert store.term_frequency("glider") == 1  # words still match their stem's forms
    store.close()
