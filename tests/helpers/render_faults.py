"""Renderer workers that fail the hard way (and one that says where it ran), for the render
pool's tests (importable by the worker processes, which is why they live in a module of
their own)."""

from __future__ import annotations

import os
import time
from typing import Any


def crash(*args: Any) -> Any:
    os._exit(3)  # the worker process dies mid-render, as a segfaulting library would


def hang(*args: Any) -> Any:
    time.sleep(3600)


def whose(*args: Any) -> Any:
    """Not a fault: which worker process ran the task (for the pool's affinity test)."""
    return os.getpid()


def whose_later(*args: Any) -> Any:
    """`whose`, a moment later: the worker stays busy meanwhile."""
    time.sleep(0.3)
    return os.getpid()
