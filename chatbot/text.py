"""Japanese text → the pieces the matcher compares.

SudachiPy is loaded once per Analyzer; each call costs one tokenization. A question
becomes an Analysis: content words (each with its normalized form and the reading of
its dictionary form, so 攣る/つる and つった/つっちゃった meet) and the katakana
reading of the whole text (so the meaning survives when Sudachi mis-splits a long
hiragana run).
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass
from typing import Mapping, Sequence

from . import romaji

# Parts of speech that carry meaning. Particles, auxiliaries and symbols do not.
CONTENT_POS = {"名詞", "動詞", "形容詞", "形状詞", "副詞", "代名詞", "感動詞", "接頭辞", "接尾辞"}
# Words that occur in any kind of question and say little about its topic
# (normalized forms). They still count, at a fraction of their weight.
FILLER = frozenset(
    """
    何 どう 如何 どれ 此れ 其れ あれ 私 僕 俺 自分 方 事 物 感じ 時 今 最近 ちょっと 一寸
    本当 やっぱり 矢っ張り 矢張り とても 凄い 結構 色々 少し 普通 皆 人 教える 知る 思う 分かる 言う
    下さる 御座る 頂く 居る 有る 成る 為る 出来る 良い 良く 欲しい 遣る 大丈夫 ください
    """.split()
)
FILLER_WEIGHT = 0.3

_TRAILING_NOISE = re.compile(r"(?<=[^\x00-\x7f])(?:w+|笑+|草)+$")
_SPACES = re.compile(r"\s+")
_HIRAGANA = re.compile(r"[ぁ-ゖ]")
_KANA = re.compile(r"[ぁ-ゖァ-ヺー]+")


def fold(text: str) -> str:
    """NFKC (full/half width), lower case, spaces squeezed, chat noise (笑, www) dropped."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = _SPACES.sub(" ", text).strip()
    text = _TRAILING_NOISE.sub("", text.rstrip(" !?.。!?…~〜ー")).strip() or text
    return text


def to_hiragana(text: str) -> str:
    return "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in text)


def to_katakana(text: str) -> str:
    return _HIRAGANA.sub(lambda m: chr(ord(m.group()) + 0x60), text)


@dataclass(frozen=True)
class Word:
    """A content word: Sudachi's normalized form, the reading of its dictionary form."""

    form: str
    reading: str
    weight: float = 1.0


@dataclass(frozen=True)
class Analysis:
    text: str  # folded, romaji turned to kana, synonyms rewritten
    words: tuple[Word, ...]
    reading: str  # katakana reading of the whole text, symbols dropped

    @property
    def key(self) -> str:
        """The content words' readings, space-joined: what rapidfuzz compares."""
        return " ".join(w.reading for w in self.words)


class Analyzer:
    """Normalizes and tokenizes Japanese. Build once (it loads the dictionary); call often."""

    def __init__(self, synonyms: Mapping[str, Sequence[str]] | None = None):
        from sudachipy import Dictionary, SplitMode

        self._dictionary = Dictionary(dict="core")
        self._mode = SplitMode.C
        self._local = threading.local()
        self._rewrites: dict[str, str] = {}
        for canonical, variants in (synonyms or {}).items():
            for variant in variants:
                key = to_hiragana(fold(variant))
                if key and key != to_hiragana(fold(canonical)):
                    self._rewrites[key] = fold(canonical)
        alternatives = sorted(self._rewrites, key=len, reverse=True)
        self._rewrite_re = re.compile("|".join(map(re.escape, alternatives))) if alternatives else None

    def _tokenizer(self):
        tokenizer = getattr(self._local, "tokenizer", None)
        if tokenizer is None:  # one per thread: a Sudachi tokenizer is not shared across threads
            tokenizer = self._local.tokenizer = self._dictionary.tokenizer(mode=self._mode)
        return tokenizer

    def rewrite(self, text: str) -> str:
        """Replace synonym variants (matched kana-insensitively) with their canonical word."""
        if self._rewrite_re is None:
            return text
        key = to_hiragana(text)  # same length as text: spans line up
        out, last = [], 0
        for m in self._rewrite_re.finditer(key):
            out.append(text[last : m.start()])
            out.append(self._rewrites[m.group()])
            last = m.end()
        out.append(text[last:])
        return "".join(out)

    def analyze(self, text: str) -> Analysis:
        text = self.rewrite(romaji.to_kana(fold(text)))
        words, reading = [], []
        for m in self._tokenizer().tokenize(text):
            pos = m.part_of_speech()
            if pos[0] in ("補助記号", "空白", "記号"):
                if _KANA.fullmatch(m.surface()):  # a stray っ or ー still belongs to the reading
                    reading.append(m.surface())
                continue
            reading.append(m.reading_form())
            if pos[0] not in CONTENT_POS or pos[1] == "非自立可能" or pos[1] == "数詞":
                continue
            form = m.normalized_form()
            lemma_reading = to_katakana(m.dictionary_form_morpheme().reading_form()) or form
            weight = FILLER_WEIGHT if form in FILLER or m.dictionary_form() in FILLER else 1.0
            words.append(Word(form, lemma_reading, weight))
        return Analysis(text, tuple(words), to_katakana("".join(reading)))
