"""Settings of the web pages, from the environment (``MATCHER_WEB_*``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# A form's body fits the largest valid input: a need's or offering's text of 10,000 characters
# (matcher.exchange.MAX_TEXT) takes up to 12 bytes a character once URL-encoded (a 4-byte UTF-8
# character is %XX four times), about 120 KB, beside the other fields; well under the app's
# 1 MiB body cap (api.limits).
MAX_FORM_BYTES = 256 * 1024


class WebSettings(BaseSettings):
    """What a deployment may change about the pages' cookies and sessions."""

    model_config = SettingsConfigDict(env_prefix="MATCHER_WEB_", extra="ignore")

    secure_cookies: bool = Field(
        False, description="send cookies only over HTTPS (set it when served behind TLS)")
    session_hours: float = Field(12.0, gt=0, description="a signed-in session lasts this long")
    max_form_bytes: int = Field(MAX_FORM_BYTES, gt=0,
                                description="largest form body a page accepts")
