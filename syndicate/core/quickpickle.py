"""Pickling frozen, slotted dataclasses quickly: their state as one tuple of field values.

A section's articles reach a render worker by pickle. Python's own state functions for
slotted dataclasses call `fields()` for every object they pickle: in a full pass that was
most of the serving process's CPU spent on sending articles (~10 ms a section), beside the
rendering itself in the workers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import MISSING, fields
from operator import attrgetter
from typing import Any, TypeVar

T = TypeVar("T")


def quick_pickle(*, leave_out: Iterable[str] = ()) -> Callable[[type[T]], type[T]]:
    """A class decorator (above `@dataclass`): pickle the fields as one tuple; fields in
    `leave_out` are not sent and come back as their default."""

    def apply(cls: type[T]) -> type[T]:
        skipped = set(leave_out)
        kept = tuple(f.name for f in fields(cls) if f.name not in skipped)  # type: ignore[arg-type]
        blanks: list[tuple[str, Callable[[], Any]]] = []
        for f in fields(cls):  # type: ignore[arg-type]
            if f.name not in skipped:
                continue
            if f.default_factory is not MISSING:
                blanks.append((f.name, f.default_factory))
            elif f.default is not MISSING:
                blanks.append((f.name, _constant(f.default)))
            else:
                raise TypeError(f"{cls.__name__}.{f.name} has no default to come back as")

        values = attrgetter(*kept)  # in C; one name gives the value itself, not a tuple
        single = len(kept) == 1

        def __getstate__(self: Any) -> tuple[Any, ...]:
            return (values(self),) if single else values(self)  # type: ignore[no-any-return]

        def __setstate__(self: Any, state: tuple[Any, ...]) -> None:
            for name, value in zip(kept, state, strict=True):
                object.__setattr__(self, name, value)
            for name, blank in blanks:
                object.__setattr__(self, name, blank())

        cls.__getstate__ = __getstate__  # type: ignore[attr-defined,method-assign]
        cls.__setstate__ = __setstate__  # type: ignore[attr-defined,method-assign]
        return cls

    return apply


def _constant(value: Any) -> Callable[[], Any]:
    return lambda: value
