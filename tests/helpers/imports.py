"""Pages and feeds for the import tests: the seed page from ../shared/corpus, HTML pages written
here in Hindi, English and Arabic (with JSON-LD, with only meta tags, with neither), and the
RSS, Atom and WordPress files in tests/fixtures/import/."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass

from tests.helpers.paths import FIXTURES, SEED_PAGE, require_shared
from tests.helpers.texts import AYODHYA

FEEDS = FIXTURES / "import"
RSS = FEEDS / "old-site.rss.xml"
ATOM = FEEDS / "old-site.atom.xml"
WXR = FEEDS / "old-site.wxr.xml"


def seed_page() -> str:
    """The seed page's text; skips (or fails when conformance is required) without it."""
    return require_shared(SEED_PAGE).read_text(encoding="utf-8")


@dataclass(frozen=True)
class Story:
    """One story as a site would show it, to be written out as an HTML page."""

    language: str
    headline: str
    standfirst: str
    paragraphs: tuple[str, ...]
    linked_teaser: tuple[str, str, str]  # (phrase, title, url)
    plain_teaser: tuple[str, str]  # (phrase, title): no link
    furniture: tuple[str, ...]
    author: str
    slug: str


HINDI = Story(
    "hi",
    "दिल्ली में यमुना का जलस्तर खतरे के निशान से ऊपर, निचले इलाकों में अलर्ट",
    "लगातार बारिश के बाद यमुना नदी का जलस्तर खतरे के निशान को पार कर गया है।",
    (
        "लगातार बारिश के बाद यमुना नदी का जलस्तर खतरे के निशान को पार कर गया है। प्रशासन ने "
        "निचले इलाकों में रहने वाले लोगों से सुरक्षित स्थानों पर जाने की अपील की है।",
        "बाढ़ नियंत्रण विभाग के अधिकारियों ने बताया कि हथिनीकुंड बैराज से लगातार पानी छोड़ा जा "
        "रहा है, जिसके कारण अगले दो दिनों तक जलस्तर बढ़ने की आशंका है। राहत शिविरों में भोजन "
        "और दवाइयों की व्यवस्था की गई है।",
        "मौसम विभाग ने अगले अड़तालीस घंटों में और बारिश का अनुमान जताया है। स्कूलों को एहतियात के "
        "तौर पर बंद रखने का फैसला किया गया है और यातायात पुलिस ने कई रास्तों पर आवाजाही रोक दी है।",
    ),
    (
        "ये भी पढ़ें:",
        "मानसून ने पूरे देश को भिगोया, कई राज्यों में भारी बारिश",
        "https://hindi.example/desh/monsoon-all-india",
    ),
    ("ये खबर भी पढ़ें :", AYODHYA),
    ("शेयर करें", "संबंधित खबरें", "अपनी टिप्पणी दें"),
    "सीमा वर्मा",
    "yamuna-flood-alert",
)
ENGLISH = Story(
    "en",
    "Rates held as inflation cools, but food prices worry the central bank",
    "The central bank kept its key rate unchanged for an eighth meeting.",
    (
        "The central bank kept its key rate unchanged for an eighth meeting. Most economists "
        "polled last week had expected the decision, and markets barely moved.",
        "Governor Das said the committee would stay focused on bringing inflation down to its "
        "target of 4 per cent on a durable basis, and that growth remained robust.",
        "Home loan rates are unlikely to fall before the end of the year, bankers said, "
        "although some lenders may trim the rates on new loans to win customers.",
    ),
    (
        "Also read:",
        "Sensex closes above 80,000 for the first time",
        "https://daily.example/business/sensex-80000",
    ),
    ("Read more:", "UPI payments cross 14 billion in a month"),
    ("Share Tweet WhatsApp", "Related Articles", "Leave a Reply"),
    "Asha Rao",
    "rates-held-inflation-cools",
)
ARABIC = Story(
    "ar",
    "ارتفاع أسعار النفط بعد قرار أوبك خفض الإنتاج",
    "ارتفعت أسعار النفط بأكثر من ثلاثة في المئة بعد إعلان أوبك.",
    (
        "ارتفعت أسعار النفط بأكثر من ثلاثة في المئة بعد إعلان أوبك. وقالت المنظمة إن الخفض "
        "سيبدأ الشهر المقبل ويستمر حتى نهاية العام.",
        "وقال محللون إن القرار يهدف إلى دعم الأسعار في ظل تباطؤ الطلب العالمي، بينما رحبت "
        "الدول المنتجة بالخطوة واعتبرتها ضرورية لاستقرار السوق.",
        "ويتوقع خبراء أن تنعكس الزيادة على أسعار الوقود في الأسواق المحلية خلال الأسابيع "
        "القادمة، مع استمرار الضغوط التضخمية في عدد من الاقتصادات الكبرى.",
    ),
    (
        "اقرأ أيضا:",
        "البنوك المركزية تبقي أسعار الفائدة دون تغيير",
        "https://arabic.example/economy/rates-unchanged",
    ),
    ("اقرأ أيضاً:", "الذهب يسجل مستوى قياسيا جديدا"),
    ("شارك", "مقالات ذات صلة", "اترك تعليقاً"),
    "ليلى حسن",
    "oil-prices-opec-cut",
)
STORIES = {"hi": HINDI, "en": ENGLISH, "ar": ARABIC}
SITES = {
    "hi": "https://hindi.example/desh/",
    "en": "https://daily.example/business/",
    "ar": "https://arabic.example/economy/",
}
PUBLISHED = "2024-07-10T08:30:00+05:30"
MODIFIED = "2024-07-10T11:00:00+05:30"


def canonical(story: Story) -> str:
    return SITES[story.language] + story.slug


def image_url(story: Story) -> str:
    return SITES[story.language] + "img/" + story.slug + ".jpg"


def html_page(story: Story, variant: str) -> str:
    """The story as a news site's page; `variant` is "json-ld", "meta" or "plain" (neither).

    Every variant has a navigation bar, a section strip, a share bar, the teasers in the
    body, a related-articles box, a comment form and a footer around the story.
    """
    e = html.escape
    head = [f"<title>{e(story.headline)} | Example News</title>"]
    if variant in ("json-ld", "meta"):
        head.append(f'<link rel="canonical" href="{canonical(story)}">')
        head += [
            f'<meta property="og:title" content="{e(story.headline)}">',
            f'<meta property="og:description" content="{e(story.standfirst)}">',
            f'<meta property="og:image" content="{image_url(story)}">',
            '<meta property="og:site_name" content="Example News">',
            f'<meta property="article:published_time" content="{PUBLISHED}">',
            f'<meta name="author" content="{e(story.author)}">',
            '<meta property="article:tag" content="economy">',
        ]
    if variant == "json-ld":
        data = {
            "@context": "https://schema.org",
            "@graph": [
                {"@type": "WebSite", "name": "Example News"},
                {
                    "@type": "NewsArticle",
                    "headline": story.headline,
                    "description": story.standfirst,
                    "datePublished": PUBLISHED,
                    "dateModified": MODIFIED,
                    "author": [
                        {
                            "@type": "Person",
                            "name": story.author,
                            "url": SITES[story.language] + "staff",
                        }
                    ],
                    "image": {
                        "@type": "ImageObject",
                        "url": image_url(story),
                        "width": 1200,
                        "height": 675,
                    },
                    "inLanguage": story.language,
                    "keywords": ["economy", "news"],
                },
            ],
        }
        head.append(
            f'<script type="application/ld+json">{json.dumps(data, ensure_ascii=False)}</script>'
        )
    direction = ' dir="rtl"' if story.language == "ar" else ""
    lang = f' lang="{story.language}"' if variant != "plain" else ""
    phrase, title, url = story.linked_teaser
    plain_phrase, plain_title = story.plain_teaser
    share, related, comments = story.furniture
    first, *rest = story.paragraphs
    body = [
        '<header><nav><a href="/">Home</a> | <a href="/world">World</a> | '
        '<a href="/sport">Sport</a></nav></header>',
        f'<div class="share-bar">{e(share)}</div>',
        "<main><article>",
        f"<h1>{e(story.headline)}</h1>",
        f'<p class="standfirst">{e(story.standfirst)}</p>',
        f"<p>{e(first)}</p>",
        f'<p><strong>{e(phrase)}</strong> <a href="{url}">{e(title)}</a></p>',
        f"<p>{e(rest[0])}</p>",
        f"<p>{e(plain_phrase)} {e(plain_title)}</p>",
        f"<p>{e(rest[1])}</p>",
        "</article></main>",
        f'<aside class="related"><h3>{e(related)}</h3><ul><li><a href="/a">One other story</a>'
        '</li><li><a href="/b">Another story</a></li></ul></aside>',
        f'<div id="respond"><h3>{e(comments)}</h3>'
        "<form><textarea></textarea><button>Post</button></form></div>",
        "<footer><p>© 2024 Example News. All rights reserved.</p></footer>",
    ]
    return (
        f'<!doctype html><html{lang}{direction}><head><meta charset="utf-8">'
        + "".join(head)
        + "</head><body>"
        + "".join(body)
        + "</body></html>"
    )
