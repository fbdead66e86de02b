"""The desk's import page: an editor pastes a scraped page or uploads an HTML (or text) file,
sees what importing it would store (the dry run: every field, what was dropped and why), then
imports it. The one import path, `syndicate.pipeline.imports.import_page`, as
`syndicate import page` and `POST /api/import/page` take it, with the API's option checks and
after-import notices.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from aiohttp import web
from aiohttp.web_request import FileField

from syndicate.core.errors import FieldError, InvalidRequest
from syndicate.importing.page import MAX_PAGE_BYTES, PageKind, decode, page_kind
from syndicate.pipeline.imports import ImportResult, PageOptions, import_page
from syndicate.validate import sanitise_html
from syndicate.web.articles_api import state_of
from syndicate.web.changes import page_imported
from syndicate.web.desk.common import redirect, render, require_editor, signed_in
from syndicate.web.desk.forms import LABELS as RECORD_LABELS
from syndicate.web.desk.session import Posted, checked_post
from syndicate.web.import_api import page_options
from syndicate.web.keys import CLOCK, SETTINGS, STORE

KINDS = {"auto": "Recognise it", "text": "Plain text", "html": "HTML"}
# Only these say what a file is; a browser calls an unknown file application/octet-stream.
_MEDIA_TYPES = ("text/html", "application/xhtml+xml", "text/plain")
MAX_OPTION_CHARS = 2048  # a language tag, a URL, a time: short by nature
LABELS = {
    "text": "Page",
    "file": "Or upload a file",
    "kind": "Format",
    "sections": "Sections",
    "language": "Language",
    "url": "Canonical URL",
    "published": "Published",
}
# Where a record field's error shows: beside the option that set it, else beside the page.
_OPTION_OF = {
    "sections": "sections",
    "language": "language",
    "canonical_url": "url",
    "published": "published",
}


@dataclass(slots=True)
class ImportForm:
    """The import form as posted (an uploaded file's text moved into `text`)."""

    text: str = ""
    kind: str = "auto"
    sections: list[str] = field(default_factory=list)
    language: str = ""
    url: str = ""
    published: str = ""
    action: str = "preview"
    previewed: str = ""  # the digest of the form the shown preview was made from
    file_name: str = ""

    def page_kind(self) -> PageKind:
        if self.kind in ("text", "html"):
            return "html" if self.kind == "html" else "text"
        return page_kind(self.text[:1024].encode("utf-8"))

    def digest(self) -> str:
        """What the preview was made from: Import stores only a page that was previewed."""
        parts = [self.text, self.page_kind(), self.sections, self.language, self.url]
        parts.append(self.published)
        return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()


def _one(posted: Posted, name: str) -> str:
    value = posted.get(name)
    return value if isinstance(value, str) else ""


def read_form(posted: Posted) -> tuple[ImportForm, dict[str, list[str]]]:
    """The form and the problems found reading it, by field; sizes are bounded here."""
    errors: dict[str, list[str]] = {}
    form = ImportForm(
        text=_one(posted, "text").replace("\r\n", "\n"),
        kind=k if (k := _one(posted, "kind")) in KINDS else "auto",
        sections=[s for s in posted.getall("sections", []) if isinstance(s, str) and s][:100],
        action="import" if _one(posted, "action") == "import" else "preview",
        previewed=_one(posted, "previewed")[:64],
    )
    for name in ("language", "url", "published"):
        value = _one(posted, name).strip()
        if len(value) > MAX_OPTION_CHARS:
            errors[name] = [f"{len(value)} characters; at most {MAX_OPTION_CHARS}"]
            value = value[:MAX_OPTION_CHARS]
        setattr(form, name, value)
    upload = posted.get("file")
    if isinstance(upload, FileField) and upload.filename:
        data = upload.file.read(MAX_PAGE_BYTES + 1)
        if len(data) > MAX_PAGE_BYTES:
            errors["file"] = [f"{upload.filename}: more than {MAX_PAGE_BYTES} bytes; a page is"
                              f" at most {MAX_PAGE_BYTES // (1024 * 1024)} MB"]  # fmt: skip
        elif data:
            media = upload.content_type if upload.content_type in _MEDIA_TYPES else None
            # A chosen file replaces the text: it is shown there, to preview and import.
            form.kind = page_kind(data, upload.filename, media)
            form.text = decode(data, _charset(upload))
            form.file_name = upload.filename[:200]
        else:
            errors["file"] = [f"{upload.filename}: the file is empty"]
    size = len(form.text.encode("utf-8"))
    if size > MAX_PAGE_BYTES:
        errors.setdefault("text", []).append(f"the page is {size} bytes, at most {MAX_PAGE_BYTES}")
    elif not form.text.strip() and "file" not in errors:
        errors.setdefault("text", []).append("paste the page here, or choose a file below")
    return form, errors


def _charset(upload: FileField) -> str | None:
    charset = upload.headers.get("Content-Type", "").partition("charset=")[2].strip(' "')
    return charset or None


def place(errors: list[FieldError]) -> dict[str, list[str]]:
    """Errors by form field: an option's beside it, everything about the page beside the page."""
    placed: dict[str, list[str]] = {}
    for error in errors:
        head = error.path.split("/")[1] if error.path.startswith("/") else ""
        name = _OPTION_OF.get(head, "text")
        about_page = name == "text" and error.path not in ("", "/headline", "/body_html")
        message = f"{error.path}: {error.message}" if about_page else error.message
        placed.setdefault(name, []).append(message)
    return placed


async def import_form(request: web.Request) -> web.Response:
    require_editor(await signed_in(request))
    return await _page(request, ImportForm())


async def import_submit(request: web.Request) -> web.Response:
    session, posted = await checked_post(request)
    require_editor(session)
    form, errors = read_form(posted)
    settings = request.config_dict[SETTINGS]
    options = PageOptions()
    try:
        options = page_options(
            settings,
            form.sections,
            form.language or None,
            form.url or None,
            form.published or None,
        )
    except InvalidRequest as exc:
        for name, found in place(exc.errors).items():
            errors.setdefault(name, []).extend(found)
    if errors:
        return await _page(request, form, errors=errors, status=422)
    now = request.config_dict[CLOCK]()
    kind = form.page_kind()
    previewed = form.action == "import" and form.previewed == form.digest()
    if previewed:
        store = request.config_dict[STORE]
        result = await import_page("desk", form.text, kind, settings, store, options, now=now)
        page_imported(request.config_dict, result)
        if result.outcome != "rejected" and result.id is not None:
            return redirect(f"/desk/articles/{quote(result.id)}?saved={result.outcome}")
    else:
        result = await import_page("desk", form.text, kind, settings, None, options, now=now)
    # Import without a preview of this very page shows the preview instead, storing nothing.
    stale = form.action == "import" and not previewed
    status = 422 if result.outcome == "rejected" else 409 if stale else 200
    return await _page(
        request, form, result=result, errors=place(result.errors), stale=stale, status=status
    )


async def _page(
    request: web.Request,
    form: ImportForm,
    *,
    result: ImportResult | None = None,
    errors: dict[str, list[str]] | None = None,
    stale: bool = False,
    status: int = 200,
) -> web.Response:
    settings = request.config_dict[SETTINGS]
    stored = None
    if result is not None and result.id is not None:
        stored = await request.config_dict[STORE].get(result.id)
    record: dict[str, Any] = dict(result.record or {}) if result else {}
    valid = result is not None and result.outcome == "valid"
    return await render(
        request,
        "import.html",
        {
            "nav": "import",
            "form": form,
            "values": form,
            "errors": errors or {},
            "labels": LABELS,
            "preview_labels": {
                **RECORD_LABELS,
                "image": "Image",
                "rights": "Rights",
                "guid": "GUID",
            },
            "kinds": KINDS,
            "sections": settings.sections,
            "section_title": {s.slug: s.title_in("en") for s in settings.sections},
            "result": result,
            "record": record,
            # The body as readers will see it: sanitised as storing it would.
            "body": sanitise_html(record["body_html"]) if record.get("body_html") else "",
            "stored": stored,
            "stored_state": state_of(stored, request.config_dict[CLOCK]()) if stored else None,
            "digest": form.digest() if valid else "",
            "stale": stale,
            "max_mb": MAX_PAGE_BYTES // (1024 * 1024),
        },
        status,
    )
