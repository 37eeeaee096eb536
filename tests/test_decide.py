import pytest

from chatbot.decide import Thresholds, decide

TH = Thresholds(answer=0.5, clarify=0.45, margin=0.04)


@pytest.mark.parametrize(
    "scores, status",
    [
        ([], "declined"),
        ([0.2], "declined"),
        ([0.49, 0.48], "declined"),
        ([0.5], "answered"),
        ([0.9, 0.3], "answered"),
        ([0.6, 0.58], "clarify"),
        ([0.6, 0.55], "answered"),
        ([0.5, 0.44], "answered"),  # runner-up below the clarify floor
        ([0.52, 0.49], "clarify"),  # runner-up below answer but above the clarify floor
    ],
)
def test_decide(scores, status):
    assert decide(scores, TH) == status
