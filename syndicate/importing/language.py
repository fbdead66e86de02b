"""The language of imported text: what the editor said, what the page declares, what the text
reads as (py3langid), reconciled into one BCP 47 tag with a note saying how it was chosen."""

from __future__ import annotations

import functools
import re
from typing import Any

# Below this much text, or this confidence, detection is a guess: the declared or the
# section's language is kept instead.
MIN_DETECT_CHARS = 40
MIN_CONFIDENCE = 0.8
_TAG = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")
# Detection reads at most this much: it is sure well before (2 ms an item at 20,000).
DETECT_CHARS = 2_000


@functools.cache
def _identifier() -> Any:
    # Imported on first use: the model loads in about half a second.
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect(text: str) -> tuple[str, float] | None:
    """(ISO 639-1 code, confidence 0–1) for the text, or None when there is too little."""
    sample = " ".join(text.split())[:DETECT_CHARS]
    if len(sample) < MIN_DETECT_CHARS:
        return None
    code, confidence = _identifier().classify(sample)
    return str(code), float(confidence)


def normalise_tag(value: str | None) -> str | None:
    """A declared language as a BCP 47 tag (`hi_IN` -> `hi-IN`), or None when it is not one
    ("english", "de, at, ch" and the like are ignored, not passed on to be rejected)."""
    if not value:
        return None
    tag = value.strip().replace("_", "-")
    if not _TAG.fullmatch(tag):
        return None
    import langcodes

    return tag if langcodes.tag_is_valid(tag) else None


def choose(given: str | None, declared: str | None, text: str, fallback: str) -> tuple[str, str]:
    """(language, how it was chosen).

    `given` (the editor's) always wins. A page's declaration is kept when the text agrees
    with it or detection is unsure: it may be more precise (`hi-IN`). When the text clearly
    reads as another language the detection wins: templates often declare `en` for every
    page of a Hindi site.
    """
    if given:
        return given, "given"
    found = detect(text)
    declared = normalise_tag(declared)
    if declared is not None:
        if found is None or found[1] < MIN_CONFIDENCE:
            return declared, "declared by the page"
        if found[0] == declared.split("-")[0].lower():
            return declared, f"declared by the page, and the text reads as {found[0]}"
        return found[0], (
            f"detected ({found[1]:.2f}); the page declares {declared}, the text reads as {found[0]}"
        )
    if found is None or found[1] < MIN_CONFIDENCE:
        return fallback, "the section's language (too little text to detect one)"
    return found[0], f"detected ({found[1]:.2f})"
