"""Settings: one frozen object built from `syndicate.toml` plus `SYNDICATE_*` variables.

Nothing here reads the environment at import time; callers pass `environ` (tests pass a dict).
Here: the `Settings` fields and how they are read (file, environment, checks, in that order);
`config.checks` has the value checks, `config.sections` the `[sections.*]` tables.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from syndicate.core.config.checks import (
    _bad,
    _bool,
    _database_url,
    _host,
    _http_url,
    _int,
    _seconds,
    _text,
    redact_url,
)
from syndicate.core.config.sections import (
    ALL_SECTION,
    DEFAULT_LIMIT,
    DEFAULT_MAX_BYTES,
    RESERVED_SLUGS,
    SLUG_RE,
    Section,
    parse_sections,
)
from syndicate.core.errors import ConfigError

__all__ = [
    "ALL_SECTION",
    "DEFAULT_LIMIT",
    "DEFAULT_MAX_BYTES",
    "RESERVED_SLUGS",
    "SLUG_RE",
    "Section",
    "Settings",
    "default_config_text",
    "load_settings",
    "parse_sections",
    "redact_url",
    "settings_from_mapping",
    "sqlite_folder",
]


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
