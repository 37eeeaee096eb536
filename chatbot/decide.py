"""From how sure the bot is to a decision: answer, ask which of two was meant, or decline.

The probabilities come from ``calibrate.Model``, fitted per knowledge base, so the same
thresholds mean the same on any of them.
"""

from __future__ import annotations

from dataclasses import dataclass

from .models import ANSWERED, CLARIFY, DECLINED


@dataclass(frozen=True)
class Thresholds:
    """``answer``: the least probability that the best topic is right for the bot to answer
    with it. ``clarify``: otherwise, the least probability that the right topic is one of the
    best two for the bot to ask which was meant; below both, it declines. The default, 2/3,
    answers when the bot is right at least twice as often as wrong: a wrong answer costs a
    reader more than a plain "I don't know" with topics offered."""

    answer: float = 2 / 3
    clarify: float = 2 / 3


DEFAULT = Thresholds()


def decide(first: float, pair: float, thresholds: Thresholds = DEFAULT) -> str:
    """The status, given the probability that the best topic is right (``first``) and that
    the right one is among the best two (``pair``)."""
    if first >= thresholds.answer:
        return ANSWERED
    if pair >= thresholds.clarify:
        return CLARIFY
    return DECLINED
