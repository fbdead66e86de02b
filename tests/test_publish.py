"""publish(): atomic writes, compressed copies, skip-if-unchanged, paths kept inside feeds/."""

from __future__ import annotations

import gzip
import os
import shutil
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

import brotli
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule

from syndicate.core.compression import gzip_fast
from syndicate.pipeline import publish as publish_module
from syndicate.pipeline.publish import (
    Seen,
    brotli_bytes,
    gzip_bytes,
    gzip_holds,
    publish,
    read_published,
    write_copy,
)

DATA = "<rss>वैश्विक 📈</rss>".encode()


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_publish_writes_file_and_compressed_copies(tmp_path: Path) -> None:
    assert publish(tmp_path, "global", "rss.xml", DATA) is True
    folder = tmp_path / "global"
    assert _files(folder) == ["rss.xml", "rss.xml.br", "rss.xml.gz"]
    assert (folder / "rss.xml").read_bytes() == DATA
    assert gzip.decompress((folder / "rss.xml.gz").read_bytes()) == DATA
    assert brotli.decompress((folder / "rss.xml.br").read_bytes()) == DATA
    for name in _files(folder):
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o644


def test_unchanged_bytes_write_nothing(tmp_path: Path) -> None:
    publish(tmp_path, "global", "rss.xml", DATA)
    folder = tmp_path / "global"
    before = {n: (folder / n).stat() for n in _files(folder)}
    assert publish(tmp_path, "global", "rss.xml", DATA) is False
    after = {n: (folder / n).stat() for n in _files(folder)}
    assert {n: (s.st_ino, s.st_mtime_ns) for n, s in before.items()} == {
        n: (s.st_ino, s.st_mtime_ns) for n, s in after.items()
    }


def test_changed_bytes_replace_all_three(tmp_path: Path) -> None:
    publish(tmp_path, "global", "rss.xml", DATA)
    assert publish(tmp_path, "global", "rss.xml", DATA + b"!") is True
    folder = tmp_path / "global"
    assert (folder / "rss.xml").read_bytes() == DATA + b"!"
    assert gzip.decompress((folder / "rss.xml.gz").read_bytes()) == DATA + b"!"
    assert brotli.decompress((folder / "rss.xml.br").read_bytes()) == DATA + b"!"


def test_missing_copy_is_restored(tmp_path: Path) -> None:
    publish(tmp_path, "global", "rss.xml", DATA)
    (tmp_path / "global" / "rss.xml.gz").unlink()
    assert publish(tmp_path, "global", "rss.xml", DATA) is True
    assert (tmp_path / "global" / "rss.xml.gz").is_file()


def test_a_copy_left_short_is_rewritten_when_its_bytes_are_given(tmp_path: Path) -> None:
    # Files are not fsynced: a crash may leave a copy empty or short. At start every process
    # publishes what the store holds with its copies, and a copy that differs is rewritten.
    from syndicate.pipeline.publish import brotli_bytes

    gz, br = gzip_bytes(DATA), brotli_bytes(DATA)
    publish(tmp_path, "global", "rss.xml", DATA, gz=gz, br=br)
    (tmp_path / "global" / "rss.xml.gz").write_bytes(gz[:5])
    (tmp_path / "global" / "rss.xml.br").write_bytes(b"")
    assert publish(tmp_path, "global", "rss.xml", DATA, gz=gz, br=br) is True
    assert (tmp_path / "global" / "rss.xml.gz").read_bytes() == gz
    assert (tmp_path / "global" / "rss.xml.br").read_bytes() == br
    assert publish(tmp_path, "global", "rss.xml", DATA, gz=gz, br=br) is False


def test_the_fast_gzip_copy_is_gzip_and_deterministic() -> None:
    big = DATA * 5000
    assert gzip.decompress(gzip_fast(big)) == big and gzip_fast(big) == gzip_fast(big)
    assert gzip_fast(big)[4:8] == b"\0\0\0\0"  # mtime 0: the same bytes on every host


def test_gzip_copy_is_deterministic() -> None:
    first = gzip_bytes(DATA)
    assert gzip_bytes(DATA) == first
    assert first[4:8] == b"\0\0\0\0"  # mtime field zero


def test_top_level_file_for_opml(tmp_path: Path) -> None:
    assert publish(tmp_path, None, "opml.xml", b"<opml/>") is True
    assert (tmp_path / "opml.xml").read_bytes() == b"<opml/>"


@pytest.mark.parametrize(
    ("section", "filename"),
    [
        ("..", "rss.xml"),
        ("global", ".."),
        ("global", "../rss.xml"),
        ("global", "a/b.xml"),
        ("global", "/etc/passwd"),
        ("/tmp", "rss.xml"),
        ("Global", "rss.xml"),
        ("global/../x", "rss.xml"),
        ("global", ""),
        ("global", ".hidden"),
        ("", "rss.xml"),
    ],
)
def test_paths_cannot_leave_feeds_dir(tmp_path: Path, section: str, filename: str) -> None:
    with pytest.raises(ValueError):
        publish(tmp_path / "feeds", section, filename, DATA)
    assert not (tmp_path / "feeds").exists()


def test_failed_write_leaves_old_file_and_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish(tmp_path, "global", "rss.xml", DATA)

    def broken(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    monkeypatch.setattr(publish_module, "_swap", lambda new, path: broken(new, str(path)))
    with pytest.raises(OSError):
        publish(tmp_path, "global", "rss.xml", DATA + b"new")
    assert (tmp_path / "global" / "rss.xml").read_bytes() == DATA
    assert _files(tmp_path / "global") == ["rss.xml", "rss.xml.br", "rss.xml.gz"]


@pytest.mark.skipif(publish_module._renameat2 is None, reason="no renameat2 in this C library")
def test_a_feed_is_replaced_by_swapping_names_not_by_renaming_over_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Renaming over a file made ext4 start writing its data out at once (see `_swap`).
    publish(tmp_path, "global", "rss.xml", DATA, mtime=1_700_000_000)
    path = tmp_path / "global" / "rss.xml"
    replaced: list[str] = []
    real_replace = os.replace

    def counted(src: str, dst: str) -> None:
        replaced.append(str(dst))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", counted)
    with path.open("rb") as reader:  # a reader that opened the old file keeps its bytes
        assert publish(tmp_path, "global", "rss.xml", DATA + b"new", mtime=1_700_000_100)
        assert reader.read() == DATA
    assert replaced == []
    assert path.read_bytes() == DATA + b"new"
    assert gzip.decompress((tmp_path / "global" / "rss.xml.gz").read_bytes()) == DATA + b"new"
    assert path.stat().st_mtime == 1_700_000_100
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert _files(tmp_path / "global") == ["rss.xml", "rss.xml.br", "rss.xml.gz"]  # no temps


def test_where_names_cannot_be_swapped_a_feed_is_renamed_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(publish_module, "_renameat2", None)
    publish(tmp_path, "global", "rss.xml", DATA)
    assert publish(tmp_path, "global", "rss.xml", DATA + b"new")
    assert (tmp_path / "global" / "rss.xml").read_bytes() == DATA + b"new"
    assert _files(tmp_path / "global") == ["rss.xml", "rss.xml.br", "rss.xml.gz"]


def test_read_published_loads_what_was_written(tmp_path: Path) -> None:
    publish(tmp_path, "global", "rss.xml", DATA)
    publish(tmp_path, "all", "feed.json", b"{}")
    publish(tmp_path, None, "opml.xml", b"<opml/>")
    (tmp_path / ".gitkeep").touch()
    (tmp_path / "global" / ".rss.xml.abc.tmp").write_bytes(b"partial")
    found = read_published(tmp_path)
    assert found[("global", "rss.xml")] == DATA
    assert gzip.decompress(found[("global", "rss.xml.gz")]) == DATA
    assert found[("all", "feed.json")] == b"{}"
    assert found[(None, "opml.xml")] == b"<opml/>"
    assert not any(name.startswith(".") for _, name in found)
    assert read_published(tmp_path / "missing") == {}


def test_umask_does_not_change_the_mode(tmp_path: Path) -> None:
    old = os.umask(0o077)
    try:
        publish(tmp_path, "global", "atom.xml", DATA)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "global" / "atom.xml").stat().st_mode) == 0o644


def test_a_new_feed_written_before_its_brotli_copy_leaves_no_stale_one(tmp_path: Path) -> None:
    # A run writes a changed feed with its fast .gz and leaves the .br to the small copies,
    # made a moment later: meanwhile brotli_static must not find the old bytes' .br.
    publish(tmp_path, "global", "rss.xml", DATA)
    assert publish(tmp_path, "global", "rss.xml", DATA + b"!", brotli_copy=False) is True
    folder = tmp_path / "global"
    assert gzip.decompress((folder / "rss.xml.gz").read_bytes()) == DATA + b"!"
    assert not (folder / "rss.xml.br").exists()
    # Unchanged bytes keep the .br the small copies made.
    publish(tmp_path, "global", "rss.xml", DATA + b"!")
    assert publish(tmp_path, "global", "rss.xml", DATA + b"!", brotli_copy=False) is False
    assert (folder / "rss.xml.br").is_file()


def test_another_compression_of_the_same_bytes_is_kept(tmp_path: Path) -> None:
    # A new process's first run gzips fast; the folder holds the small copy of the same
    # bytes, made in the background before: it is as good (smaller), and nothing is written.
    body = DATA * 2000
    publish(tmp_path, "global", "rss.xml", body)
    small = tmp_path / "global" / "rss.xml.gz"
    kept = small.read_bytes()
    fast = gzip_fast(body)
    assert fast != kept and gzip.decompress(fast) == body
    assert publish(tmp_path, "global", "rss.xml", body, gz=fast, brotli_copy=False) is False
    assert small.read_bytes() == kept and gzip_holds(small, body)


@pytest.mark.parametrize(
    "damage",
    [
        lambda gz: gz[: len(gz) // 2],  # cut short by a crash
        lambda gz: gz[:-4],  # its size lost
        lambda gz: b"",  # created, never written
        lambda gz: gzip_bytes(DATA + b"older"),  # another feed's bytes
    ],
)
def test_a_gzip_copy_that_does_not_hold_the_feed_is_written_again(
    tmp_path: Path, damage: Callable[[bytes], bytes]
) -> None:
    body = DATA * 2000
    publish(tmp_path, "global", "rss.xml", body)
    copy = tmp_path / "global" / "rss.xml.gz"
    copy.write_bytes(damage(copy.read_bytes()))
    assert not gzip_holds(copy, body)
    assert publish(tmp_path, "global", "rss.xml", body, gz=gzip_fast(body)) is True
    assert gzip.decompress(copy.read_bytes()) == body


def test_a_compressed_copy_already_there_is_not_written_again(tmp_path: Path) -> None:
    publish(tmp_path, "global", "rss.xml", DATA)
    copy = tmp_path / "global" / "rss.xml.br"
    inode = copy.stat().st_ino
    write_copy(tmp_path, "global", "rss.xml", ".br", copy.read_bytes(), mtime=1_700_000_000)
    assert copy.stat().st_ino == inode and copy.stat().st_mtime == 1_700_000_000
    write_copy(tmp_path, "global", "rss.xml", ".br", brotli.compress(DATA + b"!"))
    assert copy.stat().st_ino != inode and brotli.decompress(copy.read_bytes()) == DATA + b"!"


def test_a_feed_this_process_left_as_it_is_is_not_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = Seen()
    gz = gzip_fast(DATA)
    assert publish(tmp_path, "global", "rss.xml", DATA, gz=gz, mtime=1_700_000_000, seen=seen)
    reads: list[Path] = []
    real_open = Path.open

    def counted(self: Path, *args: object, **kwargs: object) -> object:
        reads.append(self)
        return real_open(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "open", counted)
    for _ in range(3):
        again = bytes(DATA)  # equal bytes, another object: a new render of the same feed
        assert not publish(
            tmp_path, "global", "rss.xml", again, gz=gz, mtime=1_700_000_000, seen=seen
        )
    assert reads == []
    # Asked for anything else (a new mtime here), it looks at the files again.
    assert not publish(tmp_path, "global", "rss.xml", DATA, gz=gz, mtime=1_700_000_060, seen=seen)
    assert reads
    assert (tmp_path / "global" / "rss.xml").stat().st_mtime == 1_700_000_060


FEEDS = [DATA, DATA + b"!", "<rss>عاجل</rss>".encode(), b"<rss>" + b"x" * 4000 + b"</rss>"]
NAMES = ["rss.xml", "rss.xml.gz", "rss.xml.br"]


class FolderUnderSeen(RuleBasedStateMachine):
    """Publishing with a `Seen` while anyone else may touch the folder: after every publish
    the feed and its copies hold what was asked, whatever happened to them before."""

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="seen-"))
        self.seen = Seen()
        self.data: bytes | None = None
        self.asked: tuple[bytes, bool, bool, float | None] | None = None

    def teardown(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    @rule(
        data=st.sampled_from(FEEDS),
        fast_gz=st.booleans(),
        brotli_copy=st.booleans(),
        mtime=st.sampled_from([None, 1_700_000_000.0]),
    )
    def publish(self, data: bytes, fast_gz: bool, brotli_copy: bool, mtime: float | None) -> None:
        self.asked = (data, fast_gz, brotli_copy, mtime)
        self._publish()

    @rule()
    def publish_the_same_again(self) -> None:  # the hourly pass: the case `Seen` is for
        if self.asked is not None:
            self._publish()

    def _publish(self) -> None:
        assert self.asked is not None
        data, fast_gz, brotli_copy, mtime = self.asked
        # As a run asks: the gzip copy it has (fast, or the small one once made), the
        # brotli copy once made; the same bytes in new objects, as a new render gives them.
        gz = gzip_fast(data) if fast_gz else gzip_bytes(data)
        br = brotli_bytes(data) if brotli_copy else None
        publish(
            self.folder, "s", "rss.xml", bytes(data),
            gz=gz, br=br, brotli_copy=brotli_copy, mtime=mtime, seen=self.seen,
        )  # fmt: skip
        self.data = data
        section = self.folder / "s"
        assert (section / "rss.xml").read_bytes() == data
        assert gzip.decompress((section / "rss.xml.gz").read_bytes()) == data
        if brotli_copy:  # else it is left for later (`write_copy`), not looked at
            assert brotli.decompress((section / "rss.xml.br").read_bytes()) == data
        if mtime is not None:  # the .br left for later gets its time when it is made
            written = NAMES if brotli_copy else NAMES[:2]
            assert {(section / n).stat().st_mtime for n in written} == {mtime}

    @rule(name=st.sampled_from(NAMES), how=st.sampled_from(["remove", "same size", "other"]))
    def someone_else_touches(self, name: str, how: str) -> None:
        path = self.folder / "s" / name
        if not path.exists():
            return
        if how == "remove":
            path.unlink()
        elif how == "same size":  # in place, times put back (rsync -t): only the ctime tells
            before = path.stat()
            with path.open("r+b") as fh:
                fh.write(b"\0" * before.st_size)
            os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
        else:
            other = path.with_name(".other")
            other.write_bytes(b"not a feed")
            os.replace(other, path)

    @rule(suffix=st.sampled_from([".gz", ".br"]))
    def the_small_copy_arrives(self, suffix: str) -> None:
        if self.data is None:
            return
        made = gzip_bytes(self.data) if suffix == ".gz" else brotli.compress(self.data)
        write_copy(self.folder, "s", "rss.xml", suffix, made)


TestFolderUnderSeen = FolderUnderSeen.TestCase
TestFolderUnderSeen.settings = settings(max_examples=200, stateful_step_count=12, deadline=None)
