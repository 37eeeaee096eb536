import math

import pytest

from chatbot import arrays
from chatbot import space as spaces
from chatbot.space import Space

FOUND, MORE = spaces.FOUND, max(spaces.COMMON - spaces.FOUND + 1, 100)
numpy_kinds = [Space, pytest.param(arrays.ArraySpace, marks=pytest.mark.skipif(
    not arrays.available(), reason="numpy (the large extra) is not installed"))]


@pytest.fixture(params=numpy_kinds, ids=["dicts", "arrays"])
def kind(request):
    """Each test of a space runs on both kinds: the same scores, kept in dicts or in arrays."""
    return request.param


def scored(found) -> dict:
    """A space's scores as a dict, in the order found (a Space gives one, an ArraySpace its own)."""
    return dict(found.items())


@pytest.fixture
def space(kind):
    # 'rare' in FOUND documents; 'common' in those and MORE others (over COMMON in all)
    documents = [{"rare": 1.0, "common": 1.0} for _ in range(FOUND)] + [{"common": 1.0} for _ in range(MORE)]
    return kind(documents, list(range(len(documents))), len(documents))


def test_a_common_feature_only_adds_to_what_rarer_ones_found(space):
    assert set(space.similarities({"rare": 1.0, "common": 1.0})) == set(range(FOUND))


def test_a_common_feature_alone_still_finds_every_document(space):
    assert set(space.similarities({"common": 1.0})) == set(range(FOUND + MORE))


def test_what_pruning_finds_scores_as_without_it(space, monkeypatch):
    pruned = scored(space.similarities({"rare": 1.0, "common": 0.5}))
    monkeypatch.setattr(spaces, "FOUND", 10**9)
    exact = scored(space.similarities({"rare": 1.0, "common": 0.5}))
    assert len(exact) == FOUND + MORE
    assert pruned == {doc: exact[doc] for doc in pruned}


def test_features_with_the_same_postings_keep_one_copy_and_score_as_two(kind):
    # a and b are in the same documents alike (a word's form and its reading); c is not
    space = kind([{"a": 1.0, "b": 1.0}, {"a": 1.0, "b": 1.0, "c": 1.0}, {"c": 1.0}], [0, 1, 2], 3)
    assert space.same == {"b": "a"}
    assert "b" not in getattr(space, "rows", {}) and "b" not in getattr(space, "postings", {})
    # every feature has the same idf here, so the cosine is of the raw weights
    found = scored(space.similarities({"a": 1.0, "b": 0.5}))
    assert found == pytest.approx({0: 1.5 / math.sqrt(1.25 * 2), 1: 1.5 / math.sqrt(1.25 * 3)})


def test_has_answers_for_rare_common_and_shared_features(space, kind):
    assert space.has("rare", 0) and not space.has("rare", FOUND)
    assert space.has("common", FOUND + MORE - 1) and not space.has("common", FOUND + MORE)
    shared = kind([{"a": 1.0, "b": 1.0}, {"c": 1.0}], [0, 1], 2)
    assert shared.has("b", 0) and not shared.has("b", 1) and not shared.has("unseen", 0)


@pytest.fixture
def crowded(monkeypatch):
    """A feature ("all") in every document, over half of them and over FINDS_AT_MOST (made small
    here); document i has i other words besides, so the earlier ones weigh "all" more."""
    monkeypatch.setattr(spaces, "COMMON", 2)
    monkeypatch.setattr(spaces, "FOUND", 2)
    monkeypatch.setattr(spaces, "FINDS_AT_MOST", 3)
    documents = [{"all": 1.0, **{f"w{i}.{j}": 1.0 for j in range(i)}} for i in range(10)]
    documents[9]["rare"] = 1.0
    return documents


def test_a_feature_in_most_documents_finds_only_its_heaviest(crowded, kind):
    space = kind(crowded, list(range(10)), 10)
    assert set(space.similarities({"all": 1.0})) == {0, 1, 2}


def test_what_a_crowded_feature_adds_to_is_scored_in_full(crowded, kind, monkeypatch):
    found = scored(kind(crowded, list(range(10)), 10).similarities({"rare": 1.0, "all": 1.0}))
    assert list(found) == [9, 0, 1, 2]  # found by "rare", then the heaviest three, heaviest first
    monkeypatch.setattr(spaces, "FINDS_AT_MOST", 10**9)
    exact = scored(kind(crowded, list(range(10)), 10).similarities({"rare": 1.0, "all": 1.0}))
    assert found == pytest.approx({doc: exact[doc] for doc in found})
