import pytest

from chatbot.decide import Thresholds, decide

TH = Thresholds(answer=0.7, clarify=0.6)


@pytest.mark.parametrize(
    "first, pair, status",
    [
        (0.0, 0.0, "declined"),
        (0.7, 0.7, "answered"),  # at the threshold: answered
        (0.6999, 0.95, "clarify"),  # just under: ask which of two when the pair is likely
        (0.95, 0.99, "answered"),
        (0.5, 0.6, "clarify"),  # at the clarify threshold
        (0.5, 0.5999, "declined"),
        (0.2, 0.3, "declined"),
    ],
)
def test_decide(first, pair, status):
    assert decide(first, pair, TH) == status


def test_default_answers_when_right_twice_as_often_as_wrong():
    assert Thresholds().answer == pytest.approx(2 / 3)
    assert decide(0.67, 0.0) == "answered" and decide(0.66, 0.0) == "declined"
