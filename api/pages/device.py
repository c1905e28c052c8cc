"""The device cookie: proof that this browser once signed in as a user, so that an attack on
that user's account (see api.throttle) does not lock her out of her own browser.

The cookie holds a random device id and an HMAC binding it to the username; nothing is stored.
It is given at every successful password sign-in and outlives sign-out.
"""

from __future__ import annotations

import hmac
import secrets

from api.pages.session import WebContext, web_mac
from matcher.principals import normalise_username

DEVICE_COOKIE = "dm_device"
DEVICE_COOKIE_SECONDS = 180 * 24 * 3600


def _mac(ctx: WebContext, device_id: str, username: str) -> str:
    message = f"device:{normalise_username(username)}:{device_id}".encode()
    return web_mac(ctx.engine, ctx.request, message)


def device_id(ctx: WebContext, username: str) -> str | None:
    """The browser's device id if its cookie was given for ``username``, else None."""
    device, _, mac = ctx.request.cookies.get(DEVICE_COOKIE, "").partition(".")
    if not device or len(device) > 64 or not mac:
        return None
    return device if hmac.compare_digest(mac, _mac(ctx, device, username)) else None


def give_device_cookie(ctx: WebContext, username: str) -> None:
    device = secrets.token_urlsafe(16)
    ctx.set_cookies[DEVICE_COOKIE] = (f"{device}.{_mac(ctx, device, username)}",
                                      DEVICE_COOKIE_SECONDS)
