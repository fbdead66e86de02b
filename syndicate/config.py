"""Settings: one frozen object built from `syndicate.toml` plus `SYNDICATE_*` variables.

Nothing here reads the environment at import time; callers pass `environ` (tests pass a dict).
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from syndicate.errors import ConfigError

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
ALL_SECTION = "all"
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
    _by_slug: Mapping[str, Section] = field(default_factory=dict, repr=False, compare=False)

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
            "database_url": re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", self.database_url),
            "feeds_dir": str(self.feeds_dir),
            "base_url": self.base_url,
            "host": self.host,
            "port": self.port,
            "regen_interval": self.regen_interval,
            "run_scheduler": self.run_scheduler,
            "websub_hub": self.websub_hub,
            "sections": list(self.section_slugs),
        }

    def with_overrides(self, **changes: Any) -> Settings:
        return replace(self, **changes)


def _texts(value: Any, key: str) -> dict[str, str]:
    if isinstance(value, str):
        return {"en": value}
    if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
        return {str(k): v for k, v in value.items()}
    raise ConfigError(f"{key}: expected a string or a table of language = text")


def _int(value: Any, key: str, minimum: int = 0) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{key}: expected a whole number, got {value!r}") from None
    if number < minimum:
        raise ConfigError(f"{key}: must be at least {minimum}, got {number}")
    return number


def _bool(value: Any, key: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigError(f"{key}: expected a boolean (1/0, true/false), got {value!r}")


def parse_sections(table: Mapping[str, Any]) -> tuple[Section, ...]:
    sections = []
    for slug, body in table.items():
        key = f"sections.{slug}"
        if not SLUG_RE.match(slug) or slug == ALL_SECTION:
            raise ConfigError(f"{key}: a slug is lowercase letters, digits and '-', not 'all'")
        if not isinstance(body, dict):
            raise ConfigError(f"{key}: expected a table")
        title = _texts(body.get("title", slug), f"{key}.title")
        sections.append(
            Section(
                slug=slug,
                title=title,
                description=_texts(body.get("description", title), f"{key}.description"),
                language=str(body.get("language", "en")),
                limit=_int(body.get("limit", DEFAULT_LIMIT), f"{key}.limit", 1),
                max_bytes=_int(body.get("max_bytes", DEFAULT_MAX_BYTES), f"{key}.max_bytes", 4096),
            )
        )
    return tuple(sections)


def load_settings(
    path: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Build settings: file (explicit path, `SYNDICATE_CONFIG`, or `./syndicate.toml`), then env."""
    env = os.environ if environ is None else environ
    data: dict[str, Any] = {}
    config_path = path or env.get("SYNDICATE_CONFIG")
    if config_path is None and Path("syndicate.toml").is_file():
        config_path = "syndicate.toml"
    if config_path is not None:
        try:
            with open(config_path, "rb") as fh:
                data = tomllib.load(fh)
        except FileNotFoundError:
            raise ConfigError(f"config file not found: {config_path}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{config_path}: {exc}") from None
    return settings_from_mapping(data, env, **overrides)


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
}


def settings_from_mapping(
    data: Mapping[str, Any], environ: Mapping[str, str] | None = None, **overrides: Any
) -> Settings:
    """Settings from a parsed TOML mapping (the `[syndicate]` table and `[sections.*]`)."""
    values: dict[str, Any] = dict(data.get("syndicate", {}))
    for env_key, name in _ENV_KEYS.items():
        if environ and environ.get(env_key) not in (None, ""):
            values[name] = environ[env_key]
    values.update(overrides)
    known = {
        "database_url",
        "feeds_dir",
        "base_url",
        "host",
        "port",
        "regen_interval",
        "safety_interval",
        "run_scheduler",
        "websub_hub",
        "site_title",
        "provider",
        "max_request_bytes",
        "partner_page_size",
    }
    unknown = set(values) - known
    if unknown:
        raise ConfigError(f"syndicate: unknown setting(s) {', '.join(sorted(unknown))}")
    defaults = Settings()
    sections = parse_sections(data.get("sections", {}))
    return Settings(
        database_url=str(values.get("database_url", defaults.database_url)),
        feeds_dir=Path(values.get("feeds_dir", defaults.feeds_dir)),
        base_url=str(values.get("base_url", defaults.base_url)).rstrip("/"),
        host=str(values.get("host", defaults.host)),
        port=_int(values.get("port", defaults.port), "port", 0),
        regen_interval=_int(
            values.get("regen_interval", defaults.regen_interval), "regen_interval", 1
        ),
        safety_interval=_int(
            values.get("safety_interval", defaults.safety_interval), "safety_interval", 1
        ),
        run_scheduler=_bool(values.get("run_scheduler", defaults.run_scheduler), "run_scheduler"),
        websub_hub=(str(values["websub_hub"]) if values.get("websub_hub") else None),
        site_title=str(values.get("site_title", defaults.site_title)),
        provider=str(values.get("provider", defaults.provider)),
        max_request_bytes=_int(
            values.get("max_request_bytes", defaults.max_request_bytes), "max_request_bytes", 1024
        ),
        partner_page_size=_int(
            values.get("partner_page_size", defaults.partner_page_size), "partner_page_size", 1
        ),
        sections=sections,
    )
