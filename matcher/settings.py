"""Settings from the environment (``MATCHER_*``) or a TOML file (``MATCHER_CONFIG``)."""

from __future__ import annotations

import ipaddress
import json
import os
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

# Default fusion weights, one table per kind, chosen by measurement on the development
# benchmark (see README, "Choosing the defaults"). A scorer missing here has weight 0.
DEFAULT_WEIGHTS: dict[str, dict[str, float]] = {
    "partner": {
        "semantic": 1.0,
        "semantic_minilm": 0.5,
        "lexical": 0.5,
        "category": 2.0,
        "language": 0.0,
        "commodity": 0.0,
    },
    "peer": {
        "semantic": 1.0,
        "semantic_minilm": 0.3,
        "lexical": 0.1,
        "category": 2.0,
        "language": 0.0,
        "commodity": 0.0,
        "geography": 0.2,
    },
}


class Settings(BaseSettings):
    """Everything a deployment can change without touching code."""

    model_config = SettingsConfigDict(
        env_prefix="MATCHER_", env_nested_delimiter="__", extra="ignore"
    )

    db: Path = Field(Path("exchange.db"), description="SQLite database file")
    embedders: list[str] = Field(
        ["use-multilingual", "minilm"],
        description="embedders whose vectors the engine keeps up to date; the first one also "
        "feeds category inference",
    )
    local_model_dir: Path | None = Field(
        None, description="a local sentence-transformers model directory, registered as 'local'"
    )
    weights: dict[str, dict[str, float]] = Field(default_factory=lambda: {
        kind: dict(table) for kind, table in DEFAULT_WEIGHTS.items()
    })
    max_per_partner: int = Field(2, ge=1, description="most offerings of one partner in a top 10")
    scorer_budget_ms: float = Field(250.0, gt=0, description="time one scorer may take per request")
    threads: int = Field(1, ge=1, description="CPU threads for the embedding models")
    batch_size: int = Field(64, ge=1)
    data_dir: Path | None = Field(None, description="reference data folder (default: bundled)")
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        [], description="addresses or networks (CIDR) of the reverse proxies whose "
        "X-Forwarded-For / X-Forwarded-Proto are believed; '*' trusts every peer. Default: none, "
        "the connection's peer is the client. Comma-separated or a JSON list.")

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

    def weights_for(self, kind: str, overrides: dict[str, float] | None = None) -> dict[str, float]:
        """The weight table for ``kind`` with per-request ``overrides`` applied."""
        table = dict(DEFAULT_WEIGHTS.get(kind, {}))
        table.update(self.weights.get(kind, {}))
        table.update(overrides or {})
        return table


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment and config file, with explicit ``overrides`` on top."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
