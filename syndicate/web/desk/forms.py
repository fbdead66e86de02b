"""The write form: an article record as form fields and back, and errors placed by field.

Fields are named after the record (nested ones joined with `_`: `image_url`); validation
errors are the API's JSON pointers, shown beside the field they name. Fields the form does
not show (an image's byte length, fields added later) are carried over from the version
being edited, so saving from the desk never drops what another tool wrote.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from syndicate.core.errors import FieldError

Form = Mapping[str, Sequence[str]]

LABELS = {
    "id": "ID",
    "headline": "Headline",
    "summary": "Summary",
    "body_html": "Body",
    "language": "Language",
    "sections": "Sections",
    "published": "Published",
    "updated": "Updated",
    "embargo_until": "Embargo until",
    "canonical_url": "Canonical URL",
    "tags": "Tags",
    "subjects": "Subjects",
    "authors": "Authors",
    "image_url": "Image URL",
    "image_caption": "Image caption",
    "image_credit": "Image credit",
    "image_width": "Image width",
    "image_height": "Image height",
    "image_mime_type": "Image type",
    "related": "Related",
    "urgency": "Urgency",
    "rights_holder": "Rights holder",
    "rights_usage_terms": "Usage terms",
    "editorial_note": "Editorial note",
}
_TEXT = ("id", "headline", "language", "published", "updated", "embargo_until", "canonical_url")
_LONG_TEXT = ("summary", "body_html", "editorial_note")
_IMAGE = ("url", "caption", "credit", "width", "height", "mime_type")
_RIGHTS = ("holder", "usage_terms")
_HANDLED = {*_TEXT, *_LONG_TEXT, "sections", "tags", "subjects", "authors", "image", "related"}
_HANDLED |= {"urgency", "rights"}


def _one(form: Form, name: str) -> str:
    values = form.get(name) or [""]
    return values[0]


def _number(text: str) -> int | str:
    # A whole number goes in as one; anything else goes in as typed, so the validator names it.
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else text


def _split(text: str, separators: str = ",\n") -> list[str]:
    for sep in separators[1:]:
        text = text.replace(sep, separators[0])
    return [part.strip() for part in text.split(separators[0]) if part.strip()]


def _author(line: str) -> dict[str, Any]:
    parts = [p.strip() for p in line.split("|")]
    author: dict[str, Any] = {"name": parts[0]}
    for part in parts[1:]:
        if part.lower().startswith(("http://", "https://")):
            author["url"] = part
        elif part:
            author["email"] = part
    return author


def record_from_form(form: Form, base: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The record the form describes (not yet validated), on top of `base`'s unshown fields."""
    record: dict[str, Any] = {k: v for k, v in (base or {}).items() if k not in _HANDLED}
    for name in _TEXT:
        value = _one(form, name).strip()
        if value or name in ("id", "headline", "language", "published", "canonical_url"):
            record[name] = value
    for name in _LONG_TEXT:
        value = _one(form, name).replace("\r\n", "\n")
        if value.strip() or name == "body_html":
            record[name] = value.strip() if name != "body_html" else value
    record["sections"] = [s for s in form.get("sections", []) if s]
    for name in ("tags", "subjects"):
        if values := _split(_one(form, name)):
            record[name] = values
    if authors := [_author(line) for line in _split(_one(form, "authors"), "\n")]:
        record["authors"] = authors
    related = []
    for line in _split(_one(form, "related"), "\n"):
        url, _, title = line.partition(" ")
        related.append({"url": url, **({"title": title.strip()} if title.strip() else {})})
    if related:
        record["related"] = related
    if urgency := _one(form, "urgency").strip():
        record["urgency"] = _number(urgency)
    image: dict[str, Any] = {}
    for key in _IMAGE:
        if value := _one(form, f"image_{key}").strip():
            image[key] = _number(value) if key in ("width", "height") else value
    old_image = (base or {}).get("image")
    if image and isinstance(old_image, dict) and old_image.get("url") == image.get("url"):
        image = {**{k: v for k, v in old_image.items() if k not in _IMAGE}, **image}
    if image:
        record["image"] = image
    rights = {k: v for k in _RIGHTS if (v := _one(form, f"rights_{k}").strip())}
    if rights:
        record["rights"] = rights
    return record


def form_from_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """The form's values for a stored record (the inverse of `record_from_form`)."""
    values: dict[str, Any] = {name: str(record.get(name, "")) for name in (*_TEXT, *_LONG_TEXT)}
    values["sections"] = list(record.get("sections", []))
    values["tags"] = ", ".join(record.get("tags", []))
    values["subjects"] = ", ".join(record.get("subjects", []))
    values["authors"] = "\n".join(
        " | ".join(p for p in (a.get("name", ""), a.get("url"), a.get("email")) if p)
        for a in record.get("authors", [])
    )
    values["related"] = "\n".join(
        f"{r.get('url', '')} {r.get('title', '')}".strip() for r in record.get("related", [])
    )
    values["urgency"] = str(record.get("urgency", ""))
    image = record.get("image") or {}
    for key in _IMAGE:
        values[f"image_{key}"] = str(image.get(key, ""))
    rights = record.get("rights") or {}
    for key in _RIGHTS:
        values[f"rights_{key}"] = str(rights.get(key, ""))
    return values


def form_values(form: Form) -> dict[str, Any]:
    """The values as posted, to show the form again exactly as the editor left it."""
    values: dict[str, Any] = {name: _one(form, name) for name in LABELS}
    values["sections"] = list(form.get("sections", []))
    return values


def field_of(path: str) -> str:
    """The form field a JSON pointer names ("" for the record as a whole)."""
    parts = path.split("/")[1:]
    if not parts or parts[0] == "":
        return ""
    head = parts[0]
    if head in ("image", "rights"):
        field = f"{head}_{parts[1]}" if len(parts) > 1 else f"{head}_{_IMAGE[0]}"
        if head == "rights" and len(parts) == 1:
            field = "rights_holder"
        return field if field in LABELS else f"{head}_{_IMAGE[0]}"
    return head if head in LABELS else ""


def errors_by_field(errors: Sequence[FieldError]) -> dict[str, list[str]]:
    """Messages by form field; those of no field under "" (shown above the form)."""
    placed: dict[str, list[str]] = {}
    for error in errors:
        field = field_of(error.path)
        parts = error.path.split("/")[1:]
        message = error.message
        if field == "" and error.path:
            message = f"{error.path}: {message}"
        elif field in _LINES and len(parts) > 1 and parts[1].isdigit():
            # One author or related story a line: say which line.
            message = f"line {int(parts[1]) + 1}: {message}"
        elif field in ("tags", "subjects", "sections") and len(parts) > 1 and parts[1].isdigit():
            message = f"item {int(parts[1]) + 1}: {message}"
        placed.setdefault(field, []).append(message)
    return placed


_LINES = ("authors", "related")
