"""Measure a bot on labelled questions (``intent<TAB>question``; ``none`` = out of scope).

Three figures decide: in-scope questions answered with the right intent, out-of-scope
questions declined, and wrong answers (an intent given that is not the label) over all
questions. Each question is ranked once; the threshold sweep re-decides from those scores.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace

from .decide import Thresholds, decide
from .errors import InputError
from .models import ANSWERED, CLARIFY, DECLINED

NONE = "none"
SWEEP = tuple(round(0.40 + 0.05 * i, 2) for i in range(11))


@dataclass(frozen=True)
class Outcome:
    label: str
    question: str
    status: str
    intent: str | None
    top: str | None  # the best-ranked intent, answered or not
    probabilities: tuple[float, float]  # the best one right, the right one in the best two: for the sweep


def parse_labels(text: str, path: str = "labels") -> list[tuple[str, str]]:
    """``(intent, question)`` rows of a TSV file; a header line ``intent<TAB>question`` is skipped."""
    return [(label, question) for _, label, question in parse_labelled(text, path)]


def parse_labelled(text: str, path: str = "labels") -> list[tuple[int, str, str]]:
    """``(line, intent, question)`` rows of a TSV file, with the line each came from."""
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or (number == 1 and line.lower().startswith("intent\t")):
            continue
        parts = line.split("\t")
        if len(parts) < 2 or not parts[0].strip() or not parts[1].strip():
            raise InputError(f"{path}:{number}: expected 'intent<TAB>question'")
        rows.append((number, parts[0].strip(), parts[1].strip()))
    if not rows:
        raise InputError(f"{path}: no labelled questions")
    return rows


def run(bot, rows: list[tuple[str, str]]) -> list[Outcome]:
    outcomes = []
    for label, question in rows:
        answer = bot.answer(question)
        top = answer.candidates[0].intent if answer.candidates else None
        probabilities = bot.model.probabilities(bot.rank(question, 2)) if not answer.reason else (0.0, 0.0)
        outcomes.append(Outcome(label, question, answer.status, answer.intent, top, probabilities))
    return outcomes


def figures(outcomes: list[Outcome]) -> dict:
    inside = [o for o in outcomes if o.label != NONE]
    outside = [o for o in outcomes if o.label == NONE]
    right = sum(o.status == ANSWERED and o.intent == o.label for o in inside)
    declined = sum(o.status == DECLINED for o in outside)
    wrong = sum(o.status == ANSWERED and o.intent != o.label for o in outcomes)
    clarified = sum(o.status == CLARIFY for o in outcomes)
    return {
        "questions": len(outcomes),
        "in_scope": len(inside),
        "in_scope_right": right,
        "in_scope_accuracy": right / len(inside) if inside else None,  # None: no such questions (n/a)
        "out_of_scope": len(outside),
        "out_of_scope_declined": declined,
        "out_of_scope_accuracy": declined / len(outside) if outside else None,
        "wrong": wrong,
        "wrong_rate": wrong / len(outcomes) if outcomes else None,
        "clarified": clarified,
    }


def per_intent(outcomes: list[Outcome]) -> list[dict]:
    labels = sorted({o.label for o in outcomes} | {o.intent for o in outcomes if o.intent})
    table = []
    for label in labels:
        if label == NONE:
            continue
        given = [o for o in outcomes if o.status == ANSWERED and o.intent == label]
        truth = [o for o in outcomes if o.label == label]
        hits = sum(o.label == label for o in given)
        table.append({
            "intent": label,
            "questions": len(truth),
            "precision": hits / len(given) if given else None,
            "recall": hits / len(truth) if truth else None,
        })
    return table


def confusions(outcomes: list[Outcome], most: int = 10) -> list[dict]:
    """Most frequent (label → what the bot did instead), with example questions."""
    pairs: Counter = Counter()
    examples: dict = {}
    for o in outcomes:
        got = o.intent if o.status == ANSWERED else o.status
        if got == o.label or (o.label == NONE and o.status == DECLINED):
            continue
        pairs[(o.label, got)] += 1
        examples.setdefault((o.label, got), []).append(o.question)
    return [
        {"label": label, "got": got, "count": n, "examples": examples[(label, got)][:3]}
        for (label, got), n in pairs.most_common(most)
    ]


def misses(outcomes: list[Outcome], lines: list[int]) -> list[dict]:
    """Every question the bot got wrong, in file order: an in-scope question not answered with its
    label, an out-of-scope one not declined. ``got``: the intent answered, else the status."""
    return [
        {"line": line, "label": o.label, "got": o.intent if o.status == ANSWERED else o.status, "question": o.question}
        for o, line in zip(outcomes, lines)
        if not (o.status == ANSWERED and o.intent == o.label) and not (o.label == NONE and o.status == DECLINED)
    ]


def sweep(outcomes: list[Outcome], base: Thresholds, points=SWEEP) -> list[dict]:
    """The three figures at other answer thresholds (the clarify threshold moves along)."""
    rows = []
    for t in points:
        th = replace(base, answer=t, clarify=t - (base.answer - base.clarify))
        redone = []
        for o in outcomes:
            status = decide(*o.probabilities, th)
            redone.append(replace(o, status=status, intent=o.top if status == ANSWERED else None))
        f = figures(redone)
        rows.append({"threshold": t, **{k: f[k] for k in ("in_scope_accuracy", "out_of_scope_accuracy", "wrong_rate")}})
    return rows


def report(bot, rows: list[tuple[str, str]], lines: list[int] | None = None) -> dict:
    """The figures of ``rows``. A label the knowledge base does not have (a typo, a removed
    intent) is not counted as a wrong answer: those rows are set apart in ``unknown_labels``
    (each label with its ``lines``, the rows' numbers in ``lines`` or else their positions)."""
    lines = lines if lines is not None else list(range(1, len(rows) + 1))
    known = {i.id for i in bot.kb.intents} | {NONE}
    unknown: dict[str, list[int]] = {}
    for (label, _), line in zip(rows, lines):
        if label not in known:
            unknown.setdefault(label, []).append(line)
    outcomes = run(bot, [row for row in rows if row[0] in known])
    counted = [line for (label, _), line in zip(rows, lines) if label in known]
    return {
        "figures": {**figures(outcomes), "unknown_label": sum(map(len, unknown.values()))},
        "unknown_labels": [{"label": label, "lines": found} for label, found in unknown.items()],
        "per_intent": per_intent(outcomes),
        "confusions": confusions(outcomes),
        "misses": misses(outcomes, counted),
        "sweep": sweep(outcomes, bot.thresholds),
        "threshold": bot.thresholds.answer,
    }


def _pct(x) -> str:
    return "   -  " if x is None else f"{100 * x:5.1f}%"


def _share(count: int, total: int, rate) -> str:
    """「3/4 = 75.0%」, or 「0/0 = n/a」 when there is nothing to count."""
    return f"{count}/{total} = {'n/a' if rate is None else _pct(rate).strip()}"


def format_report(result: dict, *, show_misses: bool = False) -> str:
    """The report as text; ``show_misses``: every missed question too, with its line."""
    f = result["figures"]
    lines = [
        f"in-scope answered right: {_share(f['in_scope_right'], f['in_scope'], f['in_scope_accuracy'])}",
        f"out-of-scope declined:   {_share(f['out_of_scope_declined'], f['out_of_scope'], f['out_of_scope_accuracy'])}",
        f"wrong answers:           {_share(f['wrong'], f['questions'], f['wrong_rate'])}",
        f"asked to clarify:        {f['clarified']}/{f['questions']}",
    ]
    if result.get("unknown_labels"):
        lines.append(f"not counted:             {f['unknown_label']} with a label the knowledge base does not have: "
                     + ", ".join(u["label"] for u in result["unknown_labels"]))
    lines += ["", "intent                     n  precision  recall"]
    for row in result["per_intent"]:
        lines.append(f"{row['intent']:<24} {row['questions']:>3}   {_pct(row['precision'])}  {_pct(row['recall'])}")
    if result["confusions"]:
        lines += ["", "most confused (label -> got):"]
        for c in result["confusions"]:
            lines.append(f"  {c['label']} -> {c['got']}: {c['count']}  e.g. {' / '.join(c['examples'])}")
        if not show_misses:
            lines.append(f"  ({len(result['misses'])} missed questions in all: --misses lists every one)")
    lines += ["", f"threshold sweep (current {result['threshold']:.2f}; a probability, see chatbot/calibrate.py):",
              "  answer>=  in-scope  out-of-scope  wrong"]
    for row in result["sweep"]:
        lines.append(f"  {row['threshold']:.2f}     {_pct(row['in_scope_accuracy'])}    {_pct(row['out_of_scope_accuracy'])}   {_pct(row['wrong_rate'])}")
    if show_misses:
        lines += ["", f"missed questions ({len(result['misses'])}; line: label -> got  question):"]
        lines += [f"  {m['line']}: {m['label']} -> {m['got']}  {m['question']}" for m in result["misses"]]
    return "\n".join(lines)
