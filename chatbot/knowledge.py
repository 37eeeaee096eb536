"""Load a knowledge base: ``intents.yaml`` + ``knowledge/*.yaml``, or a plain FAQ table.

``parse_*`` functions only parse text; ``load`` finds and reads the files. Every
problem is a KnowledgeError naming the file, the line where there is one, and what
to change.
"""

from __future__ import annotations

import json
import os
import stat
import unicodedata
from pathlib import Path

from .errors import KnowledgeError
from .models import InKind, Intent, KnowledgeBase, Source

INTENT_KEYS = {"id", "examples"}
ANSWER_KEYS = {"id", "title", "answer", "section", "reference", "in_kind"}
IN_KIND_KEYS = {"words", "answer"}
TABLE_SUFFIXES = {".csv", ".tsv", ".jsonl"}
VERSIONS = (1,)  # the intents.yaml schema versions this code reads
MAX_FILE_BYTES = 64 * 2**20  # a knowledge file larger than this is a mistake, not a FAQ
# Sudachi tokenizes at most 49,149 bytes at once, and normalizing can triple text
# (romaji: a → あ); a text of at most this many bytes (after NFKC) always fits.
MAX_TEXT_BYTES = 16_000


def read_bytes(path: Path) -> bytes:
    """The file's bytes: a regular file of at most ``MAX_FILE_BYTES``, else a KnowledgeError.
    A FIFO, a device (a symlink to /dev/zero) or a folder is refused, never read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)  # a FIFO does not block
    except FileNotFoundError:
        raise KnowledgeError(path, "no such file") from None
    except OSError as e:
        raise KnowledgeError(path, f"cannot read: {e.strerror}") from e
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise KnowledgeError(path, "not a regular file (a folder, FIFO or device); give a knowledge file")
        with os.fdopen(os.dup(fd), "rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as e:
        raise KnowledgeError(path, f"cannot read: {e.strerror}") from e
    finally:
        os.close(fd)
    if len(data) > MAX_FILE_BYTES:
        raise KnowledgeError(path, f"larger than {MAX_FILE_BYTES // 2**20} MiB; split it or trim it")
    return data


def decode(data: bytes, path) -> str:
    """UTF-8 text (a BOM dropped). A file that is not UTF-8 but is Shift_JIS (cp932) through and
    through, as Excel on Japanese Windows saves a CSV, is read as that; anything else that is
    not UTF-8 is a KnowledgeError with the line."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        shift_jis = looks_like_shift_jis(data)
        if shift_jis is not None:
            return shift_jis
        line = data[: e.start].count(b"\n") + 1
        raise KnowledgeError(path, "not valid UTF-8; save the file as UTF-8", line) from e


def looks_like_shift_jis(data: bytes) -> str | None:
    """``data`` read as Shift_JIS (cp932) when it all decodes so and holds Japanese, else None.
    A stray byte of Latin-1 or broken UTF-8 is not valid cp932 (a lead byte needs its trail byte),
    so a file that passes is all but certainly Shift_JIS."""
    try:
        text = data.decode("cp932")
    except UnicodeDecodeError:
        return None
    return text if any("\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" for ch in text) else None


# The names a FAQ table's or a question file's header may give its columns: matched after
# NFKC and case folding (Question, QUESTION, ｑｕｅｓｔｉｏｎ), Excel's BOM dropped.
HEADER_NAMES = {
    "question": ("question", "質問", "問い", "質問文"),
    "answer": ("answer", "回答", "答え", "解答"),
    "id": ("id", "番号", "no"),
    "title": ("title", "タイトル", "題名", "見出し"),
}
_HEADER_OF = {unicodedata.normalize("NFKC", name).casefold(): key for key, names in HEADER_NAMES.items() for name in names}


def header_name(cell) -> str | None:
    """The column a header cell names (``question``, ``answer``, ``id``, ``title``), or None."""
    if not isinstance(cell, str):
        return None
    return _HEADER_OF.get(unicodedata.normalize("NFKC", cell).strip().lstrip("\ufeff").strip().casefold())


def accepted_headers(*keys: str) -> str:
    """「question (question, 質問, 問い, 質問文)」…: the header names accepted, for an error message."""
    return "; ".join(f"{key}: {', '.join(HEADER_NAMES[key])}" for key in keys)


def read_text(path: Path) -> str:
    """The file's text; a missing, special or oversized file or bad UTF-8 is a KnowledgeError."""
    return decode(read_bytes(path), path)


def _text(value, path, line, what) -> str:
    if not isinstance(value, str) or not value.strip():
        raise KnowledgeError(path, f"{what} must be non-empty text", line)
    return _short(value.strip(), path, line, what)


def _short(value: str, path, line, what) -> str:
    """``value``, when it is short enough to be tokenized; else a KnowledgeError."""
    size = len(unicodedata.normalize("NFKC", value).lower().encode("utf-8"))  # what text.fold makes of it
    if size > MAX_TEXT_BYTES:
        raise KnowledgeError(
            path, f"{what} is too long ({size:,} bytes; at most {MAX_TEXT_BYTES:,}): split it or shorten it", line
        )
    return value


def _check_keys(entry, allowed, path, what):
    for key in entry:
        if key not in allowed:
            known = ", ".join(sorted(allowed))
            raise KnowledgeError(
                path, f"{what}: unknown key {key!r} (known keys: {known})", entry.lines[key]
            )


def parse_intents(text: str, path: str = "intents.yaml"):
    """Parse intents.yaml: returns ``(synonyms, [(id, examples, line), ...])``."""
    from . import yamlfile  # here, not above: a bot loaded from the cache parses nothing

    doc = yamlfile.loads(text, path)
    if not isinstance(doc, dict) or not isinstance(doc.get("intents"), list):
        raise KnowledgeError(path, "expected a mapping with an 'intents:' list", getattr(doc, "line", None))
    _check_keys(doc, {"version", "synonyms", "intents"}, path, "top level")
    if "version" in doc and (type(doc["version"]) is not int or doc["version"] not in VERSIONS):
        known = ", ".join(map(str, VERSIONS))
        raise KnowledgeError(
            path, f"unknown version {doc['version']!r} (this chatbot reads version {known}); "
            "write 'version: 1' or update the chatbot", doc.lines["version"]
        )
    synonyms = parse_synonyms(doc.get("synonyms") or {}, path)
    intents, seen = [], {}
    items = doc["intents"]
    for item, line in zip(items, items.lines):
        if not isinstance(item, dict):
            raise KnowledgeError(path, "each intent must be a mapping with 'id' and 'examples'", line)
        _check_keys(item, INTENT_KEYS, path, "intent")
        intent_id = _text(item.get("id"), path, line, "'id'")
        if intent_id in seen:
            raise KnowledgeError(path, f"intent {intent_id!r} is defined twice (first at line {seen[intent_id]})", line)
        seen[intent_id] = line
        examples = item.get("examples")
        if not isinstance(examples, list) or not examples:
            raise KnowledgeError(path, f"intent {intent_id!r}: 'examples' must be a non-empty list of questions", line)
        questions = tuple(
            _text(q, path, q_line, f"intent {intent_id!r}: each example")
            for q, q_line in zip(examples, examples.lines)
        )
        intents.append((intent_id, questions, line))
    return synonyms, intents


def parse_synonyms(value, path) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, dict):
        raise KnowledgeError(path, "'synonyms' must map a word to a list of its variants", getattr(value, "line", None))
    result = {}
    for canonical, variants in value.items():
        line = value.lines[canonical]
        word = _text(canonical, path, line, "a synonym's canonical word")
        if not isinstance(variants, list):
            raise KnowledgeError(path, f"synonym {word!r}: variants must be a list", line)
        result[word] = tuple(_text(v, path, line, f"synonym {word!r}: each variant") for v in variants)
    return result


def parse_answers(text: str, path: str):
    """Parse one knowledge/*.yaml file: returns ``[(id, title, answer, source, in_kind, line), ...]``."""
    from . import yamlfile

    doc = yamlfile.loads(text, path)
    if doc is None:
        return []
    if not isinstance(doc, list):
        raise KnowledgeError(path, "expected a list of answers (- id: ..., title: ..., answer: ...)", getattr(doc, "line", None))
    answers = []
    for item, line in zip(doc, doc.lines):
        if not isinstance(item, dict):
            raise KnowledgeError(path, "each answer must be a mapping with 'id', 'title' and 'answer'", line)
        _check_keys(item, ANSWER_KEYS, path, "answer")
        at = lambda key: item.lines.get(key, line)  # noqa: E731 — the key's own line, else the entry's
        answer_id = _text(item.get("id"), path, at("id"), "'id'")
        title = _text(item.get("title"), path, at("title"), f"answer {answer_id!r}: 'title'")
        body = _text(item.get("answer"), path, at("answer"), f"answer {answer_id!r}: 'answer'")
        source = None
        if "section" in item or "reference" in item:
            section = _text(item.get("section"), path, at("section"), f"answer {answer_id!r}: 'section'")
            reference = None  # only where the article cites one for this content
            if "reference" in item:
                reference = _text(item.get("reference"), path, at("reference"), f"answer {answer_id!r}: 'reference'")
            source = Source(section, reference)
        in_kind = _in_kind(item, path, answer_id) if "in_kind" in item else ()
        answers.append((answer_id, title, body, source, in_kind, line))
    return answers


def _in_kind(item, path, answer_id) -> tuple[InKind, ...]:
    """``in_kind:`` — replies given instead of the answer when the question holds one of their words."""
    what = f"answer {answer_id!r}: 'in_kind'"
    entries = item["in_kind"]
    if not isinstance(entries, list):
        raise KnowledgeError(path, f"{what} must be a list of '- words: [...]' with an 'answer'", item.lines["in_kind"])
    replies = []
    for entry, line in zip(entries, entries.lines):
        if not isinstance(entry, dict):
            raise KnowledgeError(path, f"{what}: each entry must be a mapping with 'words' and 'answer'", line)
        _check_keys(entry, IN_KIND_KEYS, path, what)
        words = entry.get("words")
        if not isinstance(words, list) or not words or not all(isinstance(w, str) and w.strip() for w in words):
            raise KnowledgeError(path, f"{what}: 'words' must be a list of non-empty text", line)
        replies.append(InKind(tuple(w.strip() for w in words), _text(entry.get("answer"), path, line, f"{what}: 'answer'")))
    return tuple(replies)


def build(intents_path, synonyms, intents, answers) -> KnowledgeBase:
    """Join parsed intents with parsed answers; every intent needs exactly one answer."""
    by_id = {}
    for path, (answer_id, title, body, source, in_kind, line) in answers:
        if answer_id in by_id:
            first_path, first = by_id[answer_id][0], by_id[answer_id][1][5]
            raise KnowledgeError(path, f"answer {answer_id!r} is defined twice (first at {first_path}:{first})", line)
        by_id[answer_id] = (path, (answer_id, title, body, source, in_kind, line))
    result = []
    for intent_id, examples, line in intents:
        if intent_id not in by_id:
            raise KnowledgeError(
                intents_path, f"intent {intent_id!r} has no answer: add '- id: {intent_id}' to a file in knowledge/", line
            )
        _, (_, title, body, source, in_kind, _) = by_id.pop(intent_id)
        result.append(Intent(intent_id, title, body, examples, source, in_kind))
    for path, (answer_id, *_, line) in by_id.values():
        raise KnowledgeError(path, f"answer {answer_id!r} has no intent: add it to {intents_path} or remove it", line)
    return KnowledgeBase(tuple(result), synonyms, str(intents_path))


def parse_table(text: str, path: str) -> KnowledgeBase:
    """A plain FAQ table (CSV, TSV or JSONL) with ``question``, ``answer`` and optional ``id``.

    Rows that share an id are alternative questions of one entry; without an id each
    row is its own entry, numbered from 1.
    """
    rows = list(_table_rows(text, path))
    entries: dict[str, dict] = {}
    for number, (line, row) in enumerate(rows, start=1):
        question = _text(row.get("question"), path, line, "'question'")
        entry_id = str(row.get("id") or "").strip() or str(number)
        entry = entries.setdefault(entry_id, {"questions": [], "answer": None, "title": None, "line": line})
        entry["questions"].append(question)
        answer = row.get("answer")
        if isinstance(answer, str) and answer.strip() and entry["answer"] is None:
            entry["answer"] = _short(answer.strip(), path, line, f"entry {entry_id!r}: 'answer'")
            title = str(row.get("title") or "").strip() or question
            entry["title"] = _short(title, path, line, f"entry {entry_id!r}: 'title'")
    intents = []
    for entry_id, entry in entries.items():
        if entry["answer"] is None:
            raise KnowledgeError(path, f"entry {entry_id!r} has no 'answer' in any of its rows", entry["line"])
        intents.append(Intent(entry_id, entry["title"], entry["answer"], tuple(entry["questions"])))
    if not intents:
        raise KnowledgeError(path, "the table has no rows")
    return KnowledgeBase(tuple(intents), {}, str(path))


def _table_rows(text: str, path: str):
    if str(path).endswith(".jsonl"):
        # lines end at \n only: U+2028, U+0085... are valid inside a JSON string (splitlines() splits there)
        for line, raw in enumerate(text.split("\n"), start=1):
            if not raw.strip():
                continue
            try:
                row = json.loads(raw)
            except json.JSONDecodeError as e:
                raise KnowledgeError(path, f"not valid JSON: {e.msg}", line) from e
            except ValueError as e:  # 5000 digits: more than Python turns into a number
                raise KnowledgeError(path, f"a number too long to read; quote it to make it text ({e})", line) from e
            except RecursionError as e:
                raise KnowledgeError(path, "nested too deeply to read; flatten the line", line) from e
            if not isinstance(row, dict):
                raise KnowledgeError(path, "each line must be a JSON object with 'question' and 'answer'", line)
            yield line, {header_name(key) or key: value for key, value in row.items()}
        return
    import csv
    import io

    reader = csv.DictReader(io.StringIO(text), delimiter="\t" if str(path).endswith(".tsv") else ",")
    try:
        reader.fieldnames = _table_header(reader.fieldnames or [], path)
        width = len(reader.fieldnames)
        for row in reader:
            if None in row or None in row.values():  # an unquoted comma cut the row, or a field is missing
                count = width + len(row.get(None) or ()) - sum(v is None for v in row.values())
                separator = "tab" if reader.reader.dialect.delimiter == "\t" else "comma"
                raise KnowledgeError(
                    path, f"{count} fields where the header has {width}: quote a field that holds a {separator} "
                    '("like, this"), or add the missing fields', reader.line_num
                )
            yield reader.line_num, row
    except csv.Error as e:  # a field over csv's limit (131,072 characters), a NUL...
        raise KnowledgeError(path, f"not a readable table: {e}", reader.line_num + 1) from e


def _table_header(header: list[str], path) -> list[str]:
    """The header with each known column under its own name (質問 → question); a table without a
    question or an answer column, or with one named twice, is a KnowledgeError naming the accepted names."""
    names = [header_name(cell) or cell for cell in header]
    for key in HEADER_NAMES:
        if names.count(key) > 1:
            twice = ", ".join(repr(c) for c, n in zip(header, names) if n == key)
            raise KnowledgeError(path, f"two columns name the {key} ({twice}); keep one", 1)
    if "question" not in names or "answer" not in names:
        shown = ", ".join(repr(c) for c in header[:10]) or "nothing"
        raise KnowledgeError(
            path, f"the header must name a question and an answer column (it has {shown}); accepted names, "
            f"in any case: {accepted_headers('question', 'answer', 'id', 'title')}", 1)
    return names


def _layout(path: Path) -> tuple[Path, Path]:
    """(intents.yaml, knowledge/) for a directory or an intents.yaml file."""
    if path.is_dir():
        return path / "intents.yaml", path / "knowledge"
    return path, path.parent / "knowledge"


def read_sources(path) -> list[tuple[Path, bytes]]:
    """The files a knowledge base at ``path`` is built from, each read once: ``(path, bytes)``."""
    path = Path(path)
    if path.suffix.lower() in TABLE_SUFFIXES:
        return [(path, read_bytes(path))]
    intents_path, knowledge_dir = _layout(path)
    if not intents_path.exists():
        raise KnowledgeError(
            intents_path, "no such file; give a directory with intents.yaml and knowledge/, or a .csv/.tsv/.jsonl FAQ table"
        )
    files = [intents_path, *sorted(knowledge_dir.glob("*.yaml"))]  # no knowledge/: load() says so
    return [(f, read_bytes(f)) for f in files]


def origin(path) -> str:
    """What a knowledge base loaded from ``path`` names as its origin."""
    path = Path(path)
    return str(path if path.suffix.lower() in TABLE_SUFFIXES else _layout(path)[0])


def load(path, sources: list[tuple[Path, bytes]] | None = None) -> KnowledgeBase:
    """Load a knowledge base from a directory (``intents.yaml`` + ``knowledge/``),
    an ``intents.yaml`` file (``knowledge/`` beside it), or a FAQ table (.csv/.tsv/.jsonl).
    ``sources``: its files as ``read_sources`` gave them, already read."""
    sources = read_sources(path) if sources is None else sources
    (first, data), *rest = sources
    if Path(path).suffix.lower() in TABLE_SUFFIXES:
        return parse_table(decode(data, first), str(first))
    synonyms, intents = parse_intents(decode(data, first), str(first))
    knowledge_dir = _layout(Path(path))[1]
    if not rest and not knowledge_dir.is_dir():
        raise KnowledgeError(knowledge_dir, "no such directory: the answers live in knowledge/*.yaml beside intents.yaml")
    answers = [(str(f), entry) for f, data in rest for entry in parse_answers(decode(data, f), str(f))]
    return build(str(first), synonyms, intents, answers)


def bundled_path() -> Path:
    """Where the bundled knowledge is: inside the installed package, or the checkout's top level."""
    here = Path(__file__).resolve().parent
    packaged = here / "data"
    if (packaged / "intents.yaml").exists():
        return packaged
    return here.parent
