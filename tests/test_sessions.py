"""Sessions in memory: made on first use, kept while used, forgotten after their time to live,
and never more than the limit (the least recently used makes way)."""

import itertools

import pytest

from chatbot.sessions import Sessions


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def store(ttl=60, limit=3):
    clock, made = Clock(), itertools.count(1)
    return Sessions(lambda: next(made), ttl=ttl, limit=limit, clock=clock), clock


# each step: (time, session asked, conversation expected back); conversations are numbered as made
CASES = {
    "the same id, the same conversation": [(0, "a", 1), (1, "a", 1), (2, "b", 2), (3, "a", 1)],
    "used within the ttl, kept": [(0, "a", 1), (59, "a", 1), (118, "a", 1)],
    "unused for the ttl, forgotten": [(0, "a", 1), (60, "a", 2)],
    "the least recently used makes way": [(0, "a", 1), (1, "b", 2), (2, "c", 3), (3, "a", 1), (4, "d", 4),
                                          (5, "a", 1), (6, "b", 5)],
}


@pytest.mark.parametrize("steps", CASES.values(), ids=CASES.keys())
def test_sessions(steps):
    sessions, clock = store()
    for at, key, expected in steps:
        clock.now = at
        assert sessions.get(key) == expected, (at, key)


@pytest.mark.parametrize("count, held", [(1, 1), (3, 3), (50, 3)])
def test_never_more_than_the_limit(count, held):
    sessions, _ = store(limit=3)
    for n in range(count):
        sessions.get(f"s{n}")
    assert len(sessions) == held


def test_len_counts_only_live_sessions():
    sessions, clock = store(ttl=10)
    sessions.get("a")
    clock.now = 5
    sessions.get("b")
    clock.now = 12
    assert len(sessions) == 1


@pytest.mark.parametrize("ttl, limit", [(0, 1), (-1, 1), (10, 0)])
def test_a_ttl_and_limit_that_hold_nothing_are_refused(ttl, limit):
    with pytest.raises(ValueError, match="ttl above 0"):
        Sessions(lambda: None, ttl=ttl, limit=limit)
