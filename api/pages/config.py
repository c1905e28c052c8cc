"""Settings of the web pages, from the environment (``MATCHER_WEB_*``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class WebSettings(BaseSettings):
    """What a deployment may change about the pages' cookies and sessions."""

    model_config = SettingsConfigDict(env_prefix="MATCHER_WEB_", extra="ignore")

    secure_cookies: bool = Field(
        False, description="send cookies only over HTTPS (set it when served behind TLS)")
    session_hours: float = Field(12.0, gt=0, description="a signed-in session lasts this long")
    max_form_bytes: int = Field(16_384, gt=0, description="largest form body a page accepts")
