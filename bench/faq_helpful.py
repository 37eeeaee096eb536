"""What the bot puts in front of a user of a FAQ table: how often it helps, how often it misleads.

    python bench/faq_helpful.py FAQ.csv QUERIES.tsv

QUERIES: TSV ``id<TAB>query`` with a header; the id of the entry that answers the query,
or ``none`` when no entry does. For answerable queries it counts replies that help (the
right entry answered, or offered among the choices of a clarify or decline), wrong answers
(another entry answered) and the rest; for ``none`` queries, how many are declined.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chatbot import Bot  # noqa: E402


def measure(bot: Bot, rows: list[tuple[str, str]]) -> dict:
    counts = dict(answerable=0, answered_right=0, offered_right=0, wrong=0, none=0, none_declined=0)
    for label, query in rows:
        result = bot.answer(query)
        if label == "none":
            counts["none"] += 1
            counts["none_declined"] += result.status == "declined"
            counts["wrong"] += result.status == "answered"
            continue
        counts["answerable"] += 1
        if result.status == "answered":
            counts["answered_right" if result.intent == label else "wrong"] += 1
        elif label in result.offered:
            counts["offered_right"] += 1
    return counts


def main(argv: list[str]) -> int:
    faq, queries = argv[1], argv[2]
    bot = Bot.from_path(faq)
    lines = Path(queries).read_text(encoding="utf-8").splitlines()[1:]
    rows = [tuple(line.split("\t", 1)) for line in lines if line.strip()]
    c = measure(bot, rows)
    helpful = c["answered_right"] + c["offered_right"]
    total = c["answerable"] + c["none"]
    print(f"{faq}: {len(bot.kb.intents)} entries, {total} queries ({c['none']} with no entry)")
    print(f"helpful (answered right or offered): {helpful}/{c['answerable']} = {helpful / c['answerable']:.1%}"
          f"  (answered right {c['answered_right']}, offered {c['offered_right']})")
    print(f"wrong answers: {c['wrong']}/{total} = {c['wrong'] / total:.1%}")
    if c["none"]:
        print(f"no entry, declined: {c['none_declined']}/{c['none']} = {c['none_declined'] / c['none']:.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
