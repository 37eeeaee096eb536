"""Parse YAML text into plain values that remember their line numbers.

Parsing only: the caller reads the file. Every failure becomes a KnowledgeError that
names the file and the line, so a broken knowledge file never ends in a traceback.
"""

from __future__ import annotations

from functools import lru_cache

from .errors import KnowledgeError


class Mapping(dict):
    """A dict from YAML; ``line`` is where it starts, ``lines[key]`` where each key stands."""

    line: int = 0

    def __init__(self):
        super().__init__()
        self.lines: dict = {}


class Sequence(list):
    """A list from YAML; ``line`` is where it starts, ``lines[i]`` where each item stands."""

    line: int = 0

    def __init__(self):
        super().__init__()
        self.lines: list[int] = []


def _mapping(loader, node):
    loader.flatten_mapping(node)
    result = Mapping()
    result.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if not isinstance(key, (str, int, float, bool)) and key is not None:
            raise KnowledgeError(loader.name, "a key must be plain text", line)
        if key in result:
            raise KnowledgeError(
                loader.name, f"duplicate key {key!r} (first at line {result.lines[key]})", line
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.lines[key] = line
    return result


def _int(loader, node):
    try:
        return loader.construct_yaml_int(node)
    except ValueError as e:  # 5000 digits: more than Python turns into a number
        raise KnowledgeError(
            loader.name, f"a number too long to read ({len(node.value)} characters); quote it to make it text",
            node.start_mark.line + 1,
        ) from e


def _sequence(loader, node):
    result = Sequence()
    result.line = node.start_mark.line + 1
    for item in node.value:
        result.append(loader.construct_object(item, deep=True))
        result.lines.append(item.start_mark.line + 1)
    return result


@lru_cache(maxsize=None)
def _loader_class():
    """PyYAML's safe loader (the C one when built) with line-keeping containers.
    Imported on first use: a process that finds its knowledge in the cache never pays for it."""
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loader = type("LineLoader", (base,), {})
    loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
    loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)
    loader.add_constructor("tag:yaml.org,2002:int", _int)
    return loader


def loads(text: str, path: str):
    """Parse ``text`` (the contents of ``path``) into Mapping/Sequence/scalars."""
    import yaml

    kind, loader = _loader_class(), None
    try:
        loader = kind(text)  # the pure Python reader checks every character here
        loader.name = str(path)
        return loader.get_single_data()
    except KnowledgeError:
        raise
    except yaml.reader.ReaderError as e:  # a character YAML does not allow (NUL, other controls)
        line = _line_at(text, e.position, bytewise=_is_libyaml(kind))
        problem = f"not valid YAML: character {_codepoint(e.character)} ({e.reason}); remove it"
        raise KnowledgeError(path, problem, line) from e
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else None
        problem = " ".join(p for p in (e.context, e.problem) if p)
        raise KnowledgeError(path, f"not valid YAML: {problem}", line) from e
    except yaml.YAMLError as e:
        raise KnowledgeError(path, f"not valid YAML: {e}") from e
    except RecursionError as e:
        raise KnowledgeError(path, "nested too deeply to read; flatten it") from e
    finally:
        if loader is not None:
            loader.dispose()


def _codepoint(character) -> str:
    if isinstance(character, int):
        return f"U+{character:04X}"
    return f"U+{ord(character):04X}" if isinstance(character, str) and len(character) == 1 else repr(character)


def _line_at(text: str, position, bytewise: bool) -> int | None:
    """The line of ``position``: a character offset, or a UTF-8 byte offset from libyaml."""
    if not isinstance(position, int):
        return None
    before = text.encode("utf-8", "surrogatepass")[:position] if bytewise else text[:position]
    return before.count(b"\n" if bytewise else "\n") + 1


def _is_libyaml(kind: type) -> bool:
    """Whether libyaml parses: its positions count UTF-8 bytes, the pure Python parser's characters."""
    try:
        from yaml.cyaml import CParser
    except ImportError:
        return False
    return issubclass(kind, CParser)
