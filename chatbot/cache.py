"""A compiled knowledge base kept on disk, so that a new process skips parsing and indexing.

An entry is found by its identity: the knowledge files' names and contents, this
package's version and the size and time of its modules, the versions of SudachiPy, its
dictionary and rapidfuzz, and the index weights: change any and the entry is built anew.
The entry's name is a checksum of the identity, and the entry starts with the identity
itself, compared in full before the index is read: a checksum is cheap (a cryptographic
hash would load OpenSSL, milliseconds of every start), and a collision only costs a
rebuild. Entries live in ``$CHATBOT_CACHE_DIR``, else
``$XDG_CACHE_HOME/chatbot``, else ``~/.cache/chatbot``; ``CHATBOT_CACHE=0`` turns the
cache off. A cache that cannot be read or written is passed over silently: it only
ever saves time.
"""

from __future__ import annotations

import os
import pickle
import sys
import zlib
from pathlib import Path
from typing import Callable, Iterable, TypeVar

T = TypeVar("T")
FORMAT = 2


def directory() -> Path | None:
    if os.environ.get("CHATBOT_CACHE", "1") in ("0", "false", "no", "off"):
        return None
    if os.environ.get("CHATBOT_CACHE_DIR"):
        return Path(os.environ["CHATBOT_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "chatbot"


def _versions() -> str:
    """What else shapes a compiled index: this package, SudachiPy, its dictionary file, rapidfuzz."""
    import rapidfuzz
    import sudachidict_core
    import sudachipy

    from . import __version__

    dic = Path(sudachidict_core.__file__).parent / "resources" / "system.dic"
    code = sorted(Path(__file__).parent.glob("*.py"))  # an edited checkout changes the index's code
    stamps = ",".join(_stamp(path) for path in [dic, *code])
    return f"chatbot={__version__}|sudachipy={sudachipy.__version__}|rapidfuzz={rapidfuzz.__version__}|{stamps}"


def _stamp(path: Path) -> str:
    try:
        stat = path.stat()
    except OSError:
        return f"{path.name}:?"
    return f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}"


def _identity(files: Iterable[Path], extra: str = "") -> bytes:
    """The files' names and contents and everything else that shapes the index."""
    parts = [f"{FORMAT}|{sys.version_info[:2]}|{_versions()}|{extra}".encode()]
    for path in files:
        data = Path(path).read_bytes()
        parts += [f"|{Path(path).name}|{len(data)}|".encode(), data]
    return b"".join(parts)


def key(files: Iterable[Path], extra: str = "") -> str:
    """The name of the entry for these files: a checksum of their identity."""
    return _checksum(_identity(files, extra))


def _checksum(data: bytes) -> str:
    return f"{zlib.crc32(data):08x}{zlib.adler32(data):08x}"


def cached(files: list[Path], extra: str, build: Callable[[], T]) -> T:
    """``build()``'s result, from the cache when the files and versions are unchanged."""
    folder = directory()
    if folder is None:
        return build()
    try:
        wanted = _identity(files, extra)
    except OSError:
        return build()  # a file went missing: let build() say so properly
    entry = folder / f"{_checksum(wanted)}.pickle"
    try:
        with open(entry, "rb") as f:
            if pickle.load(f) == wanted:  # else another identity with the same checksum
                return pickle.load(f)
    except Exception:  # absent, unreadable, or from an incompatible build: rebuild
        pass
    value = build()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        partial = entry.with_suffix(f".{os.getpid()}.tmp")  # written aside, then renamed: never half-read
        with open(partial, "wb") as f:
            pickle.dump(wanted, f, protocol=pickle.HIGHEST_PROTOCOL)
            pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(partial, entry)
    except OSError:
        pass
    return value
