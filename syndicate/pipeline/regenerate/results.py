"""What a regeneration reports: per section and per format (the API, CLI and status show it)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime


@dataclass(slots=True)
class FormatResult:
    format: str
    items: int
    bytes: int
    changed: bool
    etag: str
    # Articles too large for the feed's byte budget on their own (see `render.fit_counted`).
    shortened: tuple[str, ...] = ()
    left_out: tuple[str, ...] = ()
    failed: tuple[tuple[str, str], ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {
            "format": self.format,
            "items": self.items,
            "bytes": self.bytes,
            "changed": self.changed,
            "etag": self.etag,
            "shortened": list(self.shortened),
            "left_out": list(self.left_out),
            "quarantined": [{"id": i, "error": e} for i, e in self.failed],
        }


@dataclass(slots=True)
class SectionResult:
    """The outcome of regenerating one section."""

    section: str
    formats: list[FormatResult] = field(default_factory=list)
    milliseconds: float = 0.0
    generated_at: datetime | None = None
    error: str | None = None
    # The feeds folder could not be written: the new bytes are served from memory anyway, and
    # the files catch up at the next run that can write them.
    files_error: str | None = None
    coalesced: bool = False
    # The store's change seq this run read before its articles: it reflects every change up
    # to here (-1 when the run failed before reading).
    seq: int = -1

    @property
    def changed(self) -> bool:
        return any(f.changed for f in self.formats)

    @property
    def items(self) -> int:
        return max((f.items for f in self.formats), default=0)

    @property
    def warnings(self) -> list[str]:
        """What the feeds carry differently from the store, in words for status."""
        notes: list[str] = []
        for f in self.formats:
            notes += [f"{f.format}: {i} over the byte budget, in summary form" for i in f.shortened]
            notes += [f"{f.format}: {i} over the byte budget, left out" for i in f.left_out]
            notes += [f"{f.format}: {i} left out, it cannot be rendered: {e}" for i, e in f.failed]
        return notes

    def joined(self) -> SectionResult:
        """This result as seen by a caller who joined the run instead of starting one."""
        return replace(self, coalesced=True, files_error=None)

    def as_dict(self) -> dict[str, object]:
        return {
            "section": self.section,
            "items": self.items,
            "bytes": sum(f.bytes for f in self.formats),
            "changed": self.changed,
            "milliseconds": round(self.milliseconds, 2),
            "generated_at": self.generated_at.isoformat() if self.generated_at else None,
            "error": self.error,
            "files_error": self.files_error,
            "warnings": self.warnings,
            "coalesced": self.coalesced,
            "formats": [f.as_dict() for f in self.formats],
        }


def logfmt(value: str | None) -> str:
    """A log value in key=value form: `-` for none, quoted when it has spaces or quotes."""
    if value is None:
        return "-"
    if any(c in value for c in ' "=\n\t'):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'
    return value
