"""``chatbot check``: is a knowledge base sound, and where will it answer worse than it could?

Errors (the knowledge cannot be used as meant; each names its file and line): schema
problems, an intent without an answer or an answer without an intent, duplicate ids,
intents of the contract missing, empty answers, a FAQ row whose field count is not the
header's, an unknown ``version``. Warnings (it loads, but some questions will go astray):
the same example under two intents, an example the engine sends elsewhere when it is left
out (leave-one-out), near-duplicate examples across intents, intents with few examples,
content answers with no source, synonym variants inside other words of the examples.

``check(path)`` reads the files; ``errors`` and ``warnings`` are pure over what was read.
"""

from __future__ import annotations

import copy
import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz import fuzz, process

from . import knowledge, romaji
from .decide import decide
from .errors import KnowledgeError
from .index import is_table
from .text import _WholeWords, fold, kana_key, spellings

ERROR, WARNING = "error", "warning"
ERROR_KINDS = ("schema", "version", "field_count", "duplicate_id", "no_answer", "no_intent", "empty_answer", "contract")
WARNING_KINDS = ("same_example", "leave_one_out", "near_duplicate", "few_examples", "no_source", "synonym_inside")
MIN_EXAMPLES = 15  # README: 15 or more varied examples per topic
NEAR = 90  # rapidfuzz ratio (0-100) of two normalized examples of different intents: near-duplicates
CONTRACT = Path(__file__).resolve().parent / "faq_topics.txt"  # the package's copy of ../shared/faq-topics.md
_ID = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True)
class Finding:
    """One problem: ``level`` error or warning, ``kind`` one of ERROR_KINDS / WARNING_KINDS."""

    level: str
    kind: str
    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.level}: {self.message} [{self.kind}]"

    def to_dict(self) -> dict:
        return {"level": self.level, "kind": self.kind, "path": self.path, "line": self.line, "message": self.message}


@dataclass(frozen=True)
class Report:
    """What ``check`` found, and which files it read."""

    files: tuple[str, ...]
    findings: tuple[Finding, ...]
    notes: tuple[str, ...] = ()  # which files are in use, and how to check the ones being edited
    examples: int = 0
    intents: int = 0

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.level == ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.level == WARNING]

    def counts(self, level: str) -> dict[str, int]:
        kinds = ERROR_KINDS if level == ERROR else WARNING_KINDS
        return {kind: sum(f.kind == kind for f in self.findings if f.level == level) for kind in kinds}

    def to_dict(self) -> dict:
        return {
            "files": list(self.files),
            "notes": list(self.notes),
            "intents": self.intents,
            "examples": self.examples,
            "errors": [f.to_dict() for f in self.errors],
            "warnings": [f.to_dict() for f in self.warnings],
            "counts": {"errors": self.counts(ERROR), "warnings": self.counts(WARNING)},
        }


def format_report(report: Report) -> str:
    """The report for a person: files in use, each finding as ``file:line: level: message``, counts."""
    lines = ["knowledge files in use:", *(f"  {f}" for f in report.files), *report.notes, ""]
    lines += [str(f) for f in report.errors] + [str(f) for f in report.warnings]
    errors = {k: n for k, n in report.counts(ERROR).items() if n}
    warnings = {k: n for k, n in report.counts(WARNING).items() if n}
    if report.findings:
        lines.append("")
    lines.append(f"{len(report.errors)} errors" + (f" ({_counted(errors)})" if errors else ""))
    lines.append(f"{len(report.warnings)} warnings" + (f" ({_counted(warnings)})" if warnings else ""))
    if report.intents:
        lines.append(f"checked {report.intents} intents, {report.examples} examples")
    return "\n".join(lines)


def _counted(counts: dict[str, int]) -> str:
    return ", ".join(f"{kind} {n}" for kind, n in counts.items())


# ---- the contract: intent ids the knowledge base must have ---------------------------------

@dataclass(frozen=True)
class Contract:
    path: str
    ids: tuple[tuple[str, int], ...]  # (id, line)


def parse_contract(text: str, path: str) -> Contract:
    """Intent ids one a line (``#`` comments), or the first cells of a Markdown table's rows
    (``| cramp | … |``, as in faq-topics.md)."""
    ids = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        cell = line.strip("|").split("|")[0].strip().strip("`") if line.startswith("|") else line.split("#")[0].strip()
        if _ID.fullmatch(cell) and cell != "id":
            ids.append((cell, number))
    if not ids:
        raise KnowledgeError(path, "no intent ids found: list one id a line, or a Markdown table with ids in its first column")
    return Contract(path, tuple(ids))


# ---- errors ------------------------------------------------------------------------------

_KIND_OF = (
    ("fields where the header has", "field_count"),
    ("unknown version", "version"),
    ("defined twice", "duplicate_id"),
    ("has no answer", "no_answer"),
    ("has no intent", "no_intent"),
    ("has no 'answer'", "empty_answer"),
)


def _from_error(e: KnowledgeError) -> Finding:
    kind = next((k for words, k in _KIND_OF if words in e.message), "schema")
    return Finding(ERROR, kind, e.path, e.line, e.message)


def errors(sources: list[tuple[Path, bytes]], contract: Contract | None = None) -> list[Finding]:
    """Every error found in a knowledge base's files (as ``knowledge.read_sources`` gives them)."""
    first, data = sources[0]
    if first.suffix.lower() in knowledge.TABLE_SUFFIXES:
        found = _table_errors(first, data)
    else:
        found = _yaml_errors(sources, contract)
    if not found:  # what only loading the whole finds (no knowledge/ folder, say)
        try:
            knowledge.load(first, sources)
        except KnowledgeError as e:
            found.append(_from_error(e))
    return found


def _table_errors(path: Path, data: bytes) -> list[Finding]:
    try:
        text = knowledge.decode(data, path)
    except KnowledgeError as e:
        return [_from_error(e)]
    found = []
    if path.suffix.lower() != ".jsonl":
        reader = csv.reader(io.StringIO(text), delimiter="\t" if path.suffix.lower() == ".tsv" else ",")
        try:
            header = next(reader, [])
            for row in reader:
                if row and len(row) != len(header):
                    found.append(Finding(
                        ERROR, "field_count", str(path), reader.line_num,
                        f"{len(row)} fields where the header has {len(header)}: quote a field that holds a "
                        f"{'tab' if path.suffix.lower() == '.tsv' else 'comma'} (\"like, this\"), or add the missing fields",
                    ))
        except csv.Error:
            pass  # parse_table says where
    try:
        knowledge.parse_table(text, str(path))
    except KnowledgeError as e:
        if (e.path, e.line) not in {(f.path, f.line) for f in found}:
            found.append(_from_error(e))
    return found


def _yaml_errors(sources: list[tuple[Path, bytes]], contract: Contract | None) -> list[Finding]:
    from . import yamlfile

    found: list[Finding] = []
    docs: dict[Path, object] = {}
    texts: dict[Path, str] = {}
    for path, data in sources:
        try:
            texts[path] = knowledge.decode(data, path)
            docs[path] = yamlfile.loads(texts[path], str(path))
        except KnowledgeError as e:
            found.append(_from_error(e))
    intents_path = sources[0][0]
    intent_ids: dict[str, int] = {}
    doc = docs.get(intents_path)
    if isinstance(doc, dict):
        if "version" in doc and (type(doc["version"]) is not int or doc["version"] not in knowledge.VERSIONS):
            found.append(Finding(ERROR, "version", str(intents_path), doc.lines["version"],
                                 f"unknown version {doc['version']!r} (this chatbot reads version "
                                 f"{', '.join(map(str, knowledge.VERSIONS))}); write 'version: 1' or update the chatbot"))
        items = doc.get("intents")
        for item, line in zip(items, items.lines) if isinstance(items, list) else ():
            intent_id = _id_of(item)
            if intent_id is None:
                continue
            if intent_id in intent_ids:
                found.append(Finding(ERROR, "duplicate_id", str(intents_path), line,
                                     f"intent {intent_id!r} is defined twice (first at line {intent_ids[intent_id]}): "
                                     "merge their examples under one"))
            else:
                intent_ids[intent_id] = line
    answer_ids: dict[str, tuple[Path, int]] = {}
    for path, answers in docs.items():
        if path == intents_path or not isinstance(answers, list):
            continue
        for item, line in zip(answers, answers.lines):
            answer_id = _id_of(item)
            if answer_id is None:
                continue
            if answer_id in answer_ids:
                first_path, first_line = answer_ids[answer_id]
                found.append(Finding(ERROR, "duplicate_id", str(path), line,
                                     f"answer {answer_id!r} is defined twice (first at {first_path}:{first_line}): keep one"))
            else:
                answer_ids[answer_id] = (path, line)
            body = item.get("answer")
            if body is None or (isinstance(body, str) and not body.strip()):
                found.append(Finding(ERROR, "empty_answer", str(path), item.lines.get("answer", line),
                                     f"answer {answer_id!r} is empty: write the reply under 'answer:'"))
    if isinstance(doc, dict) and docs.keys() - {intents_path}:
        for intent_id, line in intent_ids.items():
            if intent_id not in answer_ids:
                found.append(Finding(ERROR, "no_answer", str(intents_path), line,
                                     f"intent {intent_id!r} has no answer: add '- id: {intent_id}' to a file in knowledge/"))
        for answer_id, (path, line) in answer_ids.items():
            if answer_id not in intent_ids:
                found.append(Finding(ERROR, "no_intent", str(path), line,
                                     f"answer {answer_id!r} has no intent: add it to {intents_path} or remove it"))
    if contract is not None and isinstance(doc, dict):
        for intent_id, line in contract.ids:
            if intent_id not in intent_ids:
                found.append(Finding(ERROR, "contract", contract.path, line,
                                     f"intent {intent_id!r} of the contract is missing from {intents_path}: "
                                     "add it with examples, and its answer in knowledge/"))
    # What the loader itself refuses, where none of the above already named that place.
    named = {(f.path, f.line) for f in found}
    for path, text in texts.items():
        if path not in docs:
            continue
        try:
            if path == intents_path:
                knowledge.parse_intents(text, str(path))
            else:
                knowledge.parse_answers(text, str(path))
        except KnowledgeError as e:
            if (e.path, e.line) not in named:
                found.append(_from_error(e))
    return found


def _id_of(item) -> str | None:
    value = item.get("id") if isinstance(item, dict) else None
    return value.strip() if isinstance(value, str) and value.strip() else None


# ---- where things are -------------------------------------------------------------------

@dataclass
class Places:
    """File and line of each example (by intent id and position), intent and answer."""

    examples: dict[tuple[str, int], tuple[str, int]] = field(default_factory=dict)
    intents: dict[str, tuple[str, int]] = field(default_factory=dict)
    answers: dict[str, tuple[str, int]] = field(default_factory=dict)

    def example(self, intent_id: str, k: int, default: str) -> tuple[str, int | None]:
        return self.examples.get((intent_id, k), (default, None))


def places(sources: list[tuple[Path, bytes]]) -> Places:
    """Where each example, intent and answer is, in files that load without errors."""
    from . import yamlfile

    found = Places()
    first, data = sources[0]
    if first.suffix.lower() in knowledge.TABLE_SUFFIXES:
        counts: dict[str, int] = {}
        for number, (line, row) in enumerate(knowledge._table_rows(knowledge.decode(data, first), str(first)), start=1):
            entry_id = str(row.get("id") or "").strip() or str(number)
            k = counts[entry_id] = counts.get(entry_id, -1) + 1
            found.examples[(entry_id, k)] = (str(first), line)
            found.intents.setdefault(entry_id, (str(first), line))
            found.answers.setdefault(entry_id, (str(first), line))
        return found
    doc = yamlfile.loads(knowledge.decode(data, first), str(first))
    items = doc["intents"]
    for item, line in zip(items, items.lines):
        intent_id = item["id"].strip()
        found.intents[intent_id] = (str(first), line)
        for k, example_line in enumerate(item["examples"].lines):
            found.examples[(intent_id, k)] = (str(first), example_line)
    for path, data in sources[1:]:
        answers = yamlfile.loads(knowledge.decode(data, path), str(path)) or []
        for item, line in zip(answers, answers.lines):
            found.answers[item["id"].strip()] = (str(path), line)
    return found


# ---- warnings ----------------------------------------------------------------------------

def warnings(bot, where: Places) -> list[Finding]:
    """Every warning about the knowledge ``bot`` was built from."""
    kb = bot.kb
    table = is_table(kb)
    found = _same_and_near(bot, where)
    found += _leave_one_out(bot, where)
    if not table:  # a FAQ table has about one question per entry by design, and no sources
        found += _few_examples(kb, where)
        found += _no_source(kb, where)
    found += _synonyms_inside(bot, where)
    return found


def _examples(kb):
    """(intent id, position, example) of every example, in the index's order."""
    return [(intent.id, k, example) for intent in kb.intents for k, example in enumerate(intent.examples)]


def _same_and_near(bot, where: Places) -> list[Finding]:
    examples = _examples(bot.kb)
    normalized = [bot.analyzer.normalize(e) for _, _, e in examples]
    found, first_of = [], {}
    for n, (intent_id, k, example) in enumerate(examples):
        other = first_of.setdefault(normalized[n], n)
        if examples[other][0] != intent_id:
            path, line = where.example(intent_id, k, bot.kb.origin)
            o_id, o_k, o_example = examples[other]
            found.append(Finding(WARNING, "same_example", path, line,
                                 f"「{example}」 of {intent_id!r} is 「{o_example}」 of {o_id!r} "
                                 f"(line {where.example(o_id, o_k, '')[1]}) once normalized: keep it under one intent"))
    choices = dict(enumerate(normalized))
    for n, (intent_id, k, example) in enumerate(examples):
        for _, score, m in process.extract(normalized[n], choices, scorer=fuzz.ratio, score_cutoff=NEAR, limit=None):
            o_id, o_k, o_example = examples[m]
            if m < n and o_id != intent_id and normalized[m] != normalized[n]:
                path, line = where.example(intent_id, k, bot.kb.origin)
                found.append(Finding(WARNING, "near_duplicate", path, line,
                                     f"「{example}」 of {intent_id!r} is nearly 「{o_example}」 of {o_id!r} "
                                     f"(line {where.example(o_id, o_k, '')[1]}, {score:.0f}% alike): "
                                     "reword one with the words that set its topic apart"))
    return found


class _Without:
    """A feature space of the index with one example left out: what it finds, less that one."""

    def __init__(self, space, left_out: int):
        self._space, self._left_out = space, left_out

    def __getattr__(self, name):
        return getattr(self._space, name)

    def scores(self, query):
        found, scale = self._space.scores(query)
        found.pop(self._left_out, None)
        return found, scale

    def similarities(self, query):
        found = self._space.similarities(query)
        found.pop(self._left_out, None)
        return found


def leave_one_out(bot):
    """Each example asked of the built index with that example left out (its words still count
    in the intents' vocabulary and in the intent as a whole): ``(position, ranked)`` per example.
    The index is reused, not rebuilt per example."""
    index, analyzer = bot.index, bot.analyzer
    for d, example in enumerate(index.examples):
        without = copy.copy(index)
        without.words, without.readings = _Without(index.words, d), _Without(index.readings, d)
        yield d, without.rank(analyzer.variants(example), 3)


def _leave_one_out(bot, where: Places) -> list[Finding]:
    """An example that, left out, is answered as another intent, offered as a choice of two
    others, or declined with another first. A choice between its own intent and another is not.
    The only example of its intent (a FAQ table's entry) is not asked: nothing of it would be left
    but its answer."""
    kb, index = bot.kb, bot.index
    positions = [(intent.id, k) for intent in kb.intents for k in range(len(intent.examples))]
    found = []
    for d, ranked in leave_one_out(bot):
        own = index.owner[d]
        if not ranked or ranked[0].intent == own or len(kb.intents[own].examples) == 1:
            continue
        first, pair = bot.model.probabilities(ranked)
        status = decide(first, pair, bot.thresholds)
        names = [repr(kb.intents[s.intent].id) for s in ranked[:2]]
        if status == "clarify":
            if len(ranked) > 1 and ranked[1].intent == own:
                continue  # the reader is offered the right topic
            how = f"offered {names[0]} or {names[1]}"
        else:
            how = f"answered as {names[0]}" if status == "answered" else f"declined, closest {names[0]}"
        intent_id, k = positions[d]
        path, line = where.example(intent_id, k, kb.origin)
        found.append(Finding(WARNING, "leave_one_out", path, line,
                             f"「{index.examples[d]}」 of {intent_id!r}, asked without itself: {how} "
                             f"(confidence {first:.2f}, by 「{ranked[0].example}」); add examples in its "
                             "own intent's words, or move it"))
    return found


def _few_examples(kb, where: Places) -> list[Finding]:
    found = []
    for intent in kb.intents:
        if len(intent.examples) < MIN_EXAMPLES:
            path, line = where.intents.get(intent.id, (kb.origin, None))
            found.append(Finding(WARNING, "few_examples", path, line,
                                 f"intent {intent.id!r} has {len(intent.examples)} examples: "
                                 f"{MIN_EXAMPLES} or more varied ones find it more often"))
    return found


def _no_source(kb, where: Places) -> list[Finding]:
    """Answers with no section, outside conversation.yaml, in a knowledge base whose answers have sources."""
    if not any(intent.source for intent in kb.intents):
        return []
    found = []
    for intent in kb.intents:
        path, line = where.answers.get(intent.id, (kb.origin, None))
        if intent.source is None and Path(path).name != "conversation.yaml":
            found.append(Finding(WARNING, "no_source", path, line,
                                 f"answer {intent.id!r} has no source: add 'section:' (and 'reference:' where the "
                                 "article cites one), or move it to conversation.yaml if it is small talk"))
    return found


def _synonyms_inside(bot, where: Places) -> list[Finding]:
    """Synonym variants that occur inside another word of an example (つって in コツって):
    the engine rewrites whole words only, so there the variant stays as typed."""
    kb = bot.kb
    if not kb.synonyms:
        return []
    forms: dict[str, tuple[str, str, bool]] = {}  # spelling → (word, canonical, is a variant)
    for canonical, variants in kb.synonyms.items():
        for word, variant in [(canonical, False), *((v, True) for v in variants)]:
            for spelling in spellings(kana_key(fold(word))):
                if spelling and (variant or spelling not in forms):
                    forms.setdefault(spelling, (word, canonical, variant))
    tokenizer = bot.analyzer._tokenizer()  # the engine's own word edges
    found = []
    for intent_id, k, example in _examples(kb):
        text = romaji.to_kana(fold(example))
        key = kana_key(text)
        spans = [(m.start(), m.start() + len(s), s) for s in forms for m in re.finditer(re.escape(s), key)]
        if not spans:
            continue
        whole = _WholeWords(tokenizer, text)
        reported = set()
        for start, end, spelling in spans:
            word, canonical, variant = forms[spelling]
            if not variant or whole(start, end) or word in reported:
                continue
            if any(s <= start and end <= e and e - s > end - start and whole(s, e) for s, e, _ in spans):
                continue  # a longer word of the synonyms is there as a whole word: that one is rewritten
            reported.add(word)
            path, line = where.example(intent_id, k, kb.origin)
            found.append(Finding(WARNING, "synonym_inside", path, line,
                                 f"synonym variant 「{word}」 (of {canonical}) is not a word of its own in "
                                 f"「{example}」 (…{text[max(0, start - 2):end + 2]}…), so it is left as typed there: "
                                 "reword the example if it means the synonym, or drop a variant that is part of other words"))
    return found


# ---- the whole check ---------------------------------------------------------------------

def check(path: str | Path | None = None, contract: Contract | None = None) -> Report:
    """Check the knowledge base at ``path`` (None: the bundled one, against the package's copy
    of the contract unless ``contract`` is given)."""
    from .bot import Bot

    bundled = path is None
    path = knowledge.bundled_path() if path is None else Path(path)
    if contract is None and (bundled or _same_place(path, knowledge.bundled_path())):
        contract = parse_contract(knowledge.read_text(CONTRACT), str(CONTRACT))
    sources = knowledge.read_sources(path)
    files = tuple(str(f) for f, _ in sources)
    notes = in_use_notes(path, bundled)
    found = errors(sources, contract)
    if found:
        return Report(files, tuple(found), notes)
    bot = Bot(path)
    kb = bot.kb
    return Report(files, tuple(warnings(bot, places(sources))), notes,
                  sum(len(i.examples) for i in kb.intents), len(kb.intents))


def _same_place(a: Path, b: Path) -> bool:
    try:
        return knowledge._layout(a)[0].resolve() == knowledge._layout(b)[0].resolve()
    except OSError:
        return False


def in_use_notes(path: Path, bundled: bool, here: Path | None = None) -> tuple[str, ...]:
    """Which copy of the knowledge is in use, and, where an installed package reads its own
    copy while ``here`` (the current folder) holds an intents.yaml, how to use that one."""
    here = Path.cwd() if here is None else here
    notes = []
    packaged = Path(knowledge.__file__).resolve().parent / "data"
    if bundled and path.resolve() == packaged.resolve():
        notes.append("(the installed package's own copy: editing intents.yaml in a checkout changes nothing "
                     "until you reinstall, or use --kb with the checkout's folder)")
        if (here / "intents.yaml").is_file():
            notes.append(f"this folder has its own intents.yaml: check and use it with --kb {here}")
    return tuple(notes)
