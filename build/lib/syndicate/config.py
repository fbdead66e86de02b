"""Settings: one frozen object built from `syndicate.toml` plus `SYNDICATE_*` variables.

Nothing here reads the environment at import time; callers pass `environ` (tests pass a dict).
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from syndicate.errors import ConfigError

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
ALL_SECTION = "all"
# Not section slugs: `/feeds/tag/…` and `/feeds/author/…` are the tag and author feeds.
RESERVED_SLUGS = frozenset({ALL_SECTION, "tag", "author"})
DEFAULT_LIMIT = 50
DEFAULT_MAX_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Section:
    """A declared section: its slug, titles and descriptions per language, feed limits."""

    slug: str
    title: Mapping[str, str]
    description: Mapping[str, str]
    language: str = "en"
    limit: int = DEFAULT_LIMIT
    max_bytes: int = DEFAULT_MAX_BYTES

    def title_in(self, language: str | None = None) -> str:
        """The title in `language`, else the section's own language, else any."""
        return _pick(self.title, language or self.language) or self.slug

    def description_in(self, language: str | None = None) -> str:
        return _pick(self.description, language or self.language) or self.title_in(language)


def _pick(texts: Mapping[str, str], language: str) -> str:
    if language in texts:
        return texts[language]
    primary = language.split("-")[0]
    if primary in texts:
        return texts[primary]
    if "en" in texts:
        return texts["en"]
    return next(iter(texts.values()), "")


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the service is configured with; built once, passed down."""

    database_url: str = "sqlite:///var/syndicate.db"
    feeds_dir: Path = Path("feeds")
    base_url: str = "http://127.0.0.1:8080"
    host: str = "127.0.0.1"
    port: int = 8080
    regen_interval: int = 300
    safety_interval: int = 3600
    run_scheduler: bool = True
    websub_hub: str | None = None
    site_title: str = "Syndicate"
    provider: str = "syndicate.example"
    sections: tuple[Section, ...] = ()
    max_request_bytes: int = 8 * 1024 * 1024
    partner_page_size: int = 100
    header_timeout: float = 10.0
    idle_timeout: float = 15.0
    # Cache-Control max-age of public feeds: how long a cache may keep a killed story.
    feed_max_age: int = 60
    # Cache-Control max-age of full archive pages (RFC 5005): they do not change, except that
    # a story withdrawn later leaves them, and caches may keep it this long.
    archive_max_age: int = 86_400
    # Seconds from a stored change to its sections' regeneration; 0 leaves only the timer.
    publish_delay: float = 2.0
    # Pushes to partners: how long one POST may take, and how long a delivery keeps being
    # retried before it is parked as dead (shown in status; an admin can replay it).
    push_timeout: float = 10.0
    # Worker processes that render feeds (None: one fewer than the cores, at least one;
    # 0: render in the serving process, on its event loop, as small tools and tests may).
    render_workers: int | None = None
    # Rendered item fragments kept per worker (MiB), so a feed with one new story renders one
    # item; 0 renders every item every time.
    render_cache_mb: int = 64
    push_dead_after: float = 86_400.0
    # The editors' desk: a session unused for this long is over (sign in again).
    desk_idle_timeout: float = 3600.0
    _by_slug: Mapping[str, Section] = field(default_factory=dict, repr=False, compare=False)
    # Where each value came from (a file, a variable), for errors found after loading.
    origins: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_slug", {s.slug: s for s in self.sections})

    def section(self, slug: str) -> Section | None:
        return self._by_slug.get(slug)

    @property
    def section_slugs(self) -> tuple[str, ...]:
        return tuple(s.slug for s in self.sections)

    def all_section(self) -> Section:
        """The synthetic `all` section: every declared section together."""
        limit = max((s.limit for s in self.sections), default=DEFAULT_LIMIT)
        return Section(
            slug=ALL_SECTION,
            title={"en": f"{self.site_title}: all sections"},
            description={"en": f"Every section of {self.site_title}"},
            language="en",
            limit=limit,
            max_bytes=DEFAULT_MAX_BYTES,
        )

    def feed_section(self, slug: str) -> Section | None:
        """A declared section, or `all`."""
        return self.all_section() if slug == ALL_SECTION else self.section(slug)

    def redacted(self) -> dict[str, Any]:
        """The settings as shown to people: passwords in URLs hidden."""
        return {
            "database_url": redact_url(self.database_url),
            "feeds_dir": str(self.feeds_dir),
            "base_url": self.base_url,
            "host": self.host,
            "port": self.port,
            "regen_interval": self.regen_interval,
            "run_scheduler": self.run_scheduler,
            "header_timeout": self.header_timeout,
            "idle_timeout": self.idle_timeout,
            "feed_max_age": self.feed_max_age,
            "publish_delay": self.publish_delay,
            "archive_max_age": self.archive_max_age,
            "push_timeout": self.push_timeout,
            "push_dead_after": self.push_dead_after,
            "desk_idle_timeout": self.desk_idle_timeout,
            "websub_hub": redact_url(self.websub_hub) if self.websub_hub else None,
            "sections": list(self.section_slugs),
        }

    def with_overrides(self, **changes: Any) -> Settings:
        return replace(self, **changes)


_SECRET_QUERY = re.compile(r"([?&;][^=&#;]*(?:pass|secret|token)[^=&#;]*=)[^&#;]*", re.I)
_SECRET_PAIR = re.compile(r"(\b\w*(?:pass|secret|token)\w*\s*=\s*)(?:'[^']*'|\S+)", re.I)


def redact_url(url: str) -> str:
    """`url` with every password hidden: the one function for printing a URL anywhere.

    It parses nothing (the URL may be malformed): userinfo runs from `//` to the last `@`,
    so `u:pa@ss@host` and `:pw@host` are covered; query parameters (and `key=value` text)
    whose name mentions a password, secret or token are hidden too.
    """
    text = _SECRET_QUERY.sub(r"\1***", url)
    scheme, sep, rest = text.partition("//")
    if sep and "@" in rest:
        userinfo, _, host = rest.rpartition("@")
        if ":" in userinfo or not host:
            userinfo = userinfo.split(":", 1)[0] + ":***"
        text = f"{scheme}//{userinfo}@{host}"
    return _SECRET_PAIR.sub(r"\1***", text) if not sep else text


def _bad(key: str, where: str, problem: str, allowed: str) -> ConfigError:
    """The one-line error for a bad setting: what, where it came from, what is allowed."""
    return ConfigError(f"{key} (from {where}): {problem}; allowed: {allowed}")


def _texts(value: Any, key: str, where: str = "the settings file") -> dict[str, str]:
    if isinstance(value, str):
        return {"en": value}
    if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
        return {str(k): v for k, v in value.items()}
    raise _bad(key, where, f"got {value!r}", "a string or a table of language = text")


def _int(
    value: Any,
    key: str,
    minimum: int = 0,
    maximum: int = 2**31 - 1,
    where: str = "the settings file",
) -> int:
    allowed = f"a whole number from {minimum} to {maximum}"
    if isinstance(value, bool):
        raise _bad(key, where, f"got {value!r}", allowed)
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and re.fullmatch(r"\s*[+-]?[0-9]{1,30}\s*", value):
        number = int(value)
    else:
        raise _bad(key, where, f"expected a whole number, got {value!r}", allowed)
    if not minimum <= number <= maximum:
        raise _bad(key, where, f"{number} is out of range", allowed)
    return number


def _seconds(
    value: Any, key: str, maximum: float, where: str, *, zero_allowed: bool = False
) -> float:
    allowed = (
        f"seconds from 0 (off) to {maximum:g}"
        if zero_allowed
        else f"seconds, more than 0 and at most {maximum:g}"
    )
    number: float | None = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            number = None
    if number is None or not math.isfinite(number):
        raise _bad(key, where, f"expected a number of seconds, got {value!r}", allowed)
    lowest_ok = number >= 0 if zero_allowed else number > 0
    if not lowest_ok or number > maximum:
        raise _bad(key, where, f"{number:g} is out of range", allowed)
    return number


def _bool(value: Any, key: str, where: str = "the settings file") -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off", ""}:
        return False
    raise _bad(key, where, f"got {value!r}", "a boolean (1/0, true/false)")


def _text(value: Any, key: str, where: str) -> str:
    if not isinstance(value, str) or not value.strip() or "\x00" in value:
        raise _bad(key, where, f"got {value!r}", "a non-empty string")
    return value


_HOSTNAME = re.compile(r"(?=.{1,253}\Z)(?:(?!-)[A-Za-z0-9-]{1,63}(?<!-)\.?)+\Z")


def _host(value: Any, key: str, where: str) -> str:
    allowed = "an IP address (127.0.0.1, 0.0.0.0, ::) or a host name"
    text = _text(value, key, where).strip()
    try:
        ipaddress.ip_address(text)
        return text
    except ValueError:
        pass
    labels = text.rstrip(".").split(".")
    # All-digit labels read as an IPv4 address (999.1.1.1 is no host name): not valid above.
    if _HOSTNAME.match(text) and not labels[-1].isdigit():
        return text
    raise _bad(key, where, f"{text!r} is not an address or host name", allowed)


def _http_url(value: Any, key: str, where: str) -> str:
    allowed = "an absolute http:// or https:// URL"
    text = _text(value, key, where).strip()
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises on a port that is not a number in range
    except ValueError as exc:
        raise _bad(key, where, f"{redact_url(text)!r}: {exc}", allowed) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _bad(key, where, f"got {redact_url(text)!r}", allowed)
    return text


_DATABASE_ALLOWED = (
    "sqlite:///relative/path.db, sqlite:////absolute/path.db, sqlite:///:memory:"
    " or postgresql://user@host[:port]/database"
)


def _database_url(value: Any, key: str, where: str) -> str:
    text = _text(value, key, where).strip()
    shown = repr(redact_url(text))
    scheme = text.split(":", 1)[0].lower() if ":" in text else ""
    if scheme == "sqlite":
        if text in ("sqlite://", "sqlite:///:memory:"):
            return text
        if not text.startswith("sqlite:///") or len(text) == len("sqlite:///"):
            raise _bad(key, where, f"{shown} is not sqlite:///<path>", _DATABASE_ALLOWED)
        return text
    if scheme in ("postgresql", "postgres"):
        try:
            parts = urlsplit(text)
            parts.port  # noqa: B018 - raises on a port that is not a number in range
        except ValueError as exc:
            raise _bad(key, where, f"{shown} is malformed ({exc})", _DATABASE_ALLOWED) from None
        if not text.startswith(f"{scheme}://"):
            raise _bad(key, where, f"{shown} is malformed", _DATABASE_ALLOWED)
        return text
    problem = f"unsupported scheme {scheme!r}" if scheme else f"{shown} is not a URL"
    raise _bad(key, where, problem, _DATABASE_ALLOWED)


def sqlite_folder(settings: Settings) -> None:
    """Create the SQLite database's folder now, so a bad one is a clear error at start."""
    url = settings.database_url
    if not url.startswith("sqlite:///") or url == "sqlite:///:memory:":
        return
    folder = Path(url[len("sqlite:///") :]).parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _bad(
            "database_url",
            settings.origins.get("database_url", "the defaults"),
            f"cannot create the folder {str(folder)!r} ({exc.strerror or exc})",
            "a SQLite path whose folder exists or can be created",
        ) from None


_SECTION_KEYS = {"title", "description", "language", "limit", "max_bytes"}


def parse_sections(table: Any, where: str = "the settings file") -> tuple[Section, ...]:
    if not isinstance(table, dict):
        raise _bad("sections", where, f"got {table!r}", "a table of [sections.<slug>] tables")
    sections = []
    for slug, body in table.items():
        key = f"sections.{slug}"
        if not SLUG_RE.fullmatch(slug) or slug in RESERVED_SLUGS:
            raise _bad(
                key,
                where,
                "not a usable slug",
                "lowercase letters, digits and '-', not 'all', 'tag' or 'author'",
            )
        if not isinstance(body, dict):
            raise _bad(key, where, f"got {body!r}", "a table")
        unknown = set(body) - _SECTION_KEYS
        if unknown:
            raise _bad(
                key,
                where,
                f"unknown key(s) {', '.join(sorted(unknown))}",
                ", ".join(sorted(_SECTION_KEYS)),
            )
        title = _texts(body.get("title", slug), f"{key}.title", where)
        sections.append(
            Section(
                slug=slug,
                title=title,
                description=_texts(body.get("description", title), f"{key}.description", where),
                language=_text(body.get("language", "en"), f"{key}.language", where),
                limit=_int(body.get("limit", DEFAULT_LIMIT), f"{key}.limit", 1, 10_000, where),
                max_bytes=_int(
                    body.get("max_bytes", DEFAULT_MAX_BYTES), f"{key}.max_bytes", 4096, 2**30, where
                ),
            )
        )
    return tuple(sections)


def default_config_text() -> str:
    """The commented configuration shipped in the package (`syndicate init` writes it out)."""
    return resources.files("syndicate").joinpath("default.toml").read_text("utf-8")


def load_settings(
    path: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Build settings: file (explicit path, `SYNDICATE_CONFIG`, or `./syndicate.toml`, else the
    built-in default with the demo sections), then env."""
    env = os.environ if environ is None else environ
    data: dict[str, Any] = {}
    config_path = path or env.get("SYNDICATE_CONFIG")
    if config_path is None and Path("syndicate.toml").is_file():
        config_path = "syndicate.toml"
    if config_path is None:
        data = tomllib.loads(default_config_text())
        return settings_from_mapping(data, env, source="the built-in configuration", **overrides)
    try:
        with open(config_path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {config_path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {config_path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{config_path}: {exc}") from None
    return settings_from_mapping(data, env, source=str(config_path), **overrides)


_ENV_KEYS = {
    "SYNDICATE_DATABASE_URL": "database_url",
    "SYNDICATE_FEEDS_DIR": "feeds_dir",
    "SYNDICATE_BASE_URL": "base_url",
    "SYNDICATE_HOST": "host",
    "SYNDICATE_PORT": "port",
    "SYNDICATE_REGEN_INTERVAL": "regen_interval",
    "SYNDICATE_SAFETY_INTERVAL": "safety_interval",
    "SYNDICATE_RUN_SCHEDULER": "run_scheduler",
    "SYNDICATE_WEBSUB_HUB": "websub_hub",
    "SYNDICATE_HEADER_TIMEOUT": "header_timeout",
    "SYNDICATE_IDLE_TIMEOUT": "idle_timeout",
    "SYNDICATE_FEED_MAX_AGE": "feed_max_age",
    "SYNDICATE_PUBLISH_DELAY": "publish_delay",
    "SYNDICATE_ARCHIVE_MAX_AGE": "archive_max_age",
    "SYNDICATE_PUSH_TIMEOUT": "push_timeout",
    "SYNDICATE_RENDER_WORKERS": "render_workers",
    "SYNDICATE_RENDER_CACHE_MB": "render_cache_mb",
    "SYNDICATE_PUSH_DEAD_AFTER": "push_dead_after",
    "SYNDICATE_DESK_IDLE_TIMEOUT": "desk_idle_timeout",
}
_KNOWN = {
    *_ENV_KEYS.values(),
    "site_title",
    "provider",
    "max_request_bytes",
    "partner_page_size",
}
# Upper bounds: past these a value is a typo, and the scheduler's arithmetic overflows.
MAX_REGEN_INTERVAL = 86_400  # a day
MAX_SAFETY_INTERVAL = 7 * 86_400  # a week
MAX_HEADER_TIMEOUT = 300.0
MAX_IDLE_TIMEOUT = 3600.0
# An hour: longer would let a kill linger in caches for longer than anyone would want.
MAX_FEED_MAX_AGE = 3600
# An hour: a longer delay than that is what the timer (`regen_interval`) is for.
MAX_PUBLISH_DELAY = 3600.0
# A week: an unattended desk signed in for longer than that is a risk, not a convenience.
MAX_DESK_IDLE_TIMEOUT = 7 * 86_400.0
# A year: what a cache would keep of a document that never changes anyway.
MAX_ARCHIVE_MAX_AGE = 31_536_000


def settings_from_mapping(
    data: Mapping[str, Any],
    environ: Mapping[str, str] | None = None,
    *,
    source: str = "the settings file",
    **overrides: Any,
) -> Settings:
    """Settings from a parsed TOML mapping (the `[syndicate]` table and `[sections.*]`).

    Every value is checked here, before anything starts; a bad one is a `ConfigError` of one
    line naming the setting, where it came from (`source`, a variable, or the caller) and
    what is allowed.
    """
    table = data.get("syndicate", {})
    if not isinstance(table, dict):
        raise _bad("syndicate", source, f"got {table!r}", "a [syndicate] table")
    unknown_tables = set(data) - {"syndicate", "sections"}
    if unknown_tables:
        raise _bad(
            ", ".join(sorted(unknown_tables)),
            source,
            "unknown table(s)",
            "[syndicate], [sections.*]",
        )
    values: dict[str, Any] = dict(table)
    origin = {name: f"{source} [syndicate]" for name in values}
    for env_key, name in _ENV_KEYS.items():
        if environ and environ.get(env_key) not in (None, ""):
            values[name] = environ[env_key]
            origin[name] = env_key
    values.update(overrides)
    origin.update({name: "the command line" for name in overrides})
    unknown = sorted(set(values) - _KNOWN)
    if unknown:
        problem = f"unknown setting(s) {', '.join(unknown)}"
        raise _bad(
            f"syndicate.{unknown[0]}", origin[unknown[0]], problem, ", ".join(sorted(_KNOWN))
        )
    defaults = Settings()

    def get(name: str) -> tuple[Any, str, str]:
        return values.get(name, getattr(defaults, name)), name, origin.get(name, "the defaults")

    def interval(name: str, maximum: int) -> int:
        return _int(*get(name)[:2], 1, maximum, get(name)[2])

    feeds_dir = get("feeds_dir")
    hub = values.get("websub_hub")
    return Settings(
        database_url=_database_url(*get("database_url")),
        feeds_dir=Path(_text(str(feeds_dir[0]), *feeds_dir[1:])),
        base_url=_http_url(*get("base_url")).rstrip("/"),
        host=_host(*get("host")),
        port=_int(*get("port")[:2], 1, 65_535, get("port")[2]),
        regen_interval=interval("regen_interval", MAX_REGEN_INTERVAL),
        safety_interval=interval("safety_interval", MAX_SAFETY_INTERVAL),
        run_scheduler=_bool(*get("run_scheduler")),
        websub_hub=_http_url(*get("websub_hub")) if hub else None,
        site_title=_text(*get("site_title")),
        provider=_text(*get("provider")),
        max_request_bytes=_int(
            *get("max_request_bytes")[:2], 1024, 2**30, get("max_request_bytes")[2]
        ),
        partner_page_size=_int(
            *get("partner_page_size")[:2], 1, 10_000, get("partner_page_size")[2]
        ),
        header_timeout=_seconds(
            *get("header_timeout")[:2], MAX_HEADER_TIMEOUT, get("header_timeout")[2]
        ),
        idle_timeout=_seconds(*get("idle_timeout")[:2], MAX_IDLE_TIMEOUT, get("idle_timeout")[2]),
        feed_max_age=_int(*get("feed_max_age")[:2], 0, MAX_FEED_MAX_AGE, get("feed_max_age")[2]),
        publish_delay=_seconds(
            *get("publish_delay")[:2], MAX_PUBLISH_DELAY, get("publish_delay")[2], zero_allowed=True
        ),
        archive_max_age=_int(
            *get("archive_max_age")[:2], 0, MAX_ARCHIVE_MAX_AGE, get("archive_max_age")[2]
        ),
        render_workers=None
        if get("render_workers")[0] is None
        else _int(*get("render_workers")[:2], 0, 64, get("render_workers")[2]),
        render_cache_mb=_int(*get("render_cache_mb")[:2], 0, 4096, get("render_cache_mb")[2]),
        push_timeout=_seconds(*get("push_timeout")[:2], 300.0, get("push_timeout")[2]),
        push_dead_after=_seconds(
            *get("push_dead_after")[:2], 30 * 86_400.0, get("push_dead_after")[2]
        ),
        desk_idle_timeout=_seconds(
            *get("desk_idle_timeout")[:2], MAX_DESK_IDLE_TIMEOUT, get("desk_idle_timeout")[2]
        ),
        sections=parse_sections(data.get("sections", {}), source),
        origins=origin,
    )
