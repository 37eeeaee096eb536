"""What people mean: each class of miss the blind questions showed, as a table of cases.

The questions here are our own, written for the cause they stand for; none is an example
in intents.yaml or a line of a labelled check set."""

import pytest

from chatbot import Bot, calibrate
from chatbot.decide import decide


@pytest.fixture(scope="module")
def bot():
    return Bot()


def features(bot, text: str) -> set[str]:
    """The word features the index looks up for ``text`` (a typo already read as the known word)."""
    return set(bot.index.query_features(bot.analyzer.analyze(text))[0])


@pytest.mark.parametrize(
    "question, intent",
    [
        # a story before the question: the last sentence is read on its own too
        ("バスケ部です。最近練習がきつくて...裏ももを柔らかくするストレッチを教えてほしい", "stretch_methods"),
        ("在宅勤務で座りっぱなしの毎日です。もも裏がつるのはなぜですか", "cramp"),
        # filler and casual words are not topics we lack
        ("ぶっちゃけ裏ももって鍛えたほうがいいの?", "benefits"),
        # a synonym is rewritten only as a whole word: コツって is not コ攣って
        ("ヒップリフトのコツってある?", "hip_lift"),
        # negation: what the question does without is not what it asks about
        ("器具なしで裏ももを鍛えたい", "home_training"),
        # a vague last sentence brings the clause before it: 「本当?」 alone says nothing
        ("ジムで先輩に、トレーニング前にストレッチしないとケガすると言われた。本当なのかな?", "stretch_before_training"),
        # a copula negation: 「XじゃなくてY」 asks about Y
        ("家じゃなくてジムのマシンで裏ももを鍛えたい", "gym_training"),
        # everyday words for the knowledge base's own (痙攣 for 攣る)
        ("運動中に太ももの裏が痙攣した", "cramp"),
    ],
)
def test_what_people_mean_is_answered(bot, question, intent):
    answer = bot.answer(question)
    assert (answer.status, answer.intent) == ("answered", intent)


@pytest.mark.parametrize(
    "question, not_intent",
    [
        ("ヒップリフトのコツってある?", "cramp"),
        ("ジムに行かずに太ももの裏を鍛えたい", "gym_training"),
        ("ハムスターのケージの選び方", None),
    ],
)
def test_traps_do_not_get_a_neighbours_answer(bot, question, not_intent):
    answer = bot.answer(question)
    assert answer.intent != not_intent or not_intent is None and answer.status == "declined"


@pytest.mark.parametrize(
    "question, gone, kept",
    [
        ("家じゃなくてジムで鍛えたい", "家", "ジム"),
        ("マシンではなく自重で鍛えたい", "マシン", "自重"),
        ("器具なしで鍛えたい", "器具", "鍛える"),
        ("ジムに行かずに鍛えたい", "ジム", "鍛える"),
        ("同じメニューだと効かなくなってきた", None, "利く"),  # not a negation of what is asked
        ("ストレッチしないで走っていい?", None, "ストレッチ"),
    ],
)
def test_negation_takes_back_only_what_is_not_meant(bot, question, gone, kept):
    forms = [w.form for w in bot.analyzer.analyze(question).words]
    assert kept in forms and (gone is None or gone not in forms)


@pytest.mark.parametrize("filler", ["そもそも", "一応", "とりあえず"])
def test_a_filler_word_no_example_uses_weighs_nothing(bot, filler):
    assert not any(filler in e for i in bot.kb.intents for e in i.examples)
    plain = bot.index.query_features(bot.analyzer.analyze("ハムストリングスって何?"))
    with_filler = bot.index.query_features(bot.analyzer.analyze(f"ハムストリングスって{filler}何?"))
    assert with_filler == plain


@pytest.mark.parametrize("typed, meant", [("高価", "効果"), ("市政", "姿勢")])
def test_a_kanji_word_the_ime_picked_wrongly_is_read_as_the_known_word_of_its_reading(bot, typed, meant):
    known = {f for f in features(bot, meant) if not f.startswith("?")}
    assert known and known <= features(bot, typed)


@pytest.mark.parametrize("typed, meant", [("レックカール", "レッグカール"), ("ヒップリフド", "ヒップリフト")])
def test_a_kana_typo_is_read_as_the_known_word_also_when_sudachi_splits_it(bot, typed, meant):
    assert features(bot, meant) <= features(bot, typed)


@pytest.mark.parametrize("typed, meant", [("スポーッ", "スポーツ"), ("ジヤンプ", "ジャンプ")])
def test_a_small_kana_typed_for_a_full_size_one_is_a_typo_of_the_known_word(bot, typed, meant):
    # one key apart on a phone, one letter in romaji: スポーッ is not a new word
    assert bot.new_words(f"{typed}で安定する?") == () and features(bot, meant) <= features(bot, typed)


@pytest.mark.parametrize("question", ["だいえっとのこんだて", "かいえんしたい"])
def test_hiragana_is_not_spelt_back_from_inside_one_word_into_the_next(bot, question):
    # だ|いえ|っと: 家 would start inside だい and end inside えっと
    assert all("家" not in a.text for a in bot.analyzer.variants(question))


@pytest.mark.parametrize("story, question", [("スキーで膝の靭帯を痛めました", "何日で治りますか"), ("子どもが熱を出しました", "何日で治りますか")])
def test_what_a_story_names_and_no_topic_knows_still_counts_against_its_question(bot, story, question):
    alone = bot.rank(question, 1)[0]
    told = bot.rank(f"{story}。{question}", 1)[0]
    assert alone.unknown == 0 and told.unknown > 0


def test_filler_does_not_push_a_question_out_of_scope(bot):
    answer = bot.answer("ハムストリングスってそもそも何?")  # そもそも is a noun to Sudachi
    assert answer.status != "declined" and answer.candidates[0].intent == "what_are_hamstrings"
    assert bot.new_words("ハムストリングスってそもそも何?") == ()


def test_whole_word_synonyms(bot):
    assert bot.analyzer.normalize("ヒップリフトのコツってある") == "ヒップリフトのコツってある"
    assert bot.analyzer.normalize("太ももの裏がつって痛い").startswith("裏もも")
    assert bot.analyzer.normalize("ハムスターの飼い方") == "ハムスターの飼い方"


@pytest.mark.parametrize("question", ["そもそも何?", "詳しく", "他には?", "なぜ?"])
def test_a_vague_question_alone_is_not_answered(bot, question):
    assert bot.answer(question).status != "answered"


@pytest.mark.parametrize("question, new", [("肩こりにいいストレッチ", ("肩凝り",)), ("裏ももを鍛えたい", ())])
def test_new_words_are_the_topical_words_no_example_uses(bot, question, new):
    assert bot.new_words(question) == new


def test_confidence_is_a_probability_that_orders_like_the_evidence(bot):
    sure, unsure, unknown = (bot.answer(q) for q in ("裏ももがつる", "裏もも", "カレーの隠し味"))
    assert 0.0 <= unknown.confidence < unsure.confidence < sure.confidence <= 1.0
    assert sure.status == "answered" and unknown.status == "declined"


def test_the_model_reads_more_unknown_words_as_less_likely_right():
    model = calibrate.Model.fitted()
    assert model.answer[3] < 0 and model.answer[1] > 0 and model.answer[2] > 0  # unknown share, score, margin


CITY_ROWS = (
    "garbage,燃えるゴミは何曜日に出せますか,月曜と木曜の朝8時までに出してください。",
    "bulky,粗大ごみを出すにはどうすればいいですか,粗大ごみ受付センターに電話で申し込んでください。",
    "resident,住民票の写しはどこで取れますか,市民課の窓口か、コンビニのマルチコピー機で取れます。",
    "seal,印鑑登録に必要なものは何ですか,登録する印鑑と本人確認書類を持って窓口へ来てください。",
    "move,引っ越してきたときの手続きを教えてください,転入届を引っ越しから14日以内に出してください。",
)


def city_faq(folder, rows=CITY_ROWS) -> Bot:
    """A bot over a small city-hall FAQ table of ``rows`` (CSV lines), written in ``folder``."""
    table = folder / "faq.csv"
    table.write_text("id,question,answer\n" + "".join(row + "\n" for row in rows), encoding="utf-8")
    return Bot.from_path(table)


def test_a_faq_table_declines_the_unanswerable_and_offers_the_closest(tmp_path):
    bot = city_faq(tmp_path)
    helped = bot.answer("ソファを捨てたい 粗大ごみ")
    assert helped.intent == "bulky" or helped.offered[0] == "bulky"
    declined = bot.answer("明日の天気はどうですか")
    assert declined.status == "declined"
    vague = bot.answer("ごみの日")
    assert vague.status in ("answered", "clarify", "declined")
    assert "garbage" in (vague.offered or (vague.intent,))


@pytest.mark.parametrize("first, pair", [(0.9, 0.95), (0.5, 0.9), (0.1, 0.2)])
def test_decision_statuses_follow_the_probabilities(first, pair):
    expected = "answered" if first >= 2 / 3 else "clarify" if pair >= 2 / 3 else "declined"
    assert decide(first, pair) == expected


@pytest.mark.parametrize("lead_in", ["部活でサッカーをしていて、", "最近引っ越してきたばかりで、"])
def test_a_lead_in_of_words_the_table_never_uses_does_not_drown_the_question(tmp_path, lead_in):
    bot = city_faq(tmp_path, CITY_ROWS[:4])  # without the moving-in entry: 引っ越し is a word it never uses
    assert bot.answer(f"{lead_in}燃えるゴミは何曜日に出せますか").intent == "garbage"
