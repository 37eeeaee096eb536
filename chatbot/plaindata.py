"""A compiled index as plain data, and back: no code is ever stored or run from it.

``encode(value)`` turns a graph of this package's objects into nested tuples of plain
values (str, bytes, int, float, bool, None, and tuples, lists, dicts and sets of them),
which ``marshal`` writes and reads in C. ``decode`` rebuilds the objects: a class is
named by module and name, and only classes defined in this package's own modules, and
in modules already imported, are accepted; an object is made with ``cls.__new__`` and
given its attributes (or its own ``__setstate__``), never by calling anything the data
names. Containers holding only plain values are stored whole and not walked again, so
decoding walks only the small skeleton of objects around them.
"""

from __future__ import annotations

import marshal
import sys
from collections import defaultdict

PACKAGE = __name__.rpartition(".")[0]
_ATOMS = (str, bytes, int, float, bool, complex, type(None))
_FACTORIES = {"list": list, "set": set, "int": int, "float": float, "dict": dict}

# An encoded node is a tuple whose first item says what it is.
_PLAIN, _LIST, _TUPLE, _DICT, _SET, _OBJECT, _SHARED, _DEFAULTDICT = range(8)


class Unstorable(Exception):
    """The value holds something that is not plain data or an object of this package."""


def dumps(value) -> bytes:
    return marshal.dumps(encode(value))


def loads(data: bytes):
    """Raises ``Unstorable`` (or ValueError, EOFError, TypeError) for data not made by ``dumps``."""
    return decode(marshal.loads(data))


def encode(value):
    return _Encoder().node(value)


def _plain(value) -> bool:
    """Whether ``value`` holds only plain data (exact types: a subclass may carry code)."""
    kind = type(value)
    if kind in _ATOMS:
        return True
    if kind in (list, tuple, set, frozenset):
        return all(map(_plain, value))
    if kind is dict:
        return all(map(_plain, value)) and all(map(_plain, value.values()))
    return False


class _Encoder:
    def __init__(self):
        self.objects: dict[int, int] = {}  # id(obj) → its number, for objects met before
        self.keep: list = []  # the objects numbered, kept alive so that their ids stay theirs

    def node(self, value):
        if _plain(value):
            return (_PLAIN, value)
        kind = type(value)
        if kind is list:
            return (_LIST, tuple(map(self.node, value)))
        if kind is tuple:
            return (_TUPLE, tuple(map(self.node, value)))
        if kind is dict or kind is defaultdict:
            if not all(map(_plain, value)):
                raise Unstorable("a dict key that is not plain data")
            items = (_DICT, tuple((key, self.node(item)) for key, item in value.items()))
            if kind is dict:
                return items
            factory = getattr(value.default_factory, "__name__", None)
            if _FACTORIES.get(factory) is not value.default_factory:
                raise Unstorable(f"a defaultdict of {value.default_factory!r}")
            return (_DEFAULTDICT, factory, items)
        if kind in (set, frozenset):
            raise Unstorable("a set of objects")
        return self.instance(value)

    def instance(self, value):
        number = self.objects.get(id(value))
        if number is not None:
            return (_SHARED, number)
        kind = type(value)
        module = kind.__module__
        if (
            not (module == PACKAGE or module.startswith(PACKAGE + "."))
            or not hasattr(value, "__dict__")
            or "__slots__" in vars(kind)
            or any(base in (dict, list, tuple, set, frozenset) for base in kind.__mro__)  # contents not in __dict__
        ):
            raise Unstorable(f"an object of {module}.{kind.__qualname__}")
        number = self.objects[id(value)] = len(self.objects)
        self.keep.append(value)
        get_state = getattr(kind, "__getstate__", None)
        own = get_state is not None and get_state is not getattr(object, "__getstate__", None)
        state = value.__getstate__() if own else dict(value.__dict__)
        if type(state) is not dict:
            raise Unstorable(f"{kind.__qualname__}.__getstate__ gave no dict")
        return (_OBJECT, module, kind.__qualname__, number, self.node(state))


def decode(node):
    return _Decoder().node(node)


class _Decoder:
    def __init__(self):
        self.objects: dict[int, object] = {}

    def node(self, node):
        tag = node[0]
        if tag == _PLAIN:
            return node[1]
        if tag == _LIST:
            return [self.node(item) for item in node[1]]
        if tag == _TUPLE:
            return tuple(self.node(item) for item in node[1])
        if tag == _DICT:
            return {key: self.node(item) for key, item in node[1]}
        if tag == _DEFAULTDICT:
            result = defaultdict(_FACTORIES[node[1]])
            result.update(self.node(node[2]))
            return result
        if tag == _SHARED:
            return self.objects[node[1]]
        if tag == _OBJECT:
            _, module, name, number, state = node
            kind = _class(module, name)
            value = kind.__new__(kind)
            self.objects[number] = value
            state = self.node(state)
            if not isinstance(state, dict):
                raise Unstorable("an object's state is not a dict")
            if "__setstate__" in vars(kind) or any("__setstate__" in vars(base) for base in kind.__mro__[1:-1]):
                value.__setstate__(state)
            else:
                value.__dict__.update(state)
            return value
        raise Unstorable(f"unknown node {tag!r}")


def _class(module: str, name: str) -> type:
    """A class defined in one of this package's modules, and nothing else."""
    if not isinstance(module, str) or not isinstance(name, str):
        raise Unstorable("a class named by something other than text")
    if not (module == PACKAGE or module.startswith(PACKAGE + ".")) or "." in name:
        raise Unstorable(f"a class from outside {PACKAGE}: {module}.{name}")
    loaded = sys.modules.get(module)  # only modules already imported: naming one imports nothing
    kind = getattr(loaded, name, None)
    if not isinstance(kind, type) or kind.__module__ != module:
        raise Unstorable(f"no class {module}.{name}")
    return kind
