"""Server-rendered pages: one Jinja2 environment (aiohttp-jinja2) for every HTML page we serve.

Templates live in `syndicate/web/templates/` (shipped in the wheel), autoescaped; `base.html`
sets the page's language and direction. Pages for editors and for readers extend it.
"""

from __future__ import annotations

import aiohttp_jinja2
import jinja2
from aiohttp import web

# Scripts written right to left: a page or block in one of these languages reads `dir="rtl"`.
_RTL = frozenset({"ar", "arc", "ckb", "dv", "fa", "he", "ks", "ku", "ps", "sd", "ug", "ur", "yi"})


def direction(language: str | None) -> str:
    """`rtl` or `ltr` for a BCP 47 tag (by its primary language subtag)."""
    primary = (language or "").split("-", 1)[0].lower()
    return "rtl" if primary in _RTL else "ltr"


def setup(app: web.Application) -> None:
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.PackageLoader("syndicate.web", "templates"),
        autoescape=jinja2.select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.globals["direction"] = direction
