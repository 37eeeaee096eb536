"""A compiled knowledge base kept on disk, so that a new process skips parsing and indexing.

An entry is found by its identity: the knowledge files' names and contents (the bytes
the knowledge base is then built from), this package's version and the size and time
of its modules, the versions of SudachiPy, its dictionary and rapidfuzz, and the index
weights: change any and the entry is built anew. Entries live in ``$CHATBOT_CACHE_DIR``,
else ``$XDG_CACHE_HOME/chatbot``, else ``~/.cache/chatbot``; ``CHATBOT_CACHE=0`` turns the
cache off.

What is read from there is data, never code:

- the folder is used only when it is a real directory (not a symlink) owned by this user;
  it is made 0700, and one of ours that others could write is closed to them first;
- an entry is read only when it is a regular file owned by this user that nobody else
  can write, opened without following a symlink and checked on the open file;
- an entry is plain data (``plaindata``: marshal of strings, numbers and containers),
  never pickle; and its BLAKE2b digest is checked before it is decoded, so an entry
  altered or cut short is rebuilt;
- the newest ``KEEP`` entries are kept, older ones removed, and a write that fails
  leaves no temporary file behind.

A cache that cannot be used is passed over silently: it only ever saves time.
"""

from __future__ import annotations

import os
import stat
import sys
import time
from pathlib import Path
from typing import Callable, Iterable, TypeVar

try:  # BLAKE2 without loading OpenSSL: hashlib would add milliseconds to every start
    from _blake2 import blake2b
except ImportError:  # pragma: no cover
    from hashlib import blake2b

T = TypeVar("T")
FORMAT = 3
MAGIC = b"chatbot-index\x00v3\x00"
DIGEST = 32
SUFFIX = ".entry"
KEEP = 8  # entries kept: a few knowledge bases, and a few edits of each
STALE_TEMP_SECONDS = 3600  # a temporary file this old was left by a process that died


def directory() -> Path | None:
    if os.environ.get("CHATBOT_CACHE", "1") in ("0", "false", "no", "off"):
        return None
    if os.environ.get("CHATBOT_CACHE_DIR"):
        return Path(os.environ["CHATBOT_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "chatbot"


def _versions() -> str:
    """What else shapes a compiled index: this package, SudachiPy, its dictionary file, rapidfuzz,
    and whether numpy is there to keep a large index in arrays (the large extra)."""
    import rapidfuzz
    import sudachidict_core
    import sudachipy

    from . import __version__, arrays

    dic = Path(sudachidict_core.__file__).parent / "resources" / "system.dic"
    code = sorted(Path(__file__).parent.glob("*.py"))  # an edited checkout changes the index's code
    stamps = ",".join(_stamp(path) for path in [dic, *code])
    versions = f"chatbot={__version__}|sudachipy={sudachipy.__version__}|rapidfuzz={rapidfuzz.__version__}"
    return f"{versions}|arrays={arrays.available()}|{stamps}"


def _stamp(path: Path) -> str:
    try:
        st = path.stat()
    except OSError:
        return f"{path.name}:?"
    return f"{path.name}:{st.st_size}:{st.st_mtime_ns}"


def _identity(sources: Iterable[tuple[Path, bytes]], extra: str = "") -> bytes:
    """The files' names and contents and everything else that shapes the index."""
    parts = [f"{FORMAT}|{sys.version_info[:2]}|{_versions()}|{extra}".encode()]
    for path, data in sources:
        parts += [f"|{Path(path).name}|{len(data)}|".encode(), data]
    return b"".join(parts)


def key(sources: Iterable[tuple[Path, bytes]], extra: str = "") -> str:
    """The name of the entry for these files (``(path, contents)`` pairs)."""
    return _checksum(_identity(sources, extra))


def _checksum(data: bytes) -> str:
    return blake2b(data, digest_size=16).hexdigest()


def _digest(data: bytes) -> bytes:
    return blake2b(data, digest_size=DIGEST).digest()


def cached(sources: list[tuple[Path, bytes]], extra: str, build: Callable[[], T]) -> T:
    """``build()``'s result, from the cache when the files and versions are unchanged.

    ``sources``: the knowledge files as ``(path, contents)``, read once by the caller,
    whose ``build`` must build from those same bytes."""
    from . import plaindata

    folder = directory()
    if folder is None:
        return build()
    wanted = _identity(sources, extra)
    name = _checksum(wanted) + SUFFIX
    dir_fd = _open_folder(folder, create=False)
    try:
        if dir_fd is not None:
            payload = _read_entry(dir_fd, name, _digest(wanted))
            if payload is not None:
                try:
                    return plaindata.loads(payload)
                except Exception:  # made by an incompatible build: rebuild
                    pass
        value = build()
        try:
            data = plaindata.dumps(value)
        except (plaindata.Unstorable, ValueError, RecursionError):
            return value  # not plain data: used, not kept
        if dir_fd is None:
            dir_fd = _open_folder(folder, create=True)
        if dir_fd is not None:
            _write_entry(dir_fd, name, _digest(wanted), data)
            _evict(dir_fd, keep=name)
        return value
    finally:
        if dir_fd is not None:
            os.close(dir_fd)


def _safe(st: os.stat_result) -> bool:
    """A regular file owned by this user that nobody else can write."""
    return stat.S_ISREG(st.st_mode) and st.st_uid == os.geteuid() and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _open_folder(folder: Path, create: bool) -> int | None:
    """The cache folder, opened (not through a symlink) when it is ours; else None."""
    if create:
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError:
            return None
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if st.st_uid != os.geteuid():
            raise PermissionError("another user's cache folder")
        if stat.S_IMODE(st.st_mode) & 0o077:  # ours, but open to others: close it to them
            os.fchmod(fd, 0o700)
    except OSError:
        os.close(fd)
        return None
    return fd


def _read_entry(dir_fd: int, name: str, identity: bytes) -> bytes | None:
    """The entry's payload, when the entry is safe to read, is for this identity and intact."""
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, dir_fd=dir_fd)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not _safe(st):
            return None
        with os.fdopen(os.dup(fd), "rb") as f:
            data = f.read()
        try:
            os.utime(fd)  # used: the newest to keep
        except OSError:
            pass
    except OSError:
        return None
    finally:
        os.close(fd)
    head = len(MAGIC) + 2 * DIGEST
    if len(data) < head or not data.startswith(MAGIC):
        return None
    stored_identity, stored_digest = data[len(MAGIC) : len(MAGIC) + DIGEST], data[len(MAGIC) + DIGEST : head]
    payload = data[head:]
    if stored_identity != identity or _digest(payload) != stored_digest:
        return None  # another identity with the same name, or altered: rebuild
    return payload


def _write_entry(dir_fd: int, name: str, identity: bytes, payload: bytes) -> None:
    """Written aside and renamed into place, so never half-read; the aside file never stays."""
    partial = f"{name}.{os.getpid()}.tmp"
    done = False
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=dir_fd)
        with os.fdopen(fd, "wb") as f:
            f.write(MAGIC + identity + _digest(payload) + payload)
        os.replace(partial, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        done = True
    except OSError:
        pass
    finally:
        if not done:
            try:
                os.unlink(partial, dir_fd=dir_fd)
            except OSError:
                pass


def _evict(dir_fd: int, keep: str) -> None:
    """Keep the ``KEEP`` most recently used entries (``keep`` among them); remove temporary
    files that a process which died left behind."""
    entries = []
    try:
        names = os.listdir(dir_fd)
    except OSError:
        return
    now = time.time()
    for name in names:
        try:
            st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except OSError:
            continue
        if name.endswith(SUFFIX) and name != keep:
            entries.append((st.st_mtime, name))
        elif name.endswith(".tmp") and now - st.st_mtime > STALE_TEMP_SECONDS:
            _remove(dir_fd, name)
    for _, name in sorted(entries, reverse=True)[KEEP - 1 :]:
        _remove(dir_fd, name)


def _remove(dir_fd: int, name: str) -> None:
    try:
        os.unlink(name, dir_fd=dir_fd)
    except OSError:
        pass
