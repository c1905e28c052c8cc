"""Settings from the environment (``MATCHER_*``) or a TOML file (``MATCHER_CONFIG``)."""

from __future__ import annotations

import ipaddress
import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from matcher.db_target import database_name, default_state_root, is_url, state_key

MAX_WEIGHT = 100.0  # a fusion weight is a finite number in [-MAX_WEIGHT, MAX_WEIGHT]


def weight_problem(value: float) -> str | None:
    """Why ``value`` cannot be a fusion weight, or None when it can."""
    if not math.isfinite(value) or abs(value) > MAX_WEIGHT:
        return f"a weight must be a finite number from {-MAX_WEIGHT:g} to {MAX_WEIGHT:g}"
    return None


class Settings(BaseSettings):
    """Everything a deployment can change without touching code."""

    model_config = SettingsConfigDict(
        env_prefix="MATCHER_", env_nested_delimiter="__", extra="ignore"
    )

    db: Path | str = Field(
        Path("exchange.db"), description="the database: a SQLite file (a path), or a "
        "PostgreSQL database (a postgresql:// URL, e.g. postgresql://user:pw@host/delve)")
    state_dir: Path | None = Field(
        None, description="with a PostgreSQL database: the folder of this server's own files "
        "(lock files of its worker processes, the corpus cache); default: a folder per "
        "database under ~/.cache/delve-matcher (or $XDG_CACHE_HOME). A SQLite database keeps "
        "them beside its file")
    embedders: list[str] = Field(
        ["use-multilingual", "minilm", "e5-multilingual"],
        description="embedders whose vectors the engine keeps up to date; the first one also "
        "feeds category inference",
    )
    local_model_dir: Path | None = Field(
        None, description="a local sentence-transformers model directory, registered as 'local'"
    )
    weights: dict[str, dict[str, float]] = Field(
        default_factory=dict, description="fusion weights per kind and scorer, over each "
        "scorer's own default weight (e.g. MATCHER_WEIGHTS__PARTNER__LEXICAL=0.3)")
    learn_min_decisions: int = Field(
        50, ge=1, description="decisions (approvals, rejections, acceptances, outcomes, 'not "
        "interested') of one kind needed before a fusion learned by `matcher train` replaces "
        "that kind's hand weights; below it the hand weights stay")
    max_per_partner: int = Field(2, ge=1, description="most offerings of one partner in a top 10")
    round_per_need: int = Field(2, ge=1, le=20, description="most open proposals per need "
                                "after a match round (`matcher round --per-need`)")
    round_per_teacher: int = Field(3, ge=1, le=100, description="most open peer matches per "
                                   "teaching association that a match round may leave")
    round_shortlist: int = Field(20, ge=1, le=200, description="candidates per need and kind "
                                 "that a match round chooses among")
    scorer_budget_ms: float = Field(250.0, gt=0, description="time one scorer may take per request")
    threads: int = Field(1, ge=1, description="CPU threads for the embedding models")
    scoring_threads: int = Field(
        2, ge=1, le=8, description="threads one suggestion may use for a pass over 20,000 or "
        "more candidates' vectors (1: its own alone); a helper thread that another request "
        "holds is not waited for")
    suggest_slots: int = Field(
        1, ge=1, le=64, description="suggestions the API's suggestion endpoints work out "
        "at once in one process; the others wait their turn. Threads that work at once "
        "contend for Python's GIL: with ten connections on one worker, one at a time served "
        "nearly twice as many per second as a thread per request (bench/load.py)")
    workers: int = Field(1, ge=1, le=64, description="processes serving requests (set by "
                         "`matcher serve --workers`): with more than one, one at a time "
                         "delivers the outbox and embeds missing texts, and each counts failed "
                         "sign-ins against its share of the limit")
    batch_size: int = Field(64, ge=1)
    data_dir: Path | None = Field(None, description="reference data folder (default: bundled)")
    calibration: Path | None = Field(
        None, description="the strength calibration (JSON written by `matcher calibrate`); "
        "default: calibration.json in the data folder, else the bundled one")
    glossary: Path | None = Field(
        None, description="the deployment's own glossary file (JSON, written by `matcher "
        "glossary add`), merged over the bundled ASM glossary; default: DB.glossary.json "
        "beside the database file DB.db, or for a PostgreSQL database NAME.glossary.json in "
        "the working directory (set it for servers: every server over one database should "
        "read the same words)")
    smtp_host: str | None = Field(
        None, description="the mail server notifications are sent through; none: the outbox "
        "holds them and nothing fails")
    smtp_port: int = Field(25, ge=1, le=65535)
    smtp_user: str | None = Field(None, description="sign in to the mail server as this user")
    smtp_password: str | None = Field(None, description="… with this password")
    smtp_starttls: bool = Field(False, description="upgrade the connection with STARTTLS")
    smtp_timeout: float = Field(10.0, gt=0, description="seconds to wait for the mail server")
    mail_from: str = Field("Delve Exchange <noreply@delve.invalid>",
                           description="the From of every e-mail")
    public_url: str = Field("http://127.0.0.1:8000", description="where the pages are "
                            "reached, for the links in e-mails")
    notify_interval: float = Field(2.0, gt=0, description="`matcher serve`: seconds between "
                                   "looks at the outbox")
    reminder_days: int = Field(30, ge=1, description="remind the coordinators of a match "
                               "active this many days without an outcome")
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        [], description="addresses or networks (CIDR) of the reverse proxies whose "
        "X-Forwarded-For / X-Forwarded-Proto are believed; '*' trusts every peer. Default: none, "
        "the connection's peer is the client. Comma-separated or a JSON list.")

    @field_validator("db", mode="before")
    @classmethod
    def _path_or_url(cls, value: Any) -> Any:
        """A URL stays text (a Path would fold its ``//``); anything else is a file path."""
        if isinstance(value, str) and not is_url(value):
            return Path(value)
        return value

    @field_validator("db")
    @classmethod
    def _no_path_url(cls, value: Path | str) -> Path | str:
        if isinstance(value, Path) and str(value).startswith(("postgresql:", "postgres:")):
            raise ValueError("a PostgreSQL URL must be given as text, not as a path")
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            return json.loads(text) if text.startswith("[") else [
                item.strip() for item in text.split(",") if item.strip()]
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _check_proxies(cls, value: list[str]) -> list[str]:
        for item in value:
            if item != "*":
                ipaddress.ip_network(item, strict=False)  # a ValueError names the bad entry
        return value

    @field_validator("weights")
    @classmethod
    def _bounded_weights(cls, weights: dict[str, dict[str, float]]
                         ) -> dict[str, dict[str, float]]:
        for kind, table in weights.items():
            for name, value in table.items():
                problem = weight_problem(value)
                if problem:
                    raise ValueError(f"weights.{kind}.{name}: {problem}")
        return weights

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config = os.environ.get("MATCHER_CONFIG")
        if config:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(config)))
        return tuple(sources)

    @property
    def db_is_url(self) -> bool:
        """Whether the database is PostgreSQL (a URL) rather than a SQLite file."""
        return isinstance(self.db, str)

    def glossary_file(self) -> Path:
        """Where the deployment's own glossary is (it may not exist yet): the setting, else
        beside a SQLite file, else (PostgreSQL) ``NAME.glossary.json`` in the working
        directory."""
        if self.glossary:
            return self.glossary
        if isinstance(self.db, str):
            return Path(database_name(self.db) + ".glossary.json")
        return self.db.with_name(self.db.stem + ".glossary.json")

    def local_files(self) -> Path:
        """The path that this server's own files of the database are named after (lock
        files ``<it>.embed.lock``, the corpus cache ``<it>.corpus``...): a SQLite database's
        file itself (they sit beside it), or for PostgreSQL ``NAME`` in the state folder
        (:attr:`state_dir`, else one per database under the user's cache folder), made
        when missing."""
        if isinstance(self.db, Path):
            return self.db
        folder = self.state_dir or default_state_root() / state_key(self.db)
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        return folder / database_name(self.db)

    def weights_for(self, kind: str, overrides: Mapping[str, float] | None = None,
                    defaults: Mapping[str, float] | None = None) -> dict[str, float]:
        """The weight table for ``kind``: the scorers' own ``defaults``, then these settings,
        then per-request ``overrides``."""
        table = dict(defaults or {})
        table.update(self.weights.get(kind, {}))
        table.update(overrides or {})
        return table


def every_core(settings: Settings) -> Settings:
    """``settings`` for a batch of embedding (``import``, ``eval``, ``calibrate``, the demo's
    import): the models use every core unless ``MATCHER_THREADS`` says otherwise. A server
    keeps one thread (the default), leaving the other cores to requests."""
    if "threads" in settings.model_fields_set:
        return settings
    return settings.model_copy(update={"threads": os.cpu_count() or 1})


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment and config file, with explicit ``overrides`` on top."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
