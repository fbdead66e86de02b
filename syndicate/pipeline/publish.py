"""Atomic, skip-if-unchanged writes of rendered feeds into `feeds/`, with .gz and .br copies.

Readers never see a half-written file: each file is written to a temp file in the same
folder, made 0644 and put in the old one's place by swapping their names (or renaming).
No rendering, no store here.

Files are not fsynced: the folder is a copy of what the store holds (memory is the truth for
serving, the store for restarts), and every process rewrites at start any file, or copy,
whose bytes differ from the store's (`publish` compares them; a `.gz` copy by its trailer,
the CRC-32 and size of what it holds), so a write a crash left unflushed is repaired then.
An fsync per file cost a dirty pass ~3.5 ms of its 30.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import struct
import tempfile
import time
from pathlib import Path

import brotli
from zlib_ng import gzip_ng, zlib_ng

from syndicate.core.config import ALL_SECTION, SLUG_RE

_FILENAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*$")
COMPRESSED_SUFFIXES = (".gz", ".br")
MODE = 0o644
# Compression runs on every changed feed. On the regeneration's critical path (a 300 KB
# 50-item feed, this corpus): zlib-ng's level 6 took 5.4 ms a document, more than rendering
# it. So a changed feed is served at once with the fast copy (`core.compression`), and the
# small ones follow in the background, in a render worker: gzip by zlib-ng at level 6
# (level 9 buys <1% more for twice the time) and brotli. Brotli 11 costs ~370 ms per feed,
# 9 ~14 ms, 6 ~5.9 ms, 4 ~4.5 ms; quality 4 came out 12% larger than gzip 6 on this corpus,
# 6 is 6.5% smaller.
GZIP_LEVEL = 6
BROTLI_QUALITY = 6


def _check_slug(section_slug: str | None) -> None:
    if section_slug is None:
        return
    if section_slug != ALL_SECTION and not SLUG_RE.match(section_slug):
        raise ValueError(f"publish: not a section slug: {section_slug!r}")


def _check_filename(filename: str) -> None:
    # One plain name: no separators, no `..`, no leading dot (temp files start with one).
    if len(filename) > 128 or not _FILENAME_RE.match(filename):
        raise ValueError(f"publish: not a plain file name: {filename!r}")


def feed_path(feeds_dir: Path, section_slug: str | None, filename: str) -> Path:
    """`feeds_dir/section/filename` (or `feeds_dir/filename` for None), validated."""
    _check_slug(section_slug)
    _check_filename(filename)
    folder = feeds_dir if section_slug is None else feeds_dir / section_slug
    return folder / filename


def gzip_bytes(data: bytes) -> bytes:
    """Deterministic gzip (mtime 0, no file name): same input, same bytes."""
    return bytes(gzip_ng.compress(data, compresslevel=GZIP_LEVEL, mtime=0))  # type: ignore[no-untyped-call]


def brotli_bytes(data: bytes) -> bytes:
    return bytes(brotli.compress(data, mode=brotli.MODE_TEXT, quality=BROTLI_QUALITY))


def small_copies(data: bytes) -> tuple[bytes, bytes]:
    """The copies made off the critical path: (gzip at `GZIP_LEVEL`, brotli)."""
    return gzip_bytes(data), brotli_bytes(data)


def _holds(path: Path, data: bytes) -> bool:
    """Whether the file holds `data`; read only when its size says it may (a full pass
    read every feed's copy, ~100 KB, to find that another compression of it differs)."""
    try:
        with path.open("rb") as fh:
            return os.fstat(fh.fileno()).st_size == len(data) and fh.read() == data
    except FileNotFoundError:
        return False


def write_atomic(path: Path, data: bytes, *, mtime: float | None = None) -> None:
    """Replace `path` with `data` so that readers see either the old or the new bytes.

    `mtime` (Unix seconds) is set before the rename, so no reader sees the new bytes with
    another time: a static server's Last-Modified and ETag (mtime and size) come from it.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()  # before the times are set: a later write would move them
            os.fchmod(fd, MODE)  # mkstemp creates 0600; feeds are public
            if mtime is not None:
                os.utime(fd, (mtime, mtime))  # by descriptor: no second path lookup
        if not _swap(tmp, path):
            os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


# Linux's renameat2(2), where the C library has it: `_swap` below.
_renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _swap(new: str, path: Path) -> bool:
    """Put the file `new` under the existing name `path`, its old file now at `new`, and
    remove that; False (nothing done) where the system cannot (then: `os.replace`).

    Why not `os.replace`: renaming over an existing file made ext4 start writing the new
    file's data out there and then (its `auto_da_alloc`, for programs that do not fsync), 0.39
    ms a rename here, and a dirty pass makes 24. Swapping the two names took 0.015 ms.
    Readers see the old bytes or the new, as with a rename. A crash may leave the new file's
    data unwritten, as without the swap's flush: publishing repairs it (see the top).
    """
    if _renameat2 is None:
        return False
    if _renameat2(_AT_FDCWD, os.fsencode(new), _AT_FDCWD, os.fsencode(path), _RENAME_EXCHANGE):
        return False  # no old file (ENOENT), or a system without the swap (EINVAL, ENOSYS)
    with contextlib.suppress(FileNotFoundError):  # the old bytes, under the temp name now
        os.unlink(new)
    return True


def publish(
    feeds_dir: Path,
    section_slug: str | None,
    filename: str,
    data: bytes,
    *,
    gz: bytes | None = None,
    br: bytes | None = None,
    brotli_copy: bool = True,
    mtime: float | None = None,
    seen: Seen | None = None,
) -> bool:
    """Write a feed and its `.gz`/`.br` copies; False (nothing written) if already current.

    `section_slug` None publishes at the top of `feeds_dir` (e.g. `opml.xml`). The copies are
    written before the main file, so an unchanged main file means the copies are current too.
    Pass `gz`/`br` when they are already made (the serving cache makes them) to compress once.
    `brotli_copy=False` leaves the `.br` copy to a later `write_copy` (it is made off the
    regeneration's critical path).
    `mtime` is given to the file and its copies: the feed's own Last-Modified, so that every
    host publishing the same bytes shows a static server the same times (and nginx, whose
    ETag is made of mtime and size, the same ETags). An unchanged file gets it too.
    `seen`: what this process last found current (see `Seen`); unchanged files are not read.
    """
    path = feed_path(feeds_dir, section_slug, filename)
    gz_path = path.with_name(path.name + ".gz")
    br_path = path.with_name(path.name + ".br")
    files = (path, gz_path, br_path)
    asked = (data, gz, br, brotli_copy, mtime)
    if seen is not None and seen.current(files, asked):
        return False
    written = _publish(files, data, gz, br, brotli_copy=brotli_copy, mtime=mtime)
    if seen is not None:
        seen.note(files, asked)
    return written


def _publish(
    files: tuple[Path, Path, Path],
    data: bytes,
    gz: bytes | None,
    br: bytes | None,
    *,
    brotli_copy: bool,
    mtime: float | None,
) -> bool:
    path, gz_path, br_path = files
    copies = [(gz_path, gz, gzip_bytes)]
    if brotli_copy:
        copies.append((br_path, br, brotli_bytes))
    if path.parent.is_dir():
        sweep_leftovers(path)
    # Copies given are compared (at start, a crash may have left one short): a `.gz` by what
    # it holds, so the small copy of the same bytes stays rather than be replaced by the
    # fast one a run made (a new process's first pass rewrote every feed for that); copies to
    # be made are only looked for.
    if _holds(path, data) and all(
        (_holds(p, ready) or (p is gz_path and gzip_holds(p, data)))
        if ready is not None
        else p.is_file()
        for p, ready, _ in copies
    ):
        if mtime is not None:
            _set_mtime([path, *(p for p, _, _ in copies)], mtime)
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    for copy_path, ready, compress in copies:
        write_atomic(copy_path, ready if ready is not None else compress(data), mtime=mtime)
    if not brotli_copy:
        # The old bytes' .br beside the new feed would be served (nginx's brotli_static)
        # until the new one is made: none is better than a stale one.
        with contextlib.suppress(FileNotFoundError):
            br_path.unlink()
    write_atomic(path, data, mtime=mtime)
    return True


Stat = tuple[int, int, int, int] | None  # a file's inode, size, mtime and ctime; None: none


def _stat(path: Path) -> Stat:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


class Seen:
    """What `publish` last found current in the folder, for each feed: what it was asked to
    publish (the bytes themselves, held anyway by the serving cache) and the stat of the
    feed and its copies after. Asked the same again, with every file as it was, `publish`
    reads nothing: a full pass where nothing changed read and compared every feed and copy
    in the folder, ~1.2 MB and ten system calls a feed (0.23 ms; ~15 ms a 20-section pass,
    on threads whose every system call took the GIL from the readers' loop), where three
    stats do. Any change to a file (a write, a rename over it, removal, another process's
    swap) changes its inode or ctime, which no program can set back; then `publish` looks at
    the files again. One per process: what it holds is true of this process's own writes.
    """

    def __init__(self) -> None:
        self._feeds: dict[Path, tuple[tuple[object, ...], tuple[Stat, ...]]] = {}

    def current(self, files: tuple[Path, ...], asked: tuple[object, ...]) -> bool:
        known = self._feeds.pop(files[0], None)  # taken out: put back only once checked
        if known is None or not _same(known[0], asked):
            return False
        stats = tuple(_stat(f) for f in files)
        if stats != known[1]:
            return False
        self._feeds[files[0]] = known
        return True

    def note(self, files: tuple[Path, ...], asked: tuple[object, ...]) -> None:
        """`asked` was found or made current just now."""
        self._feeds[files[0]] = (asked, tuple(_stat(f) for f in files))


def _same(a: tuple[object, ...], b: tuple[object, ...]) -> bool:
    # The same objects, mostly (the served bytes): `==` only when they are not.
    return all(x is y or x == y for x, y in zip(a, b, strict=True))


def gzip_holds(path: Path, data: bytes) -> bool:
    """Whether the gzip file at `path` is a whole copy of `data`, by its trailer: the CRC-32
    and size of what it holds (RFC 1952), checked against `data` (~35 us for 300 KB). A file
    cut short ends in other bytes. Any compression of the same bytes will do."""
    try:
        with path.open("rb") as fh:
            if fh.read(2) != b"\x1f\x8b" or os.fstat(fh.fileno()).st_size < 20:
                return False
            fh.seek(-8, os.SEEK_END)
            trailer = fh.read(8)
    except FileNotFoundError:
        return False
    crc, size = struct.unpack("<II", trailer)
    return bool(size == len(data) & 0xFFFFFFFF and crc == zlib_ng.crc32(data))


def _set_mtime(paths: list[Path], mtime: float) -> None:
    # Files written before mtimes were set, or by a host whose render came second.
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            if path.stat().st_mtime != mtime:
                os.utime(path, (mtime, mtime))


# Older than this, a temp file is no one's write in progress (a write takes milliseconds; a
# process of a scale-out may be writing the same feed right now, so younger ones stay).
LEFTOVER_SECONDS = 60.0


def sweep_leftovers(path: Path, *, older_than: float = LEFTOVER_SECONDS) -> int:
    """Remove the temp files of `path` and its copies left by a killed writer; how many.

    A write killed between creating its temp file and the rename (SIGKILL, power loss)
    leaves `.rss.xml.<random>.tmp`. Readers never see it under a feed's name, but the folder
    would keep it forever.
    """
    removed = 0
    # Not the service's clock: a file's age is judged by the clock that stamped its mtime
    # (the OS's). A test's fixed clock must not make another writer's temp file look old.
    limit = time.time() - older_than
    for leftover in path.parent.glob(f".{path.name}*.tmp"):
        with contextlib.suppress(FileNotFoundError):
            if leftover.stat().st_mtime < limit:
                leftover.unlink()
                removed += 1
    return removed


def write_copy(
    feeds_dir: Path,
    section_slug: str | None,
    filename: str,
    suffix: str,
    data: bytes,
    *,
    mtime: float | None = None,
) -> None:
    """Write one compressed copy (`.br`) of an already published feed, atomically."""
    if suffix not in COMPRESSED_SUFFIXES:
        raise ValueError(f"publish: not a compressed copy suffix: {suffix!r}")
    path = feed_path(feeds_dir, section_slug, filename).with_name(filename + suffix)
    if _holds(path, data):  # the same copy, made for the same bytes by an earlier run
        if mtime is not None:
            _set_mtime([path], mtime)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, data, mtime=mtime)


def read_published(feeds_dir: Path) -> dict[tuple[str | None, str], bytes]:
    """Every published file, keyed by (section or None for top level, file name).

    Compressed copies are included under their own names (`rss.xml.gz`); temp files and
    anything that is not a valid section/file name are skipped.
    """
    found: dict[tuple[str | None, str], bytes] = {}
    if not feeds_dir.is_dir():
        return found
    for entry in sorted(feeds_dir.iterdir()):
        if entry.is_file() and _FILENAME_RE.match(entry.name):
            found[(None, entry.name)] = entry.read_bytes()
        elif entry.is_dir() and (entry.name == ALL_SECTION or SLUG_RE.match(entry.name)):
            for file in sorted(entry.iterdir()):
                if file.is_file() and _FILENAME_RE.match(file.name):
                    found[(entry.name, file.name)] = file.read_bytes()
    return found
