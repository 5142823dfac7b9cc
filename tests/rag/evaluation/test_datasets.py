"""The train/test split by article and the left-out articles: seeded and disjoint."""

import pytest

from rag.errors import InputError
from rag.evaluation.datasets import choose_left_out, split_articles


def test_split_is_by_article_and_seeded() -> None:
    ids = [f"a{i}" for i in range(10)]
    train, test = split_articles(ids)
    assert len(train) == len(test) == 5 and not set(train) & set(test) and set(train) | set(test) == set(ids)
    assert split_articles(list(reversed(ids))) == (train, test)
    assert choose_left_out(test, 2, seed=1) == choose_left_out(test, 2, seed=1)
    with pytest.raises(InputError, match="--leave-out"):
        choose_left_out(test, 5, seed=1)
