from collections import defaultdict

import pytest

from chatbot import plaindata
from chatbot.index import Weights
from chatbot.models import Intent, KnowledgeBase, Source
from chatbot.yamlfile import Mapping

INTENT = Intent("a", "t", "x", ("q1", "q2"), Source("s", "r"))


@pytest.mark.parametrize(
    "value",
    [
        {"w:足": [(0, 1.5), (3, 0.25)], 1: {2: 0.5}, 0.5: [1.0]},
        ({1, 2}, frozenset({"a"}), b"bytes", None, True, float("inf")),
        [INTENT, INTENT],
        {"pieces": defaultdict(list, {"a": [(0, 1.0)]}), "counts": defaultdict(int, {"b": 2})},
        KnowledgeBase((INTENT,), {"裏もも": ("もも裏",)}, "faq.csv"),
        Weights(topic=0.2),
        (INTENT, [INTENT, {"k": INTENT}]),
    ],
)
def test_round_trip(value):
    copy = plaindata.loads(plaindata.dumps(value))
    assert copy == value and type(copy) is type(value)


def test_types_inside_survive():
    copy = plaindata.loads(plaindata.dumps([INTENT, defaultdict(list, {"a": [(0, 1.0)]})]))
    assert type(copy[0].examples) is tuple and type(copy[1]) is defaultdict
    assert copy[1]["missing"] == [] and type(copy[1]["a"][0]) is tuple


def test_an_object_met_twice_is_one_object_after():
    first, second = plaindata.loads(plaindata.dumps([INTENT, INTENT]))
    assert first is second


@pytest.mark.parametrize(
    "value",
    [
        [object()],
        {"f": len},
        {INTENT: 1},
        {frozenset([INTENT])},
        defaultdict(lambda: 0),
        Mapping(),  # a dict subclass: its contents are not in its __dict__
        [Exception("x")],
    ],
)
def test_what_is_not_plain_data_is_refused(value):
    with pytest.raises(plaindata.Unstorable):
        plaindata.dumps(value)
