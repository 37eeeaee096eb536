"""Japanese text → the pieces the matcher compares.

SudachiPy is loaded once per Analyzer; a question costs one tokenization (two when it
has no kanji, see ``variants``). A text becomes an Analysis: content words (each with
its normalized form and the reading of its dictionary form, so 攣る/つる and
つった/つっちゃった meet) and the katakana reading of the whole text (so the meaning
survives when Sudachi mis-splits a long hiragana run).
"""

from __future__ import annotations

import re
import threading
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Iterable, Mapping, Sequence

from . import romaji

# Parts of speech that carry meaning. Particles, auxiliaries and symbols do not.
CONTENT_POS = {"名詞", "動詞", "形容詞", "形状詞", "副詞", "代名詞", "感動詞", "接頭辞", "接尾辞"}
# Words that occur in any kind of question and say little about its topic
# (normalized or dictionary forms). They still count, at a fraction of their weight.
FILLER = frozenset(
    """
    何 どう 如何 どれ 此れ 其れ あれ 私 僕 俺 自分 方 事 こと 物 もの 感じ 時 今 最近 ちょっと 一寸
    本当 やっぱり 矢っ張り 矢張り とても 凄い 結構 色々 少し 普通 皆 人 教える 知る 思う 分かる 言う
    下さる 御座る 頂く 居る 有る 成る 為る 出来る 良い 良く 欲しい 遣る 大丈夫 ください
    抑 そもそも 打ち明ける 正直 実際 一応 取り敢えず 因みに 要は 結局 マジ 本気 具体 的 詳しい 他 外 何故 なぜ
    もっと 又 他に 例えば 辺り 感じる 聞く 質問 お願い 願う 有難い すみません 済みません
    集中的 重点的 苦手 アリ 有り
    """.split()
)
FILLER_WEIGHT = 0.3
LEAD_IN_WEIGHT = 0.4
SUBWORD_WEIGHT = 0.5
MIN_SPELLING = 2  # shortest hiragana reading spelt back (腰 こし, 膝 ひざ, ジム じむ)
WORDS_KEPT = 100_000  # dictionary entries' Words kept by an Analyzer (a few hundred bytes each)

_TRAILING_NOISE = re.compile(r"(?:[\s!?.。…~〜♪☆★]+|(?<![a-z0-9])w+|笑+|草)+$")
_SENTENCE_END = re.compile(r"[。.!?…]+|\n")  # folded text: NFKC made ！？ into !? and … stays
_CLAUSE_END = re.compile(r"[、,]+")  # within a sentence
_NEGATION = frozenset(("ず", "ない", "無い", "なし", "無し"))  # ...followed by に/で/て: "without"
_CASE = frozenset(("に", "を", "が", "で"))
_COPULA = frozenset(("じゃ", "では", "で", "は"))  # 家じゃなくて, 家ではなく, 家でなくて
_DOUBLED = re.compile(r"([っッんンー])\1+")
_SPACES = re.compile(r"\s+")
_KANA = re.compile(r"[ぁ-ゖァ-ヺー]+")
_HIRAGANA_RUN = re.compile(r"[ぁ-ゖー]+")
_HIRAGANA_WORD = re.compile(r"[ぁ-ゖー]{%d,}" % MIN_SPELLING)  # a run long enough to be spelt back
_ONE_KANA = re.compile(r"[ァ-ヺ]")
# Patterns only building an index (or reading an unknown word) uses stay source text, compiled
# on first use by re's own cache: a process that loads a compiled index and answers a question of
# known words skips compiling them (a class spanning the kanji block alone takes re 2-3 ms).
_KANJI = r"[\u3400-\u9fff々]"
_KANJI_OR_KATAKANA = r"[\u3400-\u9fff々ァ-ヺ]"
# Kana that people (and romaji) spell interchangeably: compared as one.
_KANA_FOLD = str.maketrans("づぢを", "ずじお")
_LONG_VOWEL = r"(?<=[おこごそぞとどのほぼぽもよろょうくぐすずつぬふぶぷむゆるゅ])う|(?<=[えけげせぜてでねへべぺめれ])い"
_VOWEL_OF = {}
for _kana, _vowel in (("あかがさざただなはばぱまやらわぁゃ", "あ"), ("いきぎしじちぢにひびぴみりぃ", "い"),
                      ("うくぐすずつづぬふぶぷむゆるぅゅゔ", "う"), ("えけげせぜてでねへべぺめれぇ", "え"),
                      ("おこごそぞとどのほぼぽもよろをぉょ", "お")):
    _VOWEL_OF.update(dict.fromkeys(_kana, _vowel))


def has_kanji(text: str) -> bool:
    return re.search(_KANJI, text) is not None


def fold(text: str) -> str:
    """NFKC (full/half width), lower case, spaces squeezed, chat noise (笑, www, !!) dropped,
    a doubled っ・ン・ー typed once (セッット → セット)."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = _SPACES.sub(" ", text).strip()
    text = _DOUBLED.sub(r"\1", text)
    text = _TRAILING_NOISE.sub("", text) or text
    return text


_TO_HIRAGANA = {code: code - 0x60 for code in range(ord("ァ"), ord("ヶ") + 1)}
_TO_KATAKANA = {code: code + 0x60 for code in range(ord("ぁ"), ord("ゖ") + 1)}


def to_hiragana(text: str) -> str:
    return text.translate(_TO_HIRAGANA)


def to_katakana(text: str) -> str:
    return text.translate(_TO_KATAKANA)


def kana_key(text: str) -> str:
    """Hiragana with interchangeable kana folded; as long as ``text``, so spans line up."""
    return to_hiragana(text).translate(_KANA_FOLD)


def spellings(kana: str) -> set[str]:
    """Ways a kana word gets typed: as is, long vowel mark dropped or spelt out
    (ルーマニアン: るまにあん, るうまにあん), or a long vowel typed as ー (はんどう: はんどー)."""
    spelt_out = "".join(_VOWEL_OF.get(p, "") if c == "ー" else c for p, c in zip(" " + kana, kana))
    marked = re.sub(_LONG_VOWEL, "ー", kana)
    return {kana, kana.replace("ー", ""), spelt_out, marked}


@dataclass(frozen=True)
class Word:
    """A content word: Sudachi's normalized form, the reading of its dictionary form."""

    form: str
    reading: str
    weight: float = 1.0
    noun: bool = False
    part: bool = False  # a piece of a compound (粗大 of 粗大ごみ), counted besides the whole
    filler: bool = False  # a word any question may have (何, 教える): says nothing of its topic
    groups: tuple[int, ...] = ()  # Sudachi's synonym groups (準備運動 and ウォームアップ share one)


@dataclass(frozen=True)
class Analysis:
    text: str  # the normalized text that was tokenized
    words: tuple[Word, ...]
    reading: str  # katakana reading of the whole text, symbols dropped
    lead_in: int = 0  # how many of the words come before the last clause (、。)
    pieces: tuple[str, ...] = ()  # split-mode-A normalized forms of every morpheme, for BM25
    focus: bool = False  # the question read apart from the story before it
    lead: bool = False  # the text read with the words before its last clause weighing less

    @property
    def key(self) -> str:
        """The content words' readings, space-joined: what rapidfuzz compares."""
        return " ".join(w.reading for w in self.words if not w.part)


class Analyzer:
    """Normalizes and tokenizes Japanese. Build once (it loads the dictionary); call often."""

    def __init__(
        self,
        synonyms: Mapping[str, Sequence[str]] | None = None,
        vocabulary: Iterable[str] = (),
        subwords: bool = True,
        pieces: bool = False,
        analyses: dict[str, "Analysis"] | None = None,
    ):
        """``synonyms``: canonical word → variants, rewritten before tokenizing.
        ``vocabulary``: texts (the example questions) whose kanji and katakana words are
        learnt by reading, so that the same words typed in hiragana are spelt back.
        ``subwords``: long compounds also count as their parts. ``pieces``: also list every
        morpheme's split-mode-A forms (``Analysis.pieces``, for BM25). ``analyses``: given,
        it gets each vocabulary text's ``analyze(text)``, made from the tokens its words were
        learnt from (an index built next takes it as its memo: each text tokenized once)."""
        self.subwords, self.pieces = subwords, pieces
        self._open()
        rewrites: dict[str, str] = {}
        for canonical, variants in (synonyms or {}).items():
            for variant in variants:
                for key in spellings(kana_key(fold(variant))):
                    if key and key != kana_key(fold(canonical)):
                        rewrites.setdefault(key, fold(canonical))
        self._rewrites = _Replacer(rewrites)
        words = (w for canonical, variants in (synonyms or {}).items() for w in (canonical, *variants))
        self._respell = self._spellings([*vocabulary, *words], analyses)

    def _spellings(self, texts: list[str], analyses: dict[str, "Analysis"] | None) -> "_Replacer":
        """Hiragana spellings of the words in ``texts`` (as written and with synonyms rewritten),
        each replaced by the word as the texts write it: kanji and katakana words first."""
        learnt: dict[str, str] = {}  # hiragana spelling → kanji/katakana surface
        in_kana: dict[str, str] = {}  # words the texts themselves write in hiragana (たるみ)
        tokenize = self._tokenizer().tokenize
        seen: set[str] = set()
        for text in texts:
            normalized, tokens = self.normalize(text), None
            for form in (fold(text), normalized):
                if form in seen:
                    continue
                seen.add(form)
                morphemes = tokenize(form)
                if form == normalized:
                    tokens = morphemes
                for m in morphemes:
                    if m.part_of_speech()[0] not in CONTENT_POS or m.normalized_form() in FILLER:
                        continue
                    kana = kana_key(m.reading_form())
                    if _HIRAGANA_RUN.fullmatch(kana):
                        table = learnt if re.search(_KANJI_OR_KATAKANA, m.surface()) else in_kana
                        for spelling in spellings(kana):
                            if len(spelling) >= (MIN_SPELLING if table is learnt else MIN_SPELLING + 1):
                                table.setdefault(spelling, m.surface())
            if analyses is not None and text not in analyses:
                analyses[text] = self._analyze_normalized(normalized, tokens)
        # A hiragana word is spelt as itself, so that it is not cut up (たるみがき: not 磨き).
        return _Replacer({**in_kana, **learnt})

    def _open(self) -> None:
        from sudachipy import Dictionary

        self._dictionary = Dictionary(dict="core")
        self._local = threading.local()
        self._words: dict[int, Word] = {}  # a dictionary entry's Word, by its word id

    def __getstate__(self) -> dict:  # the learnt tables travel; the dictionary is opened anew
        return {k: v for k, v in self.__dict__.items() if k not in ("_dictionary", "_local", "_words")}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._open()

    def _tokenizer(self):
        tokenizer = getattr(self._local, "tokenizer", None)
        if tokenizer is None:  # one per thread: a Sudachi tokenizer is not shared across threads
            from sudachipy import SplitMode

            tokenizer = self._local.tokenizer = self._dictionary.tokenizer(mode=SplitMode.C)
        return tokenizer

    def normalize(self, text: str) -> str:
        """Folded, romaji turned to kana, synonym variants rewritten to their canonical word
        where they are whole words (コツって: not コ攣って)."""
        text = romaji.to_kana(fold(text))
        return self._rewrites(text, where=_WholeWords(self._tokenizer(), text))

    def variants(self, text: str) -> list[Analysis]:
        """Readings of ``text`` worth matching, the plain analysis first. Text with hiragana
        (typed without converting) is also read with known words spelt back
        (すとれっちはひつよう → ストレッチは必要); text of several sentences is also read as its
        question alone (``_focus``); text with a lead-in before its last clause
        (「最近ジムに通い始めたのですが、…」) is also read with the lead-in weighing less."""
        normalized = self.normalize(text)
        morphemes = self._tokenizer().tokenize(normalized)
        plain = self._analyze_normalized(normalized, morphemes)
        result = [plain]
        respelt = self._rewrites(self._respell(normalized, only=_HIRAGANA_WORD, where=_Misread(morphemes)))
        if respelt != plain.text:
            result.append(self._analyze_normalized(respelt))
        focus = self._focus(normalized)
        if focus is not None:
            result.append(focus)
        if plain.lead_in and plain.lead_in < len(plain.words):
            words = tuple(
                replace(w, weight=w.weight * LEAD_IN_WEIGHT) if i < plain.lead_in else w
                for i, w in enumerate(plain.words)
            )
            result.append(replace(plain, words=words, lead=True))
        return result

    def _focus(self, normalized: str) -> Analysis | None:
        """A story before the question: the question read on its own, as its last sentence
        when that names more than one topical word, else with as many clauses before it as it
        takes (「本当に必要?」 says too little alone, so the clause before it comes along).
        None when that is the whole text. What the story names and no topic knows still counts
        against the reading (``Index.rank``)."""
        sentences = [s for s in (s.strip() for s in _SENTENCE_END.split(normalized)) if s]
        earlier = [c for s in sentences[:-1] for c in (c.strip() for c in _CLAUSE_END.split(s)) if c]
        for start in range(len(earlier), 0, -1):  # from 0 it would be the whole text again
            tail = self._analyze_normalized("、".join([*earlier[start:], sentences[-1]]))
            if sum(not w.filler and not w.part for w in tail.words) > 1:
                return replace(tail, focus=True)
        return None

    def analyze(self, text: str) -> Analysis:
        return self._analyze_normalized(self.normalize(text))

    def _word(self, m, pos) -> Word:
        """``_word(m, pos)``, kept by the dictionary entry: all it reads (forms, readings, part
        of speech, synonym groups) is the entry's. A word the dictionary lacks is made anew."""
        if m.is_oov():
            return _word(m, pos)
        key = m.word_id()
        word = self._words.get(key)
        if word is None:
            if len(self._words) >= WORDS_KEPT:  # a server meets new words for ever: start afresh
                self._words.clear()
            word = self._words[key] = _word(m, pos)
        return word

    def _analyze_normalized(self, text: str, morphemes=None) -> Analysis:
        """``morphemes``: ``text`` tokenized already."""
        words, reading, lead_in, pieces = [], [], 0, []
        morphemes = list(self._tokenizer().tokenize(text) if morphemes is None else morphemes)
        recent: list[tuple[str, int]] = []  # ("word" | "case" | "other", len(words) before it)
        for i, m in enumerate(morphemes):
            pos = m.part_of_speech()
            after = morphemes[i + 1].surface() if i + 1 < len(morphemes) else ""
            negated = _negated(recent, after, m.surface()) if m.normalized_form() in _NEGATION else None
            if negated is not None:
                # 「ジムに行かずに」「器具なしで」「家じゃなくて」: what is done without, or what is
                # not meant, is not what is asked about
                mark = negated
                del words[mark:]
                recent.append(("other", len(words)))
                reading.append(m.reading_form())
                continue
            kind = "word" if pos[0] in CONTENT_POS else "case" if m.surface() in _CASE else "other"
            if m.surface() in _COPULA and kind != "word" and recent and recent[-1][0] in ("word", "copula"):
                kind = "copula"
            recent.append((kind, len(words)))
            for_pieces = self.pieces and pos[0] not in ("補助記号", "空白")
            compound = self.subwords and pos[0] == "名詞" and len(m.surface()) >= 3
            parts = m.split(_mode_a()) if for_pieces or compound else ()  # split once, used twice
            if for_pieces:
                pieces.extend(p.normalized_form() for p in (parts if len(parts) > 1 else (m,)))
            if pos[0] in ("補助記号", "空白", "記号"):
                if _KANA.fullmatch(m.surface()):  # a stray っ or ー still belongs to the reading
                    reading.append(m.surface())
                elif pos[1] in ("句点", "読点"):  # the words so far are a lead-in to what follows
                    lead_in = len(words)
                continue
            reading.append(m.reading_form())
            if pos[0] not in CONTENT_POS or pos[1] in ("非自立可能", "数詞") or _ONE_KANA.fullmatch(m.surface()):
                continue  # a lone kana is what is left of a mis-split (ハムストリング|ズ), not a word
            words.append(self._word(m, pos))
            if compound and len(parts) > 1:
                # a compound also counts as its parts: 粗大ごみ as 粗大 + ごみ, 児童手当 as 児童 + 手当
                for part in parts:
                    part_pos = part.part_of_speech()
                    if part_pos[0] in ("名詞", "動詞", "形容詞") and not _ONE_KANA.fullmatch(part.surface()):
                        w = self._word(part, part_pos)
                        words.append(replace(w, weight=w.weight * SUBWORD_WEIGHT, part=True))
        return Analysis(text, tuple(words), to_katakana("".join(reading)), lead_in, tuple(pieces))


def _negated(recent: list[tuple[str, int]], after: str, surface: str) -> int | None:
    """Where the words a negation takes back begin, or None: 「Xずに/Xなしで/Xないで」 (the word
    just before; with its case and the word before that: ジムに行かずに), and 「Xじゃなく(て)」
    「Xではなく」 (a noun and its copula)."""
    kinds = [kind for kind, _ in recent]
    if after in ("に", "で", "て") and kinds[-1:] == ["word"]:
        return recent[-3][1] if kinds[-3:-1] == ["word", "case"] else recent[-1][1]
    if after in ("て", "") or surface == "なく":
        for links in (1, 2):
            if kinds[-links - 1 :] == ["word"] + ["copula"] * links:
                return recent[-links - 1][1]
    return None


def _word(m, pos) -> Word:
    form = m.normalized_form()
    reading = to_katakana(m.dictionary_form_morpheme().reading_form()) or form
    filler = form in FILLER or m.dictionary_form() in FILLER
    noun = pos[0] == "名詞" and pos[1] != "数詞"
    return Word(form, reading, FILLER_WEIGHT if filler else 1.0, noun, filler=filler, groups=tuple(m.synonym_group_ids()))


class _WholeWords:
    """Whether a span of ``text`` starts and ends where Sudachi's words do; the text is
    tokenized only when first asked (most questions have no synonym variant in them)."""

    def __init__(self, tokenizer, text: str):
        self.tokenizer, self.text = tokenizer, text
        self.edges: set[int] | None = None

    def __call__(self, start: int, end: int) -> bool:
        if self.edges is None:
            morphemes = self.tokenizer.tokenize(self.text)
            self.edges = {m.begin() for m in morphemes} | {m.end() for m in morphemes}
        return start in self.edges and end in self.edges


class _Misread:
    """Where a hiragana word may be spelt back, given how Sudachi read the text: across
    morphemes (す|とれ|っ|ち → ストレッチ), or from the start of one, to mend Sudachi's reading
    (ふか: 鱶 → 負荷; ほうほう → 方法); not over grammar (し|たい: not 腿; ない|よう: not 用),
    nor from inside a word (頼める: not 頼メール)."""

    def __init__(self, morphemes):
        self.morphemes = morphemes
        self.spans: list[tuple[int, int, bool]] | None = None  # worked out when first asked

    def __call__(self, start: int, end: int) -> bool:
        if self.spans is None:  # a text with no learnt spelling in it never asks
            morphemes = self.morphemes
            pos = [m.part_of_speech() for m in morphemes]
            self.ends = [m.end() for m in morphemes]
            self.spans = [
                (m.begin(), m.end(), _grammar(pos[i], pos[i - 1] if i else None)) for i, m in enumerate(morphemes)
            ]
        i = bisect_right(self.ends, start)  # the morpheme the word starts in
        if i == len(self.spans):
            return True
        begin, stop, grammar = self.spans[i]
        if stop < end:  # across morphemes, from the start of one or to the end of one (not だ|いえ|っと)
            return begin == start or end in self.ends
        return not grammar and begin == start


def _grammar(pos, before) -> bool:
    """Whether Sudachi read a morpheme as grammar: a particle or suffix, or an auxiliary
    after a verb or another auxiliary (し|たい); one after a noun is a misreading (もの|たり|ない)."""
    if pos[0] in ("助詞", "接尾辞"):
        return True
    auxiliary = pos[0] == "助動詞" or pos[1] == "助動詞語幹"
    return auxiliary and before is not None and before[0] in ("動詞", "助動詞", "形容詞")


@lru_cache(maxsize=None)
def _mode_a():
    from sudachipy import SplitMode

    return SplitMode.A


class _Replacer:
    """Replaces known words in a text, matched on ``kana_key`` (kana-insensitive), longest first.

    Words are looked up by the text's substrings of the lengths the table has, rather than
    found by one regex of all the words: a regex of hundreds of alternatives took
    milliseconds to compile, again in every process that loads a compiled index."""

    def __init__(self, table: Mapping[str, str]):
        self.table = {word: value for word, value in table.items() if word}
        # First character → the lengths of the words it starts, longest first.
        self.lengths: dict[str, list[int]] = {}
        for word in sorted(self.table, key=len, reverse=True):
            lengths = self.lengths.setdefault(word[0], [])
            if not lengths or lengths[-1] != len(word):
                lengths.append(len(word))
        # The first two characters of the longer words: most places in a text start none of them,
        # and one look-up passes them by (trying each length there cost most of a question's
        # normalizing).
        self.starts = {word[:2] for word in self.table if len(word) > 1}

    def __call__(self, text: str, only: re.Pattern | None = None, where=None) -> str:
        """``only``: replace just inside the stretches of text this pattern matches;
        ``where(start, end)``: replace just the words at the places it accepts."""
        if not self.table:
            return text
        if only is not None:
            return only.sub(lambda m: self._replace(m.group(), m.start(), where), text)
        return self._replace(text, 0, where)

    def _replace(self, text: str, offset: int, where) -> str:
        key = kana_key(text)
        table, lengths, starts = self.table, self.lengths, self.starts
        out, last, i = [], 0, 0
        while i < len(key):
            if key[i : i + 2] not in starts and key[i] not in table:
                i += 1
                continue
            for n in lengths.get(key[i], ()):
                word = key[i : i + n]
                if len(word) == n and word in table and (where is None or where(offset + i, offset + i + n)):
                    out.append(text[last:i])
                    out.append(table[word])
                    i = last = i + n
                    break
            else:
                i += 1
        out.append(text[last:])
        return "".join(out)
