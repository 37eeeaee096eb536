"""The bundled knowledge respects the contract and the article's words stay the article's."""

import re
import unicodedata
from difflib import SequenceMatcher

import pytest

from .conftest import ROOT, SHARED

# shared/ sits beside the main checkout; a worktree under /work/wt/<name> finds it one level further up.
# Only the contract and the article are looked up this way (never shared/eval).
SHARED_DOCS = next((p / "shared" for p in ROOT.parents if (p / "shared" / "faq-topics.md").exists()), SHARED)
CONTRACT = SHARED_DOCS / "faq-topics.md"
SEED = SHARED_DOCS / "seed"
ARTICLE = next(iter(sorted(SEED.glob("*.txt"))), None) if SEED.exists() else None
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


@pytest.mark.skipif(not CONTRACT.exists(), reason="shared/faq-topics.md is not beside the repo")
def test_every_contract_intent_exists(bot):
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


@pytest.mark.skipif(ARTICLE is None, reason="shared/seed is not beside the repo")
def test_no_answer_copies_the_article(bot):
    article = squeeze(ARTICLE.read_text(encoding="utf-8"))
    runs = {article[i : i + COPY_RUN] for i in range(len(article) - COPY_RUN + 1)}
    for intent in bot.kb.intents:
        text = squeeze(intent.answer)
        copied = [text[i : i + COPY_RUN] for i in range(len(text) - COPY_RUN + 1) if text[i : i + COPY_RUN] in runs]
        assert not copied, (intent.id, copied[:3])


# Own words, sentence by sentence. Each sentence of an answer (split on 。!? and on list lines) is set
# against every sentence of the article. Names of muscles and exercises and figures with their counters
# (10〜15回, 2〜3セット) are facts that carry over, so they are masked first; what is measured is the
# prose around them. A sentence is too close when difflib's ratio reaches CLOSE_RATIO, or when runs of
# SHARED_RUN or more characters shared with one article sentence cover CLOSE_COVER of it. The thresholds
# were set so that the close paraphrases an editor flagged in issue 11 fail (「腰や膝に痛みがあるときは
# 無理をせず、痛みの出にくい範囲で…」 0.78, keep_going's habit sentence 0.72, whole_body_balance's
# 「…前ももやお尻との釣り合いがくずれて…」 0.65 / 0.51, leg_shaping's 「お尻と太ももの境目が…」 0.47 of it
# in shared runs), while a sentence that only shares the facts and a few function words stays below.
CLOSE_RATIO = 0.55
CLOSE_COVER = 0.45
SHARED_RUN = 5
SHORTEST = 8  # a masked sentence shorter than this is a bare fact ("□:#×#"), not prose
TERMS = (
    "ハムストリングストレッチ", "ハムストリングス", "大腿二頭筋", "半腱様筋", "半膜様筋",
    "ワンレッグヒップリフト", "ヒップリフト", "チューブレッグカール", "レッグカールマシン", "レッグカール",
    "ルーマニアンデッドリフト", "ルーマニアン・デッドリフト", "RDL", "スミスマシン", "ヒップスラスト",
    "グルートハムレイズ", "ケーブルキックバック", "キックバック", "長座前屈",
)
FIGURE = re.compile(r"[0-9〜~・]*[0-9]+(?:回|セット|秒|週|つ)?")


def mask(text: str) -> str:
    text = re.sub(r"https?://\S+|\(引用元:\)", "", unicodedata.normalize("NFKC", text))
    for term in TERMS:
        text = text.replace(term, "□")
    text = FIGURE.sub("#", text)
    return re.sub(r"[\s*]+", "", text)


def sentences(text: str) -> list[str]:
    """The text's sentences, masked: one per 。!? and one per list line (・ or - bullets)."""
    found = []
    for line in text.splitlines():
        for part in re.split(r"(?<=[。!?])(?![」』)])", mask(line.lstrip("・-- "))):
            if len(part) >= SHORTEST:
                found.append(part)
    return found


def covered(ours: str, theirs: str, run: int = SHARED_RUN) -> float:
    """The share of ``ours`` inside runs of ``run`` or more characters that also occur in ``theirs``."""
    grams = {theirs[i : i + run] for i in range(len(theirs) - run + 1)}
    hit = [False] * len(ours)
    for i in range(len(ours) - run + 1):
        if ours[i : i + run] in grams:
            hit[i : i + run] = [True] * run
    return sum(hit) / len(ours)


def too_close(ours: str, article: list[str]) -> list[tuple[str, float, float]]:
    """Article sentences that ``ours`` paraphrases too closely, with (ratio, coverage)."""
    close = []
    for theirs in article:
        ratio = SequenceMatcher(None, ours, theirs, autojunk=False).ratio()
        cover = covered(ours, theirs)
        if ratio >= CLOSE_RATIO or cover >= CLOSE_COVER:
            close.append((theirs, ratio, cover))
    return close


@pytest.mark.parametrize(
    "ours, theirs, close",
    [
        ("腰や膝に痛みがあるときは無理をせず、痛みの出にくい範囲で行いましょう。", "腰や膝に痛みがある場合は無理をせず、痛みの少ない範囲で行う", True),
        ("痛みが出たらそこで止めます。伸ばすのは痛くない深さまでです。", "腰や膝に痛みがある場合は無理をせず、痛みの少ない範囲で行う", False),
        ("ヒップリフト:10〜15回×2〜3セット", "ヒップリフト:10〜15回 × 2〜3セット", False),  # a bare fact
    ],
)
def test_too_close_flags_a_reworded_sentence_only(ours, theirs, close):
    assert bool(too_close(sentences(ours)[0] if sentences(ours) else "", sentences(theirs))) is close


@pytest.mark.skipif(ARTICLE is None, reason="shared/seed is not beside the repo")
@pytest.mark.xfail(strict=True, reason="issue 11: the answers are rewritten in the next commits")
def test_answers_are_not_the_articles_sentences_reworded(bot):
    article = sentences(ARTICLE.read_text(encoding="utf-8"))
    offending = [
        f"{intent.id}: ours 「{ours}」 ~ article 「{theirs}」 ratio {ratio:.2f}, shared runs cover {cover:.2f}"
        for intent in bot.kb.intents
        for ours in sentences(intent.answer)
        for theirs, ratio, cover in too_close(ours, article)
    ]
    assert not offending, "\n".join(["too close to the article (rewrite the structure, not the words):", *offending])
