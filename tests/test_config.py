"""Settings from TOML data and the environment: overrides, clear errors, redaction."""

from __future__ import annotations

from pathlib import Path

import pytest

from syndicate.core.config import load_settings, settings_from_mapping
from syndicate.core.errors import ConfigError

SECTIONS = {"global": {"title": {"en": "Global", "hi": "वैश्विक"}, "language": "hi"}}


def test_environment_overrides_the_file() -> None:
    data = {"syndicate": {"port": 9000, "regen_interval": 60}, "sections": SECTIONS}
    env = {
        "SYNDICATE_PORT": "9100",
        "SYNDICATE_RUN_SCHEDULER": "0",
        "SYNDICATE_WEBSUB_HUB": "http://hub.example/",
        "SYNDICATE_BASE_URL": "https://news.example/",
    }
    settings = settings_from_mapping(data, env)
    assert settings.port == 9100
    assert settings.regen_interval == 60
    assert settings.run_scheduler is False
    assert settings.websub_hub == "http://hub.example/"
    assert settings.base_url == "https://news.example"  # no trailing slash


@pytest.mark.parametrize(
    ("data", "env", "names"),
    [
        ({"syndicate": {"port": "eighty"}}, {}, "port"),
        ({}, {"SYNDICATE_REGEN_INTERVAL": "0"}, "regen_interval"),
        ({}, {"SYNDICATE_RUN_SCHEDULER": "maybe"}, "run_scheduler"),
        ({"syndicate": {"colour": "blue"}}, {}, "colour"),
        ({"sections": {"Bad Slug": {}}}, {}, "sections.Bad Slug"),
        ({"sections": {"all": {}}}, {}, "sections.all"),
        ({"sections": {"x": {"limit": 0}}}, {}, "sections.x.limit"),
        ({"sections": {"x": {"title": 3}}}, {}, "sections.x.title"),
    ],
)
def test_bad_settings_name_the_key(
    data: dict[str, object], env: dict[str, str], names: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_from_mapping(data, env)
    assert names in caught.value.message


def test_section_texts_fall_back_sensibly() -> None:
    settings = settings_from_mapping({"sections": SECTIONS}, {})
    section = settings.section("global")
    assert section is not None
    assert section.title_in() == "वैश्विक"  # the section's own language
    assert section.title_in("hi-IN") == "वैश्विक"  # a regional tag finds its language
    assert section.title_in("fr") == "Global"  # else English
    assert settings.feed_section("all") is not None
    assert settings.feed_section("nope") is None


def test_redacted_hides_the_database_password() -> None:
    env = {"SYNDICATE_DATABASE_URL": "postgresql://news:s3cret@db.example:5432/news"}
    shown = settings_from_mapping({}, env).redacted()
    assert "s3cret" not in str(shown)
    assert shown["database_url"] == "postgresql://news:***@db.example:5432/news"


def test_load_settings_reads_the_named_file(tmp_path: Path) -> None:
    path = tmp_path / "syndicate.toml"
    path.write_text('[syndicate]\nsite_title = "Desk"\n[sections.sport]\n', encoding="utf-8")
    settings = load_settings(path, environ={})
    assert settings.site_title == "Desk"
    assert settings.section_slugs == ("sport",)


def test_a_missing_or_broken_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.toml", environ={})
    broken = tmp_path / "broken.toml"
    broken.write_text("[syndicate\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"broken\.toml"):
        load_settings(broken, environ={})


def test_timeouts_have_defaults_and_come_from_file_or_environment() -> None:
    defaults = settings_from_mapping({}, {})
    assert (defaults.header_timeout, defaults.idle_timeout) == (10.0, 15.0)
    data = {"syndicate": {"header_timeout": 2, "idle_timeout": 30}}
    from_file = settings_from_mapping(data, {})
    assert (from_file.header_timeout, from_file.idle_timeout) == (2.0, 30.0)
    env = {"SYNDICATE_HEADER_TIMEOUT": "0.5", "SYNDICATE_IDLE_TIMEOUT": "4"}
    from_env = settings_from_mapping(data, env)
    assert (from_env.header_timeout, from_env.idle_timeout) == (0.5, 4.0)
    shown = from_env.redacted()
    assert (shown["header_timeout"], shown["idle_timeout"]) == (0.5, 4.0)


def test_feed_max_age_defaults_to_a_minute_and_comes_from_file_or_environment() -> None:
    assert settings_from_mapping({}, {}).feed_max_age == 60
    data = {"syndicate": {"feed_max_age": 20}}
    assert settings_from_mapping(data, {}).feed_max_age == 20
    from_env = settings_from_mapping(data, {"SYNDICATE_FEED_MAX_AGE": "5"})
    assert from_env.feed_max_age == 5
    assert from_env.redacted()["feed_max_age"] == 5


@pytest.mark.parametrize(
    ("env", "source"),
    [
        ({"SYNDICATE_IDLE_TIMEOUT": "-1"}, "SYNDICATE_IDLE_TIMEOUT"),
        ({"SYNDICATE_HEADER_TIMEOUT": "301"}, "SYNDICATE_HEADER_TIMEOUT"),
        ({"SYNDICATE_PORT": "65536"}, "SYNDICATE_PORT"),
        ({"SYNDICATE_WEBSUB_HUB": "ftp://hub.example/"}, "SYNDICATE_WEBSUB_HUB"),
    ],
)
def test_a_bad_value_names_its_variable(env: dict[str, str], source: str) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_from_mapping({}, env)
    assert f"(from {source})" in caught.value.message
    assert "allowed:" in caught.value.message
    assert "\n" not in caught.value.message


def test_the_sqlite_folder_is_made_at_start_or_named(tmp_path: Path) -> None:
    from syndicate.core.config import sqlite_folder

    good = settings_from_mapping({}, {"SYNDICATE_DATABASE_URL": f"sqlite:///{tmp_path}/a/b/s.db"})
    sqlite_folder(good)
    assert (tmp_path / "a" / "b").is_dir()
    (tmp_path / "file").write_text("", encoding="utf-8")
    bad = settings_from_mapping({}, {"SYNDICATE_DATABASE_URL": f"sqlite:///{tmp_path}/file/s.db"})
    with pytest.raises(ConfigError, match=r"SYNDICATE_DATABASE_URL.*cannot create the folder"):
        sqlite_folder(bad)


def test_publish_delay_defaults_to_two_seconds_and_zero_turns_it_off() -> None:
    assert settings_from_mapping({}, {}).publish_delay == 2.0
    data = {"syndicate": {"publish_delay": 0.5}}
    assert settings_from_mapping(data, {}).publish_delay == 0.5
    from_env = settings_from_mapping(data, {"SYNDICATE_PUBLISH_DELAY": "0"})
    assert from_env.publish_delay == 0.0
    assert from_env.redacted()["publish_delay"] == 0.0


@pytest.mark.parametrize(
    ("data", "env", "source"),
    [
        ({"syndicate": {"publish_delay": -1}}, {}, "the settings file [syndicate]"),
        ({}, {"SYNDICATE_PUBLISH_DELAY": "-0.5"}, "SYNDICATE_PUBLISH_DELAY"),
        ({}, {"SYNDICATE_PUBLISH_DELAY": "soon"}, "SYNDICATE_PUBLISH_DELAY"),
        ({"syndicate": {"publish_delay": 3601}}, {}, "the settings file [syndicate]"),
    ],
)
def test_a_bad_publish_delay_names_the_field(
    data: dict[str, object], env: dict[str, str], source: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_from_mapping(data, env)
    assert caught.value.message.startswith(f"publish_delay (from {source}):")
    assert "allowed: seconds from 0 (off) to 3600" in caught.value.message
