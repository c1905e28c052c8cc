"""A built corpus kept in a file next to the database, so that a process starts without
building it, and several processes (``matcher serve --workers N``) share its pages.

One file per state of the data: ``<db>.corpus/corpus-<parts>-<data>.bin``. ``parts`` is a
digest of what the corpus is made from besides the records: the embedders and their models,
the glossary, the reference data, the scorers and the code that builds it; ``data`` a digest
of the store's data token and vectors token (random values that change with every write of
records or vectors, :meth:`matcher.store.Store.corpus_tokens`). A file is used as the
current corpus only under its whole key. A process that finds none starts from the newest
file of the same ``parts`` (:func:`load_latest`) and brings it up to date with the records
written since (``Engine._update``). The file is written to a temporary name and renamed into place (a crash mid-write
leaves no file under the key), and every part of it carries a checksum (a damaged file is
rebuilt, not trusted).

Layout: a magic line, the header's length, a JSON header (the key, and the offset, length and
CRC-32 of each part), then the parts, each aligned to 64 bytes: the pickled corpus (protocol 5)
and the raw buffers of its numpy arrays, pickled out of band. Loading maps the file read-only
and hands those buffers to the unpickler, so the arrays (the vector matrices above all) are
views of the mapped file: read-only, read from disk once, shared by every process that maps it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import mmap
import os
import pickle
import struct
import sys
import tempfile
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from matcher.ranking.corpus import Corpus

log = logging.getLogger(__name__)

FORMAT = 2
MAGIC = b"delve-corpus\n"
ALIGN = 64
STALE_TEMP_S = 3600  # a temporary file older than this was left by a crash: removed


def cache_folder(db: str | Path) -> Path | None:
    """Where the corpus files of database ``db`` go; None for an in-memory database."""
    text = str(db)
    if not text or text == ":memory:" or text.startswith("file::memory:"):
        return None
    path = Path(text)
    return path.with_name(path.name + ".corpus")


def key_of(parts: dict) -> str:
    """The key of a corpus made from ``parts`` (any JSON-able description)."""
    raw = json.dumps({"format": FORMAT, **parts}, sort_keys=True, default=str)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]


def code_digest(modules: list[str]) -> str:
    """A digest of the source of ``modules`` (imported ones): a changed scorer or builder
    is a changed corpus."""
    digest = hashlib.sha256()
    for name in sorted(set(modules)):
        module = sys.modules.get(name)
        path = getattr(module, "__file__", None)
        digest.update(name.encode())
        if path and os.path.isfile(path):
            digest.update(Path(path).read_bytes())
    return digest.hexdigest()[:32]


@contextmanager
def building(folder: Path) -> Iterator[None]:
    """One process at a time builds a corpus for this database (the others wait, then read
    the file it saved rather than build the same again); a lock file's advisory lock, let go
    when the process ends, however it ends."""
    try:
        import fcntl
    except ImportError:  # no advisory locks here: each process builds its own
        yield
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle = open(folder / "build.lock", "a+b")  # noqa: SIM115 (held across the yield)
    except OSError:
        yield
        return
    with handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def path_for(folder: Path, key: str) -> Path:
    return folder / f"corpus-{key}.bin"


def save(folder: Path, key: str, corpus: Corpus) -> Path | None:
    """Write ``corpus`` under ``key`` (atomically); the path, or None when it cannot be
    written (an unpicklable scorer state, a read-only folder: the corpus then lives in memory
    only). Older corpus files of the folder are removed."""
    buffers: list[pickle.PickleBuffer] = []
    bare = replace(corpus, ref=None, glossary=None)
    try:
        body = pickle.dumps(bare, protocol=5, buffer_callback=buffers.append)
    except Exception as exc:  # a plugin's state that does not pickle: no file, no harm
        log.warning("corpus not cached: %s", exc)
        return None
    raws = [buffer.raw() for buffer in buffers]
    parts, offset = [], 0
    for data in (body, *raws):
        parts.append([offset, len(data), zlib.crc32(data)])
        offset = _aligned(offset + len(data))
    header = json.dumps({"format": FORMAT, "key": key, "parts": parts}).encode()
    start = _aligned(len(MAGIC) + 8 + len(header))
    target = path_for(folder, key)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=".tmp-corpus-", dir=folder)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(MAGIC + struct.pack("<Q", len(header)) + header)
                for (part_offset, _, _), data in zip(parts, (body, *raws), strict=True):
                    out.seek(start + part_offset)
                    out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temp, 0o644)  # as readable as a file written the usual way
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        log.warning("corpus not cached in %s: %s", folder, exc)
        return None
    finally:
        for buffer in buffers:
            buffer.release()
    _prune(folder, keep=target)
    return target


def load(folder: Path, key: str) -> Corpus | None:
    """The corpus saved under ``key``, its arrays mapped read-only from the file; None when
    there is none, or when the file is damaged (it is then removed: the caller rebuilds)."""
    path = path_for(folder, key)
    try:
        with open(path, "rb") as handle:
            mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    except (FileNotFoundError, ValueError):  # none yet (ValueError: an empty file)
        if path.exists():
            _discard(path, "empty")
        return None
    except OSError as exc:
        log.warning("corpus cache %s unreadable: %s", path, exc)
        return None
    try:
        return _read(mapped, key)
    except Exception as exc:  # damaged or foreign: rebuilt, never trusted
        _discard(path, str(exc) or type(exc).__name__)
        return None


def load_latest(folder: Path, parts: str) -> Corpus | None:
    """The newest sound corpus file whose key begins with ``parts``, whatever its data."""
    try:
        found = sorted(folder.glob(f"corpus-{parts}-*.bin"), key=_modified, reverse=True)
    except OSError:
        return None
    for path in found:
        corpus = load(folder, path.name[len("corpus-"):-len(".bin")])
        if corpus is not None:
            return corpus
    return None


def _modified(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _read(mapped: mmap.mmap, key: str) -> Corpus:
    view = memoryview(mapped)
    if bytes(view[:len(MAGIC)]) != MAGIC:
        raise ValueError("not a corpus file")
    (length,) = struct.unpack("<Q", view[len(MAGIC):len(MAGIC) + 8])
    if length > len(view):
        raise ValueError("truncated header")
    header = json.loads(bytes(view[len(MAGIC) + 8:len(MAGIC) + 8 + length]))
    if header.get("format") != FORMAT or header.get("key") != key:
        raise ValueError("another format or key")
    start = _aligned(len(MAGIC) + 8 + length)
    slices = []
    for offset, size, crc in header["parts"]:
        begin, end = start + offset, start + offset + size
        if end > len(view):
            raise ValueError("truncated")
        part = view[begin:end]
        if zlib.crc32(part) != crc:
            raise ValueError("checksum mismatch")
        slices.append(part)
    corpus = pickle.loads(slices[0], buffers=slices[1:])
    if not isinstance(corpus, Corpus):
        raise ValueError("not a corpus")
    return corpus


def _aligned(offset: int) -> int:
    return (offset + ALIGN - 1) // ALIGN * ALIGN


def _discard(path: Path, why: str) -> None:
    log.warning("corpus cache %s damaged (%s): rebuilding it", path.name, why)
    path.unlink(missing_ok=True)


def _prune(folder: Path, keep: Path) -> None:
    """Remove the older corpus files (a process that maps one keeps its pages until it lets
    go) and temporary files left by a crash."""
    now, ours = time.time(), keep.stat().st_mtime
    for path in folder.iterdir():
        try:
            if path.name.startswith("corpus-") and path != keep \
                    and path.stat().st_mtime <= ours:  # a newer one is another's: left
                path.unlink()
            elif path.name.startswith(".tmp-corpus-") and now - path.stat().st_mtime > STALE_TEMP_S:
                path.unlink()
        except OSError:
            pass
