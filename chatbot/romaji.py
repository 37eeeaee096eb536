"""Romaji typed without an IME → hiragana (Hepburn and kunrei spellings).

Only words that read entirely as romaji are converted, and only in text with no
Japanese characters in it, so English names such as "rdl" or "leg curl" stay as they are.
"""

from __future__ import annotations

import re

_VOWELS = "aiueo"
_ROWS = {
    "": "あいうえお", "k": "かきくけこ", "g": "がぎぐげご", "s": "さしすせそ", "z": "ざじずぜぞ",
    "t": "たちつてと", "d": "だぢづでど", "n": "なにぬねの", "h": "はひふへほ", "b": "ばびぶべぼ",
    "p": "ぱぴぷぺぽ", "m": "まみむめも", "r": "らりるれろ", "y": "や\0ゆ\0よ", "w": "わ\0\0\0を",
    "f": ("ふぁ", "ふぃ", "ふ", "ふぇ", "ふぉ"), "v": ("ゔぁ", "ゔぃ", "ゔ", "ゔぇ", "ゔぉ"),
}
_YOON = {  # consonant(s) + y + a/u/o
    "ky": "き", "gy": "ぎ", "sy": "し", "sh": "し", "zy": "じ", "j": "じ", "jy": "じ", "ty": "ち",
    "ch": "ち", "cy": "ち", "dy": "ぢ", "ny": "に", "hy": "ひ", "by": "び", "py": "ぴ", "my": "み", "ry": "り",
}
_SMALL = {"a": "ゃ", "u": "ゅ", "o": "ょ"}


def _table() -> dict[str, str]:
    table: dict[str, str] = {}
    for consonant, kana in _ROWS.items():
        for vowel, k in zip(_VOWELS, kana):
            if k != "\0":
                table[consonant + vowel] = k
    for prefix, kana in _YOON.items():
        for vowel, small in _SMALL.items():
            table[prefix + vowel] = kana + small
        if prefix in ("sh", "j", "ch"):
            table[prefix + "i"] = kana
    table.update({"shi": "し", "chi": "ち", "tsu": "つ", "ji": "じ", "fu": "ふ", "wo": "を", "di": "ぢ", "du": "づ",
                  "ti": "ち", "tu": "つ", "si": "し", "zi": "じ", "hu": "ふ", "xtu": "っ",
                  "ltu": "っ", "-": "ー", "thi": "てぃ", "dhi": "でぃ", "tyi": "てぃ"})
    return table


_TABLE = _table()
_LONGEST = max(map(len, _TABLE))
# Compiled on first use, by re's own cache: Japanese text without Latin letters (most
# questions) never needs it, and its class spanning the kanji block takes re over a millisecond.
_JAPANESE = r"[\u3040-\u30ff\u3400-\u9fff]"
_WORD = re.compile(r"[a-z'-]+")


def word_to_kana(word: str) -> str | None:
    """The hiragana for one romaji word, or None when it does not read as romaji."""
    out, i = [], 0
    while i < len(word):
        c = word[i]
        nxt = word[i + 1] if i + 1 < len(word) else ""
        if c == nxt and c not in _VOWELS and c not in "n-'":  # doubled consonant: small tsu
            out.append("っ")
            i += 1
            continue
        if c == "t" and word.startswith("tch", i):  # matcha style
            out.append("っ")
            i += 1
            continue
        if c == "n" and (not nxt or nxt not in _VOWELS + "y"):  # ん: before a consonant or at the end
            after = word[i + 2] if i + 2 < len(word) else ""
            out.append("ん")  # "nn" or "n'" is one ん, except "nn"+vowel (konnichi): n + ni
            i += 2 if nxt == "'" or (nxt == "n" and after not in _VOWELS + "y") else 1
            continue
        for size in range(min(_LONGEST, len(word) - i), 0, -1):
            kana = _TABLE.get(word[i : i + size])
            if kana:
                out.append(kana)
                i += size
                break
        else:
            return None
    return "".join(out)


def to_kana(text: str) -> str:
    """Convert the romaji words of an all-Latin text to hiragana; leave anything else."""
    if not _WORD.search(text) or re.search(_JAPANESE, text):
        return text

    def convert(m: re.Match) -> str:
        kana = word_to_kana(m.group())
        return kana if kana is not None and len(m.group()) > 1 else m.group()

    converted = _WORD.sub(convert, text)
    return converted.replace(" ", "") if re.search(_JAPANESE, converted) else text
