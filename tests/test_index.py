import pytest

from chatbot import index
from chatbot.index import _Space

FOUND, MORE = index.FOUND, max(index.COMMON - index.FOUND + 1, 100)


@pytest.fixture
def space():
    # 'rare' in FOUND documents; 'common' in those and MORE others (over COMMON in all)
    documents = [{"rare": 1.0, "common": 1.0} for _ in range(FOUND)] + [{"common": 1.0} for _ in range(MORE)]
    return _Space(documents, list(range(len(documents))), len(documents))


def test_a_common_feature_only_adds_to_what_rarer_ones_found(space):
    assert set(space.similarities({"rare": 1.0, "common": 1.0})) == set(range(FOUND))


def test_a_common_feature_alone_still_finds_every_document(space):
    assert set(space.similarities({"common": 1.0})) == set(range(FOUND + MORE))


def test_what_pruning_finds_scores_as_without_it(space, monkeypatch):
    pruned = space.similarities({"rare": 1.0, "common": 0.5})
    monkeypatch.setattr(index, "FOUND", 10**9)
    exact = space.similarities({"rare": 1.0, "common": 0.5})
    assert len(exact) == FOUND + MORE
    assert pruned == {doc: exact[doc] for doc in pruned}
