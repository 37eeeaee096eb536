"""From ranked intents to a decision: answer, ask which of two was meant, or decline."""

from __future__ import annotations

from dataclasses import dataclass

from .models import ANSWERED, CLARIFY, DECLINED


@dataclass(frozen=True)
class Thresholds:
    """``answer``: the least score that answers. ``margin``: when the runner-up is this close
    to the top (and itself at least ``clarify``), the bot asks which was meant."""

    answer: float = 0.4
    clarify: float = 0.35
    margin: float = 0.04


DEFAULT = Thresholds()


def decide(scores: list[float], thresholds: Thresholds = DEFAULT) -> str:
    """The status for candidates whose scores are given best first."""
    if not scores or scores[0] < thresholds.answer:
        return DECLINED
    if len(scores) > 1 and scores[1] >= thresholds.clarify and scores[0] - scores[1] < thresholds.margin:
        return CLARIFY
    return ANSWERED
