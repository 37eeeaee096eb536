import pytest

from chatbot.romaji import to_kana, word_to_kana


@pytest.mark.parametrize(
    "text, kana",
    [
        ("uramomo ga tsuru", "うらももがつる"),
        ("uramomo ga turu", "うらももがつる"),
        ("sutoretti wa hitsuyou?", "すとれっちわひつよう?"),
        ("sutoretti wa hituyou", "すとれっちわひつよう"),
        ("hippu rifuto no yarikata", "ひっぷりふとのやりかた"),
        ("kinniku tsuu", "きんにくつう"),
        ("kinnniku", "きんにく"),
        ("konnichiwa", "こんにちわ"),
        ("shuu ni nankai", "しゅうになんかい"),
        ("syuu ni nankai", "しゅうになんかい"),
        ("junbi undou", "じゅんびうんどう"),
        ("kin'en", "きんえん"),
    ],
)
def test_romaji_to_kana(text, kana):
    assert to_kana(text) == kana


@pytest.mark.parametrize("text", ["hamstring", "leg curl", "qwerty", "RDLとは", "裏もも", "1234", "???"])
def test_english_and_japanese_stay(text):
    assert to_kana(text) == text


def test_rdl_stays_inside_romaji_sentence():
    assert to_kana("rdl tte nani") == "rdlってなに"


@pytest.mark.parametrize("word", ["hamstring", "xyz", "qq"])
def test_word_that_is_not_romaji(word):
    assert word_to_kana(word) is None
