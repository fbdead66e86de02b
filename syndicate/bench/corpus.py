"""A deterministic synthetic news corpus for the benchmark: Hindi and English, real shapes.

Same seed, same records, on every machine: 3–8 paragraphs of 3–6 KB in all, 1–3 of the
bench's sections, images on most, authors and tags.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

SECTION_COUNT = 20
SECTIONS = tuple(f"s{n:02d}" for n in range(1, SECTION_COUNT + 1))

_HI_WORDS = (
    "सरकार देश राज्य नई दिल्ली प्रधानमंत्री बैठक समझौता अंतरराष्ट्रीय प्रतिबंध चुनाव अदालत "
    "फैसला किसान बाजार शेयर रुपये विकास योजना मंत्री संसद विपक्ष बयान रिपोर्ट पुलिस जांच "
    "मौसम बारिश क्रिकेट टीम मैच जीत खिलाड़ी तकनीक इंटरनेट कंपनी निवेश स्वास्थ्य अस्पताल "
    "शिक्षा छात्र परीक्षा परिणाम रेलवे यात्रा सुरक्षा सेना सीमा वैश्विक साझेदारी महत्वपूर्ण"
).split()
_EN_WORDS = (
    "government country state minister meeting agreement international sanctions election "
    "court ruling farmers market shares rupee growth scheme parliament opposition statement "
    "report police inquiry weather rain cricket team match win player technology internet "
    "company investment health hospital education students exam results railway travel "
    "security army border global partnership important analysts said on Tuesday according"
).split()
_AUTHORS = (
    ("Priya Sharma", "प्रिया शर्मा"),
    ("Rahul Verma", "राहुल वर्मा"),
    ("Anjali Gupta", "अंजलि गुप्ता"),
    ("Vikram Singh", "विक्रम सिंह"),
    ("Sara Khan", "सारा खान"),
    ("David Moore", "डेविड मूर"),
)
_TAGS = ("politics", "economy", "cricket", "monsoon", "elections", "tech", "health", "world")
_START = datetime(2025, 1, 1, tzinfo=UTC)


def _sentence(rng: random.Random, words: list[str], hindi: bool) -> str:
    n = rng.randint(8, 18)
    text = " ".join(rng.choice(words) for _ in range(n))
    return text + ("।" if hindi else ".")


def _paragraph(rng: random.Random, words: list[str], hindi: bool, size: int) -> str:
    parts: list[str] = []
    length = 0
    while length < size:
        s = _sentence(rng, words, hindi)
        parts.append(s)
        length += len(s.encode("utf-8")) + 1
    return " ".join(parts)


def article(rng: random.Random, index: int, sections: tuple[str, ...] = SECTIONS) -> dict[str, Any]:
    """One synthetic record (valid against the article schema with the bench's sections)."""
    hindi = rng.random() < 0.5
    words = _HI_WORDS if hindi else _EN_WORDS
    paragraphs = rng.randint(3, 8)
    body_bytes = rng.randint(3000, 6000)
    per = max(200, body_bytes // paragraphs)
    body = "".join(f"<p>{_paragraph(rng, words, hindi, per)}</p>" for _ in range(paragraphs))
    published = _START + timedelta(minutes=index * 7 + rng.randint(0, 5))
    author = rng.choice(_AUTHORS)
    record: dict[str, Any] = {
        "id": f"bench-{index:07d}",
        "headline": _sentence(rng, words, hindi)[:200],
        "summary": _sentence(rng, words, hindi),
        "body_html": body,
        "language": "hi" if hindi else "en",
        "sections": sorted(rng.sample(sections, rng.randint(1, min(3, len(sections))))),
        "authors": [{"name": author[1] if hindi else author[0]}],
        "published": published.isoformat(),
        "canonical_url": f"https://news.example/{'hi' if hindi else 'en'}/{index}",
        "tags": rng.sample(_TAGS, rng.randint(1, 3)),
    }
    if rng.random() < 0.8:
        record["image"] = {
            "url": f"https://img.news.example/{index}.jpg",
            "caption": _sentence(rng, words, hindi)[:120],
            "credit": "Syndicate Photo",
            "width": 1200,
            "height": 675,
            "mime_type": "image/jpeg",
            "length": rng.randint(80_000, 400_000),
        }
    if rng.random() < 0.2:
        record["updated"] = (published + timedelta(hours=rng.randint(1, 12))).isoformat()
    return record


def section_slugs(count: int) -> tuple[str, ...]:
    """`count` section slugs in the bench's style (`s001`… when there are more than 99)."""
    width = max(2, len(str(count)))
    return tuple(f"s{n:0{width}d}" for n in range(1, count + 1))


def corpus(
    count: int, seed: int = 1, start: int = 0, sections: tuple[str, ...] = SECTIONS
) -> Iterator[dict[str, Any]]:
    """`count` records, numbered from `start`; the same seed gives the same records."""
    rng = random.Random(seed * 1_000_003 + start)
    for index in range(start, start + count):
        yield article(rng, index, sections)
