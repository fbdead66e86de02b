"""An article page as blocks (paragraphs, headings, lists) and the newsroom's rules over them:
the section strip, the repeated standfirst, "also read" teasers, and page furniture.

Pure text rules, shared by plain-text and HTML pages; no parsing of HTML happens here.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

# Devanagari letters with a nukta come precomposed (U+095D) or as letter + U+093C, and
# sites often leave the nukta out: match all three spellings.
_DHA = "(?:ढ\u093c?|\u095d)"
_KHA = "(?:ख\u093c?|\u0959)"
# Phrases that start an "also read" teaser, by language (case-insensitive).
_TEASER_PHRASES = (
    # Hindi, Marathi
    rf"(?:ये|यह|इसे|इन्हें)\s+(?:{_KHA}बर(?:ें)?\s+)?भी\s+प{_DHA}ें",
    rf"प{_DHA}ें\s+(?:ये|यह)\s+भी",
    rf"और\s+प{_DHA}ें",
    r"हेही\s+वाचा",
    # English
    r"also\s+read",
    r"read\s+(?:also|more)",
    r"see\s+also",
    r"more\s+on\s+this(?:\s+story)?",
    r"related(?:\s+(?:story|article|news))?",
    r"don'?t\s+miss",
    r"must\s+read",
    # Arabic, Urdu
    r"[اإ]قرأ\s+[أا]يض[اًا]+",
    r"[اإ]قرأ\s+المزيد",
    r"(?:شاهد|طالع)\s+[أا]يض[اًا]+",
    r"یہ\s+بھی\s+پڑھیں",
    # Bengali, Gujarati
    r"আরও\s+পড়ুন",
    r"આ\s+પણ\s+વાંચો",
    # French, Spanish, Portuguese, German, Russian, Indonesian
    r"(?:à\s+)?lire\s+aussi",
    r"(?:lee|leer|lea)\s+también",
    r"(?:leia|veja)\s+também",
    r"lesen\s+sie\s+auch",
    r"читайте\s+также",
    r"baca\s+juga",
)
_SEPARATOR = r"\s*[:：|\-–—>»]+\s*"
_TEASER = re.compile(
    rf"^\s*(?:{'|'.join(_TEASER_PHRASES)})(?P<sep>{_SEPARATOR}|\s+|$)(?P<rest>.*)$",
    re.IGNORECASE | re.DOTALL,
)
# Whole blocks that are the site's furniture, never the story's text; the second element
# says whether the article has ended there (everything after it is furniture too).
_FURNITURE: tuple[tuple[str, str, bool], ...] = (
    (r"related\s+(?:articles|posts|stories|news)", "a related-articles list heading", True),
    (r"(?:more|latest)\s+(?:stories|news)(?:\s+from\s+.{1,40})?", "a list heading", True),
    (r"संबंधित\s+(?:खबरें|लेख|ख़बरें)", "a related-articles list heading", True),
    (r"(?:مقالات|أخبار)\s+ذات\s+صلة", "a related-articles list heading", True),
    (r"leave\s+a\s+(?:reply|comment)", "the comment form", True),
    (r"(?:post|add)\s+(?:a\s+)?comments?|comments?", "the comment form", True),
    (r"(?:अपनी\s+)?(?:टिप्पणी|प्रतिक्रिया)\s+(?:दें|करें|लिखें)", "the comment form", True),
    (r"اترك\s+(?:تعليقا|تعليقاً|ردا|رداً)", "the comment form", True),
    (
        r"your\s+email\s+address\s+will\s+not\s+be\s+published\.?"
        r"(?:\s*required\s+fields\s+are\s+marked\s*\*?)?",
        "the comment form",
        True,
    ),
    (r"لن\s+يتم\s+نشر\s+عنوان\s+بريدك\s+الإلكتروني.*", "the comment form", True),
    (r"(?:back|scroll|go)\s+to\s+top(?:\s+button)?", "a back-to-top link", False),
    (r"(?:वापस\s+)?ऊपर\s+(?:जाएं|जाएँ)", "a back-to-top link", False),
    (r"العودة\s+(?:إلى|الى)\s+الأعلى", "a back-to-top link", False),
    (r"advertisement|विज्ञापन|إعلان", "an advertisement label", False),
)
_FURNITURE_RE = tuple(
    (re.compile(rf"^\s*(?:{pattern})\s*[.:!]?\s*$", re.IGNORECASE | re.DOTALL), reason, ends)
    for pattern, reason, ends in _FURNITURE
)
# A share bar: nothing but these words and separators.
_SHARE_WORDS = re.compile(
    r"share(?:\s+(?:this|on|via|article|story))?:?|tweet|facebook|twitter|x|whatsapp|telegram|"
    r"linkedin|pinterest|reddit|e-?mail|print|copy\s+link|koo|शेयर(?:\s+करें)?|"
    r"مشاركة|شارك",
    re.IGNORECASE,
)
_SHARE_GAPS = re.compile(r"[\s|•·,/]+")
# A block of only "x", "print" or commas is not a share bar (code, lists): one of these must be.
_SHARE_NAMES = re.compile(
    r"share|tweet|facebook|twitter|whatsapp|telegram|linkedin|pinterest|reddit|शेयर|مشاركة|شارك",
    re.IGNORECASE,
)
# Trailing full stops (Latin, Devanagari danda, Arabic) that a headline does not carry.
_FINAL_STOP = re.compile(r"[\s.।۔]+$")


@dataclass(frozen=True, slots=True)
class Block:
    """One block of the article's text: `html` goes into the body as it is."""

    tag: str
    text: str
    html: str
    links: tuple[tuple[str, str], ...] = ()  # (href, link text), in order

    @classmethod
    def paragraph(cls, text: str) -> Block:
        return cls("p", text, f"<p>{html.escape(text, quote=False)}</p>")


@dataclass(frozen=True, slots=True)
class Teaser:
    """An "also read" teaser: the story's title and, where the page has one, its link."""

    title: str
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Dropped:
    """Something taken out of the body, and why (shown by `--dry-run`)."""

    text: str
    reason: str


@dataclass(slots=True)
class Sorted:
    """Blocks sorted into the story's parts."""

    headline: str | None = None
    summary: str | None = None
    body: list[Block] = field(default_factory=list)
    teasers: list[Teaser] = field(default_factory=list)
    dropped: list[Dropped] = field(default_factory=list)
    section_hints: list[str] = field(default_factory=list)


def squash(text: str) -> str:
    """Whitespace collapsed to single spaces (no-break spaces too), ends trimmed."""
    return " ".join(text.split())


def comparable(text: str) -> str:
    """For comparing text that differs only in Unicode form, case and spacing."""
    return squash(unicodedata.normalize("NFC", text)).casefold()


def could_be_teaser(text: str) -> bool:
    """Whether a text starts with an "also read" phrase (a cheap first test)."""
    return _TEASER.match(text) is not None


def teaser(block: Block) -> Teaser | None:
    """The teaser a block is, or None: a teaser phrase, then a title or a link."""
    if len(block.text) > 400:
        return None
    found = _TEASER.match(block.text)
    if found is None:
        return None
    rest = _FINAL_STOP.sub("", found["rest"]).strip()
    links = [(href, squash(text)) for href, text in block.links if squash(text)]
    if links:
        href, text = links[-1]
        # The link may hold the phrase too ("<a>RELATED: Title</a>"): the title follows it.
        inner = _TEASER.match(text)
        if inner is not None and inner["sep"].strip() and inner["rest"].strip():
            text = inner["rest"]
        title = _FINAL_STOP.sub("", text).strip() or rest
        # Not set off by a colon or the like, the phrase must be followed by the link alone:
        # "Related Articles One story Another story" is a list, not a teaser.
        if not found["sep"].strip() and comparable(rest) != comparable(title):
            return None
        return Teaser(title, href)
    # Without a link, the phrase must be set off ("Also read: …"), so that a sentence
    # merely starting with "Read more…" is never taken for one.
    if not found["sep"].strip() or not rest:
        return None
    return Teaser(rest)


def furniture(block: Block) -> tuple[str, bool] | None:
    """(why, whether the article ends here) when a block is page furniture, else None."""
    if len(block.text) > 300:
        return None
    for pattern, reason, ends in _FURNITURE_RE:
        if pattern.match(block.text):
            return reason, ends
    words = _SHARE_GAPS.sub(" ", _SHARE_WORDS.sub(" ", block.text)).strip()
    if not words and _SHARE_NAMES.search(block.text):
        return "a share bar", False
    return None


def section_strip(text: str, sections: Sequence[tuple[str, Iterable[str]]]) -> list[str] | None:
    """The declared sections a strip like "GlobalTop Story" names, or None if it is not one.

    `sections` is (slug, names) for each declared section. The strip must be made entirely
    of section names (scraping often drops the spaces between them), with separators.
    """
    names = sorted(
        ((comparable(name), slug) for slug, all_names in sections for name in all_names),
        key=lambda pair: -len(pair[0]),
    )
    names = [(name, slug) for name, slug in names if name]
    target = comparable(text)
    if not target or len(target) > 120:
        return None

    def walk(at: int, found: list[str]) -> list[str] | None:
        while at < len(target) and target[at] in " |/>»›·•,-–":
            at += 1
        if at == len(target):
            return found
        for name, slug in names:
            if target.startswith(name, at):
                done = walk(at + len(name), found + ([slug] if slug not in found else []))
                if done is not None:
                    return done
        return None

    return walk(0, [])


def cut_prefix(text: str, prefix: str) -> str | None:
    """`text` without `prefix` at its start (spacing aside), or None if it does not start so."""
    words, lead = text.split(), prefix.split()
    if not lead or words[: len(lead)] != lead:
        return None
    return " ".join(words[len(lead) :])


def sort_blocks(
    blocks: Sequence[Block],
    sections: Sequence[tuple[str, Iterable[str]]],
    *,
    headline: str | None = None,
    summary: str | None = None,
) -> Sorted:
    """Sort a page's blocks into headline, standfirst, body, teasers and what was dropped.

    With no `headline` given, the first block after the section strip is the headline. A
    standfirst is recognised when the body repeats it as its first sentences (the repetition
    is cut), or when it equals a `summary` known from the page's metadata.
    """
    out = Sorted(headline=headline, summary=summary)
    rest = list(blocks)
    while rest and (named := section_strip(rest[0].text, sections)) is not None:
        out.section_hints += [s for s in named if s not in out.section_hints]
        out.dropped.append(Dropped(rest.pop(0).text, "the site's section strip"))
    if out.headline is None and rest:
        out.headline = rest.pop(0).text
    elif (
        rest
        and rest[0].tag in ("h1", "h2")
        and comparable(rest[0].text) == comparable(out.headline or "")
    ):
        out.dropped.append(Dropped(rest.pop(0).text, "the headline, repeated"))
    _standfirst(out, rest)
    ended: str | None = None
    for block in rest:
        if ended is not None:
            junk = furniture(block)
            why = f"page furniture: {junk[0]}" if junk else f"after the article's end ({ended})"
            out.dropped.append(Dropped(block.text, why))
        elif (found := teaser(block)) is not None:
            out.teasers.append(found)
            out.dropped.append(Dropped(block.text, "an 'also read' teaser (kept as related)"))
        elif (junk := furniture(block)) is not None:
            reason, ends = junk
            out.dropped.append(Dropped(block.text, f"page furniture: {reason}"))
            ended = reason if ends else None
        else:
            out.body.append(block)
    return out


def _standfirst(out: Sorted, rest: list[Block]) -> None:
    if not rest:
        return
    first = rest[0]
    if out.summary is not None and comparable(first.text) == comparable(out.summary):
        out.dropped.append(Dropped(first.text, "the standfirst (kept as summary)"))
        rest.pop(0)
    elif (
        out.summary is None
        and len(rest) > 1
        and first.tag == "p"
        and cut_prefix(rest[1].text, first.text) is not None
    ):
        out.summary = first.text
        out.dropped.append(Dropped(first.text, "the standfirst (kept as summary)"))
        rest.pop(0)
    if out.summary is None or not rest:
        return
    # The body's first paragraph starts by repeating the standfirst: cut the repetition.
    remainder = cut_prefix(rest[0].text, out.summary)
    if remainder is not None and rest[0].tag == "p":
        out.dropped.append(
            Dropped(out.summary, "the standfirst, repeated as the body's first sentences")
        )
        if remainder:  # rebuilt from its text: inline markup in it does not survive
            rest[0] = Block.paragraph(remainder)
        else:
            rest.pop(0)
