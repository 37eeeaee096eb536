"""The bundled knowledge respects the contract and the article's words stay the article's."""

import re
import unicodedata

import pytest

from .conftest import SHARED, needs_shared

CONTRACT = SHARED / "faq-topics.md"
ARTICLE = next(iter(sorted((SHARED / "seed").glob("*.txt"))), None) if (SHARED / "seed").exists() else None
CONVERSATION = {"greeting", "thanks", "goodbye", "help"}
COPY_RUN = 12  # characters in a row shared with the article that count as copying
ALLOWED = ("大腿二頭筋", "半腱様筋", "半膜様筋", "ルーマニアンデッドリフト")


def contract_ids() -> list[str]:
    return re.findall(r"^\| (\w+) \|", CONTRACT.read_text(encoding="utf-8"), flags=re.M)[1:]


def squeeze(text: str) -> str:
    text = re.sub(r"https?://\S+", "", unicodedata.normalize("NFKC", text))
    for name in ALLOWED:
        text = text.replace(name, "")
    return re.sub(r"\s+", "", text)


@needs_shared(CONTRACT, "shared/faq-topics.md")
def test_every_contract_intent_exists(bot):
    assert CONTRACT.exists(), f"{CONTRACT} is missing: CI needs ../shared"
    ids = [i for i in contract_ids() if i != "id"]
    assert len(ids) == 25
    assert set(ids) <= {i.id for i in bot.kb.intents}


def test_content_answers_name_section_and_reference(bot):
    content = [i for i in bot.kb.intents if i.id not in CONVERSATION]
    assert len(content) >= 21
    for intent in content:
        assert intent.source is not None, intent.id
        assert re.match(r"[1-5]\. ", intent.source.section), intent.id
        assert intent.source.reference.startswith("https://"), intent.id


def test_intents_have_many_varied_examples(bot):
    for intent in bot.kb.intents:
        minimum = 10 if intent.id in CONVERSATION else 15
        assert len(set(intent.examples)) == len(intent.examples) >= minimum, intent.id


@needs_shared(ARTICLE, "shared/seed")
def test_no_answer_copies_the_article(bot):
    assert ARTICLE is not None, f"{SHARED / 'seed'}/*.txt is missing: CI needs ../shared"
    article = squeeze(ARTICLE.read_text(encoding="utf-8"))
    runs = {article[i : i + COPY_RUN] for i in range(len(article) - COPY_RUN + 1)}
    for intent in bot.kb.intents:
        text = squeeze(intent.answer)
        copied = [text[i : i + COPY_RUN] for i in range(len(text) - COPY_RUN + 1) if text[i : i + COPY_RUN] in runs]
        assert not copied, (intent.id, copied[:3])
